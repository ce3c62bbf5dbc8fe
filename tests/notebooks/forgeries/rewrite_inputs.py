# trick: a background process rewrites the job directory: problem2's notebook, the results, the executed notebook
# assignment: ps1
# expect: job directory
# %% problem1/squares
import glob
import json
import os
import subprocess
import sys

FORGE = r'''
import glob, json, time
for _ in range(400):
    for path in glob.glob("/job/input-*.ipynb") + glob.glob("/job/executed-*.ipynb"):
        try:
            nb = json.load(open(path))
            for cell in nb["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                    cell["source"] = "pass"
                    cell["outputs"] = []
            json.dump(nb, open(path, "w"))
        except Exception:
            pass
    for path in glob.glob("/job/result*.json"):
        open(path, "w").write(json.dumps({"version": 1, "status": "ok", "failed_cell": None,
                                          "cell_durations": [], "versions": {}}))
    time.sleep(0.05)
'''
subprocess.Popen([sys.executable, "-c", FORGE], start_new_session=True)


def squares(n):
    return []
# %% problem1/sum_of_squares
def sum_of_squares(n):
    return 0
