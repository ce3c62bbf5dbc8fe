"""The competitions of a course: their rules on disk (``<slug>/competition.toml``), their
rows in the database (spec and dataset version as registered), and their datasets,
loaded once per dataset version."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..data import PUBLIC_FILES, Dataset, Paths, PublicData, compute_version, load_dataset, load_public
from ..data import prepare as prepare_data
from ..db import Database
from ..errors import CompetitionClosed, LeaderboardError, NotFound
from ..models import Competition
from ..spec import CompetitionSpec, load_spec, parse_spec
from ..views import CompetitionView


class CompetitionRegistry:
    """``root`` holds one folder per competition; the database holds what was registered
    from it (``prepare``/``sync``).  Other resources ask here for a competition's row,
    stored spec, whether it is over, and its dataset."""

    def __init__(self, db: Database, clock: Clock, root: str | Path) -> None:
        self.db = db
        self.clock = clock
        self.root = Path(root)
        self._datasets: dict[tuple[str, str], Dataset] = {}
        self._public: dict[tuple[str, str], PublicData] = {}

    # -- on disk --------------------------------------------------------------------------
    def spec_of(self, slug: str) -> CompetitionSpec:
        """The rules as written in ``<root>/<slug>/competition.toml`` now."""
        path = self.root / slug
        if not (path / "competition.toml").is_file():
            known = sorted(p.parent.name for p in self.root.glob("*/competition.toml"))
            raise NotFound("competition", slug, known or None)
        return load_spec(path)

    def prepare(self, slug: str) -> CompetitionView:
        """Instructor: write the data (deterministic from the seed) and register it."""
        spec = self.spec_of(slug)
        prepare_data(self.root / slug, spec)
        return self.sync(slug)

    def sync(self, slug: str) -> CompetitionView:
        """Register a prepared competition (or update its spec and dataset version)."""
        spec = self.spec_of(slug)
        folder = self.root / slug
        version = compute_version(folder).sha256
        with self.db.write() as s:
            row = s.scalar(select(Competition).where(Competition.slug == slug))
            data = json.loads(spec.model_dump_json())
            if row is None:
                row = Competition(slug=slug, title=spec.title, root=str(folder.resolve()), spec=data,
                                  dataset_version=version, created_at=self.clock.now())
                s.add(row)
            else:
                row.title, row.root, row.spec, row.dataset_version = spec.title, str(folder.resolve()), data, version
            s.flush()
            return self.view(row)

    # -- registered -----------------------------------------------------------------------
    def all(self) -> list[CompetitionView]:
        with self.db.read() as s:
            return [self.view(c) for c in s.scalars(select(Competition).order_by(Competition.slug))]

    def get(self, slug: str) -> CompetitionView:
        with self.db.read() as s:
            return self.view(self.row(s, slug))

    def public_files(self, slug: str) -> list[Path]:
        """The files students may download (never data/private)."""
        with self.db.read() as s:
            folder = Path(self.row(s, slug).root)
        return [Paths(folder).public / name for name in PUBLIC_FILES]

    def row(self, s: Session, slug: str) -> Competition:
        """The registered competition, in the caller's session."""
        row = s.scalar(select(Competition).where(Competition.slug == slug))
        if row is None:
            known = list(s.scalars(select(Competition.slug)))
            raise NotFound("competition", slug, known or None)
        return row

    @staticmethod
    def spec(row: Competition) -> CompetitionSpec:
        """The rules as registered (what scoring and quotas go by)."""
        return parse_spec(row.spec, path=f"{row.slug} (stored spec)")

    def is_over(self, spec: CompetitionSpec, row: Competition) -> bool:
        return row.closed_at is not None or self.clock.now() >= spec.deadline

    def check_not_over(self, spec: CompetitionSpec, row: Competition) -> None:
        if self.is_over(spec, row):
            raise CompetitionClosed(row.slug, spec.deadline.isoformat())

    def view(self, row: Competition) -> CompetitionView:
        spec = self.spec(row)
        metric = spec.metric_obj()
        now: dt.datetime = self.clock.now()
        over = self.is_over(spec, row)
        return CompetitionView(
            slug=row.slug, title=row.title, description=spec.description, task=spec.task, metric=spec.metric,
            direction=metric.direction, deadline=spec.deadline, is_open=not over and (spec.start is None or now >= spec.start),
            closed=over, daily_limit=spec.daily_limit, final_selections=spec.final_selections,
            team_size=spec.team_size, submission_types=list(spec.submission_types), release=spec.release,
            dataset_version=row.dataset_version, folds=spec.folds)

    def dataset(self, slug: str, check: Callable[[Competition, CompetitionSpec], None] | None = None) -> Dataset:
        """The registered dataset version with its hidden truth (scorers and instructor
        tools only), loaded once; an error when the files on disk no longer match it.
        ``check(row, spec)`` runs first, in the same read (e.g. "is it open?")."""
        return self._load(self._datasets, load_dataset, slug, check)

    def public_data(self, slug: str,
                    check: Callable[[Competition, CompetitionSpec], None] | None = None) -> PublicData:
        """The public view of the registered dataset version (what uploads are validated
        against), read without ``data/private``: what the web process uses."""
        return self._load(self._public, load_public, slug, check)

    def _load(self, loaded: dict[tuple[str, str], Any], load: Callable[[Path, CompetitionSpec], Any], slug: str,
              check: Callable[[Competition, CompetitionSpec], None] | None) -> Any:
        with self.db.read() as s:
            row = self.row(s, slug)
            key, folder, spec = (row.slug, row.dataset_version), Path(row.root), self.spec(row)
            if check is not None:
                check(row, spec)
        data = loaded.get(key)
        if data is None:
            data = load(folder, spec)
            if data.version != key[1]:
                raise LeaderboardError(f"the data of {slug!r} changed on disk since it was registered; "
                                       "run `coursebench compete prepare` (or rescore) again")
            for old in [k for k in loaded if k[0] == slug]:
                del loaded[old]
            loaded[key] = data
        return data
