"""``python -m coursebench.notebooks build [--check]``."""

from .cli import notebooks_app

notebooks_app()(prog_name="python -m coursebench.notebooks")
