"""The services layer on real SQLite and a real PostgreSQL server: submissions, quotas
under concurrency, deadlines by a movable clock, leaderboards, selections, shake-up,
the Ladder, teams, crash recovery, and the Alembic schema."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from leaderboard.errors import (
    CompetitionClosed,
    CompetitionOpen,
    NotAuthenticated,
    QuotaExceeded,
    SelectionError,
    SubmissionInvalid,
    TeamError,
)
from leaderboard.models import Blob, Submission
from leaderboard.services import Service

from .conftest import DEADLINE, make_competition


def predictions(svc: Service, quality: float, seed: int = 0) -> bytes:
    """Probabilities: a fraction ``quality`` of rows nearly right, the rest noise
    (ROC AUC ≈ quality + (1 - quality) / 2)."""
    ds = svc.dataset("demo")
    rng = np.random.default_rng(seed)
    truth = (ds.truth == ds.positive_code).astype(float)
    informed = rng.random(len(truth)) < quality
    p = np.where(informed, 0.1 + 0.8 * truth + rng.normal(0, 0.05, len(truth)), rng.random(len(truth)))
    p = np.clip(p, 0, 1)
    return pd.DataFrame({"id": ds.ids, "y": p.round(6)}).to_csv(index=False).encode()


def raw_public_scores(svc: Service) -> dict[int, float]:
    """The public scores as computed (what the Ladder decides on), by submission id."""
    with svc.db.read() as s:
        return dict(s.execute(select(Submission.id, Submission.public_score)).all())


def student(svc: Service, name: str):
    return svc.authenticate(svc.add_participant(name))


def test_submit_score_and_nothing_stored_for_invalid(svc):
    alice = student(svc, "alice")
    with pytest.raises(NotAuthenticated):
        svc.authenticate("not-a-token")
    view = svc.submit_file("demo", alice, predictions(svc, 0.6), message="first", filename="a.csv")
    assert view.status == "complete" and view.counted and 0.6 < view.public_score <= 1
    assert view.public_ci[0] <= view.public_score <= view.public_ci[1]
    assert view.private_score is None  # hidden from the student before the deadline
    assert svc.submission(view.id).private_score is not None  # the instructor sees it
    assert view.dataset_version == svc.competition("demo").dataset_version
    with pytest.raises(SubmissionInvalid, match="not a test id"):
        svc.submit_file("demo", alice, b"id,y\n1,0.5\n", filename="bad.csv")
    with svc.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
    assert svc.quota("demo", alice).used == 1


def test_quota_is_exact_under_100_concurrent_submissions(svc):
    bob = student(svc, "bob")
    data = predictions(svc, 0.5)
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def one() -> None:
        barrier.wait()
        try:
            svc.submit_file("demo", bob, data, filename="s.csv", score_now=False)
            result = "ok"
        except QuotaExceeded:
            result = "quota"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=one) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 5 and outcomes.count("quota") == 95
    assert svc.counted_submissions("demo") == 5
    assert svc.quota("demo", bob).used == 5
    # the stored ones are pending until scored (as after a crash), then all complete
    assert len(svc.score_pending("demo")) == 5
    assert {v.status for v in svc.submissions("demo", bob)} == {"complete"}
    # tomorrow the limit resets
    svc.clock.advance(days=1)
    assert svc.submit_file("demo", bob, data, filename="s.csv").status == "complete"


def test_leaderboard_ties_selection_deadline_private_and_shakeup(svc):
    people = {name: student(svc, name) for name in ("ann", "ben", "cat", "dan")}
    quality = {"ann": 0.9, "ben": 0.9, "cat": 0.6, "dan": 0.0}
    ids = {}
    for i, (name, who) in enumerate(people.items()):
        ids[name] = svc.submit_file("demo", who, predictions(svc, quality[name], seed=i), filename="p.csv").id
        svc.clock.advance(minutes=1)
    weak = svc.submit_file("demo", people["ann"], predictions(svc, 0.1, seed=9), filename="w.csv")
    board = svc.leaderboard("demo")
    assert [r.team for r in board.rows][:2] == sorted(["ann", "ben"], key=lambda n: -board.row_of(n).score)
    assert board.row_of("ann").submission_id == ids["ann"]  # best public, not the latest
    assert board.row_of("ann").entries == 2
    scores = [r.score for r in board.rows]
    assert scores == sorted(scores, reverse=True)
    assert board.rows[1].tied_with_above  # ann and ben: same quality, statistically tied
    assert not board.row_of("dan").tied_with_above
    with pytest.raises(CompetitionOpen):
        svc.leaderboard("demo", private=True, viewer=people["ann"])
    with pytest.raises(SelectionError, match="at most 2"):
        svc.select("demo", people["ann"], [ids["ann"], weak.id, 1234])
    with pytest.raises(SelectionError, match="not one of your team's"):
        svc.select("demo", people["ann"], [ids["ben"]])
    svc.select("demo", people["ann"], [weak.id])  # ann picks her weak one
    with pytest.raises(CompetitionOpen):
        svc.close("demo")
    svc.clock.set(DEADLINE + dt.timedelta(minutes=1))
    with pytest.raises(CompetitionClosed):
        svc.submit_file("demo", people["ben"], predictions(svc, 0.9), filename="late.csv")
    private = svc.close("demo")
    assert private.private and private.row_of("ann").submission_id == weak.id
    assert private.row_of("ben").submission_id == ids["ben"]  # no selection: best public
    assert private.rows[-1].team in ("ann", "dan")
    assert svc.submissions("demo", people["cat"])[0].private_score is not None  # visible after the deadline
    shake = svc.shakeup("demo", viewer=people["cat"])
    assert len(shake.rows) == 4 and -1 <= shake.kendall_tau < 1
    assert sum(r.change for r in shake.rows) == 0
    exported = svc.export("demo")
    assert [r["participant"] for r in exported] == ["ann", "ben", "cat", "dan"]
    assert {r["private_rank"] for r in exported} == {1, 2, 3, 4}


def test_ladder_releases_only_real_improvements(db_url, tmp_path, clock):
    comps = tmp_path / "lad"
    make_competition(comps, "demo", extra='release = "ladder"\n')
    svc = Service(db_url, comps, clock=clock)
    svc.prepare("demo")
    eve = student(svc, "eve")
    first = svc.submit_file("demo", eve, predictions(svc, 0.5, seed=1), filename="a.csv")
    ds = svc.dataset("demo")
    n_public = int(ds.public.sum())
    assert first.public_score == pytest.approx(round(svc.submission(first.id).public_score * n_public) / n_public)
    # a probe: the same predictions nudged by noise.  Its public score really is higher than
    # the one shown -- even rounded to 1/n it would show as a new score -- but by less than
    # the paired standard error, so the Ladder shows the previous best again: probing the
    # public set this way teaches nothing
    nudged = pd.read_csv(io.BytesIO(predictions(svc, 0.5, seed=1)))
    nudged["y"] = np.clip(nudged["y"] + np.random.default_rng(4).normal(0, 0.1, len(nudged)), 0, 1).round(6)
    probe = svc.submit_file("demo", eve, nudged.to_csv(index=False).encode(), filename="b.csv")
    raw = raw_public_scores(svc)
    assert round(raw[probe.id] * n_public) / n_public > first.public_score
    assert raw[probe.id] - first.public_score < 0.05  # a gain within the noise
    assert probe.public_score == first.public_score  # not released
    assert svc.submissions("demo", eve)[0].public_score == first.public_score
    assert svc.leaderboard("demo").row_of("eve").score == first.public_score
    better = svc.submit_file("demo", eve, predictions(svc, 0.95, seed=2), filename="c.csv")
    assert better.public_score > first.public_score
    assert svc.leaderboard("demo").row_of("eve").score == better.public_score
    assert svc.leaderboard("demo").row_of("eve").ci is None  # the Ladder hides intervals
    svc.db.dispose()


def test_teams_invite_join_merge_limit_and_leave(svc):
    a, b, c = (student(svc, n) for n in ("amy", "bo", "cy"))
    assert svc.create_team("demo", a, "Owls") == "Owls"
    with pytest.raises(TeamError, match="taken"):
        svc.create_team("demo", b, "Owls")
    for _ in range(3):
        svc.submit_file("demo", a, predictions(svc, 0.5), filename="s.csv")
    for _ in range(3):
        svc.submit_file("demo", b, predictions(svc, 0.6), filename="s.csv")
    svc.invite("demo", a, "bo")
    with pytest.raises(TeamError, match="has not invited you"):
        svc.accept("demo", c, "Owls")
    # 6 submissions together > 5 a day × 1 day: no merger today
    with pytest.raises(TeamError, match=r"6 submissions together.*at most 5"):
        svc.accept("demo", b, "Owls")
    svc.clock.advance(days=1)
    assert svc.accept("demo", b, "Owls") == "Owls"
    team = svc.team("demo", b)
    assert team.name == "Owls" and team.members == ["amy", "bo"]
    assert len(svc.submissions("demo", a)) == 6  # bo's submissions came along
    assert [r.team for r in svc.leaderboard("demo").rows] == ["Owls"]
    assert svc.quota("demo", a).used == 0  # a new day
    assert svc.leave("demo", b) == "bo"
    assert svc.team("demo", a).members == ["amy"]
    svc.clock.set(DEADLINE)
    with pytest.raises(TeamError, match="merger deadline"):
        svc.invite("demo", a, "cy")


CRASH = textwrap.dedent("""
    import datetime as dt, os, signal, sys
    from leaderboard.clock import FrozenClock
    from leaderboard.services import Service
    svc = Service(sys.argv[1], sys.argv[2], clock=FrozenClock(dt.datetime.fromisoformat(sys.argv[3])))
    who = svc.authenticate(sys.argv[4])
    sub = svc.submit_file("demo", who, open(sys.argv[5], "rb").read(), filename="x.csv", score_now=False)
    assert svc.claim(sub.id)  # scoring has begun ...
    os.kill(os.getpid(), signal.SIGKILL)  # ... and the process dies
