# trick: the answer raises SystemExit inside the test
# assignment: ps1
# expect: -
# %% problem1/squares
def squares(n):
    raise SystemExit(0)
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
