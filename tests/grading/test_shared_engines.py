"""shared_gradebook_engines: nbgrader's many short-lived gradebooks share one engine per
database inside an autograde run, and nothing of that outlives the run."""

from __future__ import annotations

import nbgrader.api as api

from coursebench.grading.course import nbgrader_environment, shared_gradebook_engines


def test_gradebooks_share_an_engine_inside_the_block_and_only_there(tmp_path):
    with nbgrader_environment():  # nbgrader runs `alembic` when it creates a gradebook
        check(tmp_path)


def check(tmp_path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    real = api.create_engine
    with shared_gradebook_engines():
        with api.Gradebook(url) as first:
            first.add_student("kim")
            engine = first.engine
        with api.Gradebook(url) as second:
            assert second.engine is engine  # one engine: one pool, one statement cache
            assert [s.id for s in second.students] == ["kim"]
        with shared_gradebook_engines():  # nested: a no-op
            with api.Gradebook(url) as third:
                assert third.engine is engine
        other = f"sqlite:///{tmp_path / 'other.db'}"
        with api.Gradebook(other) as fourth:  # another database, another engine, its own tables
            assert fourth.engine is not engine and fourth.students == []
    assert api.create_engine is real
    assert "create_all" not in vars(api.Base.metadata)
    with api.Gradebook(url) as after:
        assert after.engine is not engine and [s.id for s in after.students] == ["kim"]
