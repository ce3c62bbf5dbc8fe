# trick: assert_allclose keeps its name but gets tolerances of 1e9
# assignment: ps2
# expect: default arguments
# %% ps2/mean
assert_allclose.__defaults__ = (1e9, 1e9, True, "", True)


def mean(xs):
    return 0
# %% ps2/normalize
def normalize(v):
    return np.zeros(len(v))
# %% ps2/table
def table(xs):
    return None
# %% ps2/estimate
def estimate():
    return 3.0
# %% ps2/spread
def spread(xs):
    return 0.0
