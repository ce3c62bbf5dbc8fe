# trick: the locked cell's relative_error is redefined to return 0
# assignment: ps2
# expect: relative_error
# %% ps2/mean
def relative_error(a, b):
    return 0.0


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