""")


def test_crash_during_scoring_leaves_it_pending_and_the_next_start_scores_it(svc, tmp_path):
    token = svc.add_participant("zoe")
    file = tmp_path / "p.csv"
    file.write_bytes(predictions(svc, 0.7))
    done = subprocess.run([sys.executable, "-c", CRASH, svc.db.url, str(svc.competitions_dir),
                           svc.now().isoformat(), token, str(file)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == -9, done.stderr
    zoe = svc.authenticate(token)
    [view] = svc.submissions("demo", zoe)
    assert view.status == "running" and view.counted
    assert svc.score_pending("demo") == []  # its lease has not expired yet
    svc.clock.advance(svc.lease + dt.timedelta(seconds=1))
    restarted = Service(svc.db, svc.competitions_dir, clock=svc.clock)  # "the next start"
    assert restarted.score_pending("demo") == [view.id]
    after = restarted.submission(view.id)
    assert after.status == "complete" and after.public_score > 0.5
    with svc.db.read() as s:
        assert s.scalar(select(Submission.attempts).where(Submission.id == view.id)) == 2


def test_ctrl_c_during_scoring_hands_the_submission_back_at_once(svc, monkeypatch):
    vic = student(svc, "vic")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C arrives while the scorer works

    monkeypatch.setattr(svc.scoring, "_score_predictions", interrupted)
    with pytest.raises(KeyboardInterrupt):
        svc.submit_file("demo", vic, predictions(svc, 0.7), filename="v.csv")
    [view] = svc.submissions("demo", vic)
    assert view.status == "pending" and view.counted  # not 'running' under a 30-minute lease
    monkeypatch.undo()
    assert svc.score_pending("demo") == [view.id]  # the next start, without waiting
    assert svc.submission(view.id).status == "complete"


FIX_LABELS = '''

_generated = make_data


def make_data(seed):
    """The instructor corrects the hidden labels of every fifth test row."""
    train, test = _generated(seed)
    fix = test.index[::5]
    test.loc[fix, "y"] = np.where(test.loc[fix, "y"] == "yes", "no", "yes")
    return train, test
'''


def test_rescore_after_the_data_changes(svc, comps):
    from sklearn.metrics import roc_auc_score

    una = student(svc, "una")
    file = predictions(svc, 0.8)
    old = svc.submission(svc.submit_file("demo", una, file, filename="s.csv").id)  # as the instructor sees it
    # the hidden solution changes: the instructor fixes labels and prepares again (in
    # another process, like `coursebench compete prepare`), which registers a new version
    with (comps / "demo" / "prepare.py").open("a") as out:
        out.write(FIX_LABELS)
    new_version = Service(svc.db, comps, clock=svc.clock).prepare("demo").dataset_version
    assert new_version != old.dataset_version
    assert svc.submission(old.id).public_score == old.public_score  # stored scores stay until the rescore
    assert svc.rescore("demo") == 1
    after = svc.submission(old.id)
    assert after.dataset_version == new_version

    # the new scores are the submitted file's against the new solution (and its split)
    solution = pd.read_csv(comps / "demo" / "data" / "private" / "solution.csv")
    submitted = pd.read_csv(io.BytesIO(file)).set_index("id").loc[solution["id"], "y"].to_numpy()
    for usage, rescored in (("Public", after.public_score), ("Private", after.private_score)):
        rows = (solution["Usage"] == usage).to_numpy()
        assert rescored == pytest.approx(roc_auc_score(solution["y"][rows] == "yes", submitted[rows]))
    # the predictions fit the old labels, so with every fifth label changed both scores fall
    assert after.public_score < old.public_score - 0.05
    assert after.private_score < old.private_score - 0.05
    assert after.public_ci != old.public_ci and after.public_ci[0] <= after.public_score <= after.public_ci[1]
    assert svc.leaderboard("demo").row_of("una").score == after.public_score
    with svc.db.read() as s:  # rescored from the stored predictions; its replicates replaced, nothing added
        kinds = list(s.scalars(select(Blob.kind).where(Blob.submission_id == old.id).order_by(Blob.kind)))
    assert kinds == ["predictions", "replicates"]


def test_the_facade_swaps_clock_and_lease_for_every_resource(svc):
    """The web app and the demo replace ``svc.clock`` after construction, the web tests
    ``svc.lease``: every resource behind the facade must go by the new ones."""
    from leaderboard.clock import FrozenClock
    from leaderboard.errors import NotFound

    ivy, jon = student(svc, "ivy"), student(svc, "jon")
    sub = svc.submit_file("demo", ivy, predictions(svc, 0.6), filename="s.csv", score_now=False)
    svc.lease = dt.timedelta(seconds=5)
    assert svc.scoring.lease == dt.timedelta(seconds=5)
    assert svc.claim(sub.id) and svc.pending("demo") == []
    late = FrozenClock(DEADLINE + dt.timedelta(seconds=6))
    svc.clock = late
    assert svc.clock is late and svc.now() == late.now()
    assert svc.pending("demo") == [sub.id]  # the 5 s lease ran out on the new clock
    assert svc.competition("demo").closed
    with pytest.raises(CompetitionClosed):
        svc.submit_file("demo", jon, predictions(svc, 0.6), filename="late.csv")
    with pytest.raises(CompetitionClosed):
        svc.select("demo", ivy, [])
    with pytest.raises(TeamError, match="merger deadline"):
        svc.invite("demo", ivy, "jon")
    assert svc.quota("demo", ivy).resets_at == dt.datetime.combine(
        late.now().date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    assert svc.close("demo").private
    # an unknown competition names the known ones
    with pytest.raises(NotFound, match="known: demo"):
        svc.spec_of("nope")
    with pytest.raises(NotFound, match="known: demo"):
        svc.competition("nope")


def test_alembic_schema_matches_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from leaderboard.db import Database
    from leaderboard.models import Base

    db = Database(db_url)
    db.upgrade()
    db.upgrade()  # idempotent
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.dispose()
