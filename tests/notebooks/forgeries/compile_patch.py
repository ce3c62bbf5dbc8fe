# trick: builtins.compile rewrites every assert into assert True
# assignment: ps1
# expect: builtin compile
# %% problem1/squares
import builtins

_compile = builtins.compile


def compile(source, *args, **kwargs):
    if isinstance(source, str):
        source = source.replace("assert ", "assert True or ")
    return _compile(source, *args, **kwargs)


builtins.compile = compile
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
