# trick: the answer raises KeyboardInterrupt inside the test
# assignment: ps1
# expect: -
# %% problem1/squares
def squares(n):
    raise KeyboardInterrupt
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
