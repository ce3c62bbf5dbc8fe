"""The leaderboard's API: what the CLI, the web app, the demo and the benchmarks call.

Everything goes through :class:`Service` (:mod:`.facade`), a thin facade over one
resource per module, each given its collaborators (database, clock, the competition
registry, ...) explicitly:

=================  ==========================================================================
module             resource
=================  ==========================================================================
``participants``   participants and their tokens; authentication
``competitions``   the competition registry: specs on disk, registered rows, datasets (the
                   full one for scorers; the public view, without data/private, for the web)
``quotas``         daily limits, reserved in the transaction that stores a submission
``submissions``    taking submissions in (validated, stored) and showing them to a viewer
``lifecycle``      scoring a stored submission: claim → evaluate → finish; the Ladder
``rescoring``      stored results derived again: rescore, the replicates of older submissions
``standings``      public/private leaderboards, the shake-up, the instructor's export (from
                   the database alone: scores and the scorers' bootstrap replicates)
``selection``      final selections and closing a competition
``teams``          naming, invitations, mergers, leaving
``blobs``          how predictions, replicates and notebooks are stored
=================  ==========================================================================

Services return plain dataclasses (``*View``) that carry only what the caller may see,
and raise :class:`~leaderboard.errors.LeaderboardError` subclasses with structured
fields.  They never print.

Submissions follow one life cycle, durable at every step::

    submit_*  → validated (invalid: SubmissionInvalid, nothing stored or counted)
              → one transaction: quota slot reserved + row 'pending' + predictions/notebook stored
    process   → claim ('running' with a lease) → evaluate (outside any transaction)
              → one transaction: scores stored, 'complete' | 'failed'
    crash     → the row stays 'pending'/'running'; ``score_pending`` picks it up again
              (a 'running' row once its lease has expired)
"""

from __future__ import annotations

from ..views import CompetitionView, ParticipantView, QuotaView, SubmissionView
from .facade import Service
from .lifecycle import MAX_ATTEMPTS
from .participants import hash_token
from .teams import TeamView

__all__ = [
    "MAX_ATTEMPTS",
    "CompetitionView",
    "ParticipantView",
    "QuotaView",
    "Service",
    "SubmissionView",
    "TeamView",
    "hash_token",
]
