"""The student client: what a student's notebook or terminal uses to talk to a course server.

It speaks HTTP to the server's REST API and nothing else: no database, no course files,
no private data.  It depends on the standard library and an HTTP client (httpx) only —
import-linter's contracts (``.importlinter``) and a test that imports it in a fresh
interpreter keep it so.

- :mod:`~coursebench.client.compete` — the notebook API (also ``from coursebench import compete``):
  ``login``, ``submit``, ``submissions``, ``leaderboard``, ``files``, ``select`` (DataFrames, result cards);
- :mod:`~coursebench.client.competitions` — the course's competitions, your quota, the public files
  (streamed downloads checked by SHA-256);
- :mod:`~coursebench.client.submitting` — upload (streamed from disk), wait for the score (201, or
  202 then polling with backoff; a progress callback), your submissions, your final selection;
- :mod:`~coursebench.client.boards` — the public or private leaderboard;
- :mod:`~coursebench.client.teams` — your team: name, invite, join, leave;
- :mod:`~coursebench.client.login` — check a token, save the server and token (drops a stale database URL);
- :mod:`~coursebench.client.credentials` — the saved login (``~/.config/coursebench/credentials.json``, mode 600);
- :mod:`~coursebench.client.http` — which server and token, one request, readable errors;
- :mod:`~coursebench.client.results` — answers as objects Jupyter shows well.
"""

from .compete import files, leaderboard, login, select, submissions, submit
from .http import CompeteError
from .results import Problem, SubmissionResult

__all__ = ["CompeteError", "Problem", "SubmissionResult", "files", "leaderboard", "login", "select", "submissions",
           "submit"]
