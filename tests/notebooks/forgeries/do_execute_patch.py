# trick: the kernel's do_execute runs "pass" for any cell that asserts
# assignment: ps1
# expect: do_execute
# %% problem1/squares
kernel = get_ipython().kernel
_do_execute = kernel.do_execute


async def do_execute(code, *args, **kwargs):
    return await _do_execute("pass" if "assert" in code else code, *args, **kwargs)


kernel.do_execute = do_execute
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
