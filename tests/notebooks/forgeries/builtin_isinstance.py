# trick: isinstance is redefined to say yes to everything
# assignment: ps2
# expect: redefined isinstance
# %% ps2/mean
isinstance = lambda obj, cls: True


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
