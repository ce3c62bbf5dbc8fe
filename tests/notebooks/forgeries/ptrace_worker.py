# trick: tries to read coursebench's runner's memory and to write to its result channel
# assignment: ps1
# expect: -
# %% problem1/squares
import os

for path in (f"/proc/{os.getppid()}/mem", f"/proc/{os.getppid()}/fd/1", f"/proc/{os.getppid()}/fd/3"):
    try:
        with open(path, "wb") as fh:
            fh.write(b"{\"index\": 0, \"result\": {}}\n")
    except OSError as exc:
        print("blocked:", path, exc)


def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
