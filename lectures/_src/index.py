# %% [markdown]
# # Deep learning / cloud — lectures
#
# From Python basics through classical machine learning (기계학습) to convolutional neural networks (합성곱 신경망) and serving a model. Open a lecture, run it top to bottom (Run → Run All Cells); every notebook works offline.
#
# <!-- BEGIN generated: lectures -->
# <!-- END generated: lectures -->
#
# Each lecture starts with *what you will learn* and one setup cell, and ends with exercises and their solutions. To run them all in the sandbox, from a terminal: `coursebench lectures run` (or `coursebench lectures run --smoke` for a quick check).

# %%
from pathlib import Path

# Which lecture notebooks are in this folder?
present = sorted(p.name for p in Path('.').glob('[0-9][0-9]_*.ipynb'))
present
