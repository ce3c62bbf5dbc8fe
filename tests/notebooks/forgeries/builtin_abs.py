# trick: abs is redefined to return 0, so |wrong - right| < tol always holds
# assignment: ps2
# expect: redefined abs
# %% ps2/mean
abs = lambda x: 0


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
