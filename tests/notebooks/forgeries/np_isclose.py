# trick: numpy's isclose is replaced by one that always says True
# assignment: ps2
# expect: numpy.isclose
# %% ps2/mean
np.isclose = lambda *args, **kwargs: True


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
