# trick: a cleanup transformer drops the assert lines of every cell
# assignment: ps1
# expect: input_transformers_cleanup
# %% problem1/squares
get_ipython().input_transformers_cleanup.append(
    lambda lines: [l for l in lines if not l.lstrip().startswith(("assert", "raise"))])
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
