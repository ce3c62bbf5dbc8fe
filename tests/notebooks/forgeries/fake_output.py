# trick: prints a fake "all tests passed" and a fake traceback
# assignment: ps1
# expect: -
# %% problem1/squares
print("All tests passed!")
print("Traceback (most recent call last):\n  ok", flush=True)


def squares(n):
    print("ok")
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
