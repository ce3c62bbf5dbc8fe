# trick: a trace function jumps over every assert line
# assignment: ps1
# expect: trace function
# %% problem1/squares
import linecache
import sys


def skip_asserts(frame, event, arg):
    if event == "call" and not frame.f_code.co_filename.startswith("/tmp/ipykernel"):
        return None  # only the notebook's own cells
    if event == "line":
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        if line.startswith("assert"):
            try:
                frame.f_lineno = frame.f_lineno + 1
            except ValueError:
                pass
    return skip_asserts


sys.settrace(skip_asserts)
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
