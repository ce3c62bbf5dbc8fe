# trick: after every cell, its outputs (the test errors) are cleared
# assignment: ps1
# expect: post_run_cell
# %% problem1/squares
from IPython.display import clear_output

get_ipython().events.register("post_run_cell", lambda result: clear_output())
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
