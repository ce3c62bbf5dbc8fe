"""Boards from the database alone: the scorer stores each submission's metric on shared
bootstrap resamples (leaderboard.replicates); ties and private intervals come from those,
so a process without ``data/private`` (the web) serves every board, shake-up and upload."""

from __future__ import annotations

import io
import shutil
import stat

import numpy as np
import pytest
from sqlalchemy import delete

from leaderboard import replicates
from leaderboard.data import load_dataset
from leaderboard.errors import DataError, SubmissionInvalid
from leaderboard.models import Blob
from leaderboard.scoring import scoring_truth
from leaderboard.services import Service
from leaderboard.stats import bootstrap_ci, paired_bootstrap

from .test_services import predictions, student


def _board(view):
    return [(r.rank, r.team, r.score, r.tied_with_above, r.ci) for r in view.rows]


def test_stored_replicates_give_the_paired_bootstrap_and_the_interval(comps):
    from leaderboard.data import prepare

    prepare(comps / "demo")
    private = comps / "demo" / "data" / "private"  # the owner's only: a web process runs as someone else
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert {stat.S_IMODE(f.stat().st_mode) for f in private.iterdir()} == {0o600}
    ds = load_dataset(comps / "demo")
    metric = ds.spec.metric_obj()
    rng = np.random.default_rng(0)
    truth = (ds.truth == ds.positive_code).astype(float)
    good = np.clip(0.2 + 0.6 * truth + rng.normal(0, 0.2, len(truth)), 0, 1)
    close = np.clip(good + rng.normal(0, 0.01, len(truth)), 0, 1)
    noise = rng.random(len(truth))
    stored = {name: replicates.Replicates.from_bytes(replicates.compute(ds, p).to_bytes())
              for name, p in (("good", good), ("close", close), ("noise", noise))}
    preds = {"good": good, "close": close, "noise": noise}
    for split, mask in (("public", ds.public), ("private", ~ds.public)):
        t = scoring_truth(ds, ds.truth[mask])
        seed = replicates.seed_of(ds.version, split)
        private = split == "private"
        for a, b in (("good", "close"), ("good", "noise"), ("close", "noise")):
            # the difference of two stored vectors IS the paired bootstrap on the shared resamples
            direct = paired_bootstrap(metric, t, preds[a][mask], preds[b][mask], n_boot=ds.spec.bootstrap,
                                      seed=seed)
            low, high = replicates.interval(stored[a].of(private) - stored[b].of(private))
            assert (low, high) == pytest.approx((direct.low, direct.high), abs=1e-5)
            assert replicates.tied(stored[a].of(private), stored[b].of(private), ds.spec.bootstrap) == direct.tied
        ci = bootstrap_ci(metric, t, good[mask], n_boot=ds.spec.bootstrap, seed=seed)
        assert replicates.interval(stored["good"].of(private)) == pytest.approx(ci, abs=1e-5)
    assert replicates.tied(stored["good"].public, stored["close"].public, 500)
    assert not replicates.tied(stored["good"].public, stored["noise"].public, 500)
    one_row = io.BytesIO()
    np.save(one_row, np.ones(5, dtype=np.float32))
    with pytest.raises(ValueError, match="expected"):
        replicates.Replicates.from_bytes(one_row.getvalue())


def test_a_process_without_the_private_data_serves_boards_and_takes_uploads(svc, db_url, comps, clock):
    people = {name: student(svc, name) for name in ("ann", "ben", "cat", "dan")}
    quality = {"ann": 0.9, "ben": 0.9, "cat": 0.6, "dan": 0.0}
    for i, (name, who) in enumerate(people.items()):
        svc.submit_file("demo", who, predictions(svc, quality[name], seed=i), filename="p.csv")
        clock.advance(minutes=1)
    public, private = svc.leaderboard("demo"), svc.leaderboard("demo", private=True)
    assert public.rows[1].tied_with_above and all(r.ci is not None for r in private.rows)
    sample = predictions(svc, 0.5, seed=42)

    hidden = comps / "demo" / "data" / "private"
    moved = comps.parent / "private-elsewhere"
    shutil.move(hidden, moved)
    try:
        web = Service(db_url, comps, clock=clock, migrate=False)  # a fresh process's caches: nothing loaded
        with pytest.raises(DataError):
            web.dataset("demo")  # the full dataset is not there ...
        assert _board(web.leaderboard("demo")) == _board(public)  # ... and not needed
        assert _board(web.leaderboard("demo", private=True)) == _board(private)
        assert web.shakeup("demo").rows == svc.shakeup("demo").rows
        assert [row["private_rank"] for row in web.export("demo")] == [row["private_rank"] for row in svc.export("demo")]
        stored = web.submit_file("demo", people["cat"], sample, filename="later.csv", score_now=False)
        assert stored.status == "pending"
        cut = b"\n".join(sample.splitlines()[:-10]) + b"\n"  # ten ids short
        with pytest.raises(SubmissionInvalid, match="10 test id"):
            web.submit_file("demo", people["cat"], cut, filename="cut.csv", score_now=False)
        web.db.dispose()
    finally:
        shutil.move(moved, hidden)
    assert svc.score_pending("demo") == [stored.id]  # the scorer, with the private data, scores it


def test_submissions_scored_before_replicates_were_stored_get_them_from_a_worker(svc):
    people = {name: student(svc, name) for name in ("ann", "ben")}
    for i, who in enumerate(people.values()):
        svc.submit_file("demo", who, predictions(svc, 0.9, seed=i), filename="p.csv")
    before = _board(svc.leaderboard("demo", private=True))
    assert before[1][3]  # tied
    with svc.db.write() as s:  # as scored by an earlier version
        s.execute(delete(Blob).where(Blob.kind == replicates.BLOB))
    svc.standings.boards.clear()
    bare = svc.leaderboard("demo", private=True)
    assert not any(r.tied_with_above for r in bare.rows) and all(r.ci is None for r in bare.rows)
    assert not bare.complete  # (the web's cache builds such a board again at its next check)
    assert svc.backfill_replicates() == 2
    assert svc.backfill_replicates() == 0
    after = svc.leaderboard("demo", private=True)
    assert _board(after) == before and after.complete  # the incomplete board was not cached
