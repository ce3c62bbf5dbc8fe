# trick: pandas' assert_frame_equal is replaced by one that never complains
# assignment: ps2
# expect: assert_frame_equal
# %% ps2/mean
pd.testing.assert_frame_equal = lambda *args, **kwargs: None


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
