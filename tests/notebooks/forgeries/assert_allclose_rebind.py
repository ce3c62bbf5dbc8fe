# trick: the assert_allclose the locked cell imported is redefined to do nothing
# assignment: ps2
# expect: assert_allclose
# %% ps2/mean
def assert_allclose(*args, **kwargs):
    pass


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
