# trick: the answer raises an exception whose _render_traceback_ clears the cell's output (IPython calls it again after the error is shown)
# assignment: ps1
# expect: _render_traceback_
# %% problem1/squares
from IPython.display import clear_output


class Quiet(Exception):
    def _render_traceback_(self):
        clear_output()
        return []


def squares(n):
    raise Quiet()
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
