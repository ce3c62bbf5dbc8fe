# trick: sys.excepthook replaced by one that prints nothing (IPython puts its own back after every cell, so this never hides a cell's error)
# assignment: ps1
# expect: -
# %% problem1/squares
import sys

sys.excepthook = lambda *args: None
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
