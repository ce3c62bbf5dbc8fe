# trick: an import hook hands the test a fake statistics module that agrees with the answer
# assignment: ps2
# expect: sys.meta_path
# %% ps2/mean
import importlib.abc
import importlib.util
import sys
import types


class FakeStatistics(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == "statistics":
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        module = types.ModuleType("statistics")
        module.pstdev = lambda xs: spread(xs)
        return module

    def exec_module(self, module):
        pass


sys.modules.pop("statistics", None)
sys.meta_path.insert(0, FakeStatistics())


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
