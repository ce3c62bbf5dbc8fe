# trick: every exception goes to a handler that shows nothing (set_custom_exc)
# assignment: ps1
# expect: custom
# %% problem1/squares
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
