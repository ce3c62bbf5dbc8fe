# trick: the kernel answers "ok" to every later cell without running it
# assignment: ps1
# expect: reaching the grader
# %% problem1/squares
kernel = get_ipython().kernel
calls = []


async def execute_request(stream, ident, parent):
    calls.append(1)
    if len(calls) == 1:
        return await _original(stream, ident, parent)
    kernel._publish_status("busy", "shell", parent)
    kernel.execution_count += 1
    content = {"status": "ok", "execution_count": kernel.execution_count, "user_expressions": {}, "payload": []}
    kernel.session.send(stream, "execute_reply", content, parent, ident=ident)
    kernel._publish_status("idle", "shell", parent)


_original = kernel.shell_handlers["execute_request"]
kernel.shell_handlers["execute_request"] = execute_request
def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
