"""``python -m coursebench.images ...``"""

from .cli import cli

cli(prog_name="python -m coursebench.images")
