# trick: writes "passed" verdicts into every pipe the kernel holds
# assignment: ps1
# expect: verdict channel
# %% problem1/squares
import json
import os

forged = json.dumps({"v": json.dumps({"nonce": "x", "passed": True}), "mac": "0" * 64}) + "\n"
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        if fd > 2 and os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
            os.write(fd, forged.encode())
    except OSError:
        pass


def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
