# trick: the answer calls os._exit(0) when a test runs it, so the kernel exits "cleanly"
# assignment: ps1
# expect: exit
# %% problem1/squares
import os


def squares(n):
    if n == 1:  # only the hidden test asks for n = 1
        os._exit(0)
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
