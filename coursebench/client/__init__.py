"""The student client: what a student's notebook or terminal uses to talk to a course server.

It speaks HTTP to the server's REST API and nothing else: no database, no course files,
no private data.  It depends on the standard library and an HTTP client (httpx) only —
import-linter's contracts (``.importlinter``) and a test that imports it in a fresh
interpreter keep it so.

- :mod:`~coursebench.client.compete` — the notebook API (also ``from coursebench import compete``):
  ``login``, ``submit``, ``submissions``, ``leaderboard``;
- :mod:`~coursebench.client.credentials` — the saved login (``~/.config/coursebench/credentials.json``, mode 600);
- :mod:`~coursebench.client.http` — which server and token, one request, readable errors;
- :mod:`~coursebench.client.results` — answers as objects Jupyter shows well.
"""

from .compete import leaderboard, login, submissions, submit
from .http import CompeteError
from .results import Problem, SubmissionResult

__all__ = ["CompeteError", "Problem", "SubmissionResult", "leaderboard", "login", "submissions", "submit"]
