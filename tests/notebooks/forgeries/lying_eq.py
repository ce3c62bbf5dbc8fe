# trick: the answer returns a list whose == always says True
# assignment: ps1
# expect: __eq__
# %% problem1/squares
class AlwaysEqual(list):
    def __eq__(self, other):
        return True


def squares(n):
    return AlwaysEqual()
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
