# trick: the answer cell hangs the kernel, so no test ever runs
# assignment: ps1
# expect: -
# %% problem1/squares
import time


def squares(n):
    return []


time.sleep(3600)
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
