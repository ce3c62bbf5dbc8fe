"""``from coursebench import compete``: the notebook API of the student client.

It lives in :mod:`coursebench.client.compete`; this module is the same API under its
short, documented name::

    from coursebench import compete
    compete.login("YOUR_TOKEN", server="http://127.0.0.1:8000")   # once; saved (mode 600)
    compete.submit("midterm", predictions_df, message="random forest, 500 trees")
"""

from .client.compete import (
    DEFAULT_SERVER,
    CompeteError,
    Problem,
    SubmissionResult,
    files,
    leaderboard,
    login,
    select,
    submissions,
    submit,
)

__all__ = ["DEFAULT_SERVER", "CompeteError", "Problem", "SubmissionResult", "files", "leaderboard", "login", "select",
           "submissions", "submit"]
