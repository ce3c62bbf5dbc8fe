# trick: IPython's run_cell/run_cell_async run "pass" instead of any cell with an assert
# assignment: ps1
# expect: run_cell
# %% problem1/squares
ip = get_ipython()
_run_cell, _run_cell_async = ip.run_cell, ip.run_cell_async


def run_cell(raw_cell, *args, **kwargs):
    return _run_cell("pass" if "assert" in raw_cell else raw_cell, *args, **kwargs)


async def run_cell_async(raw_cell, *args, **kwargs):
    if "assert" in raw_cell:
        raw_cell = kwargs["transformed_cell"] = "pass\n"
    return await _run_cell_async(raw_cell, *args, **kwargs)


ip.run_cell, ip.run_cell_async = run_cell, run_cell_async
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
