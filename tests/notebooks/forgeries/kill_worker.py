# trick: the kernel kills its parent, coursebench's runner, so no verdict arrives
# assignment: ps1
# expect: without sending its answer
# %% problem1/squares
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
