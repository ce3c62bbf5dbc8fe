# trick: errors of later cells are not shown: IPython's showtraceback replaced
# assignment: ps1
# expect: showtraceback
# %% problem1/squares
get_ipython().showtraceback = lambda *args, **kwargs: None
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
