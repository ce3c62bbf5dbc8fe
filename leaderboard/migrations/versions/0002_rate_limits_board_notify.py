"""rate limits shared by the web processes; board-change notifications on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:40:00

- ``rate_limits``: the per-minute limits of every web process (leaderboard.web.ratelimit).
- PostgreSQL only: triggers that ``pg_notify('coursebench_board', competition_id)`` when
  a submission is stored, scored, re-scored or selected, a team or its members change, or
  a competition is closed or its data replaced, so every web process's board cache hears
  of it on commit whoever wrote it (leaderboard.notify).  SQLite has one web process; it
  watches ``PRAGMA data_version`` instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_BY_COMPETITION = """
CREATE OR REPLACE FUNCTION coursebench_board_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('coursebench_board', OLD.competition_id::text);
    ELSE
        PERFORM pg_notify('coursebench_board', NEW.competition_id::text);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""
_COMPETITION = """
CREATE OR REPLACE FUNCTION coursebench_competition_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('coursebench_board', NEW.id::text);
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""
_TRIGGERS = {
    "submissions": ("AFTER INSERT OR DELETE OR UPDATE OF status, selected, public_released, private_score, "
                    "team_id, dataset_version", "coursebench_board_changed"),
    "team_members": ("AFTER INSERT OR DELETE OR UPDATE", "coursebench_board_changed"),
    "teams": ("AFTER INSERT OR DELETE OR UPDATE", "coursebench_board_changed"),
    "competitions": ("AFTER UPDATE", "coursebench_competition_changed"),
}


def upgrade() -> None:
    op.create_table('rate_limits',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('hits', sa.Text(), nullable=False),
    sa.Column('last_hit', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BY_COMPETITION)
        op.execute(_COMPETITION)
        for table, (when, function) in _TRIGGERS.items():
            op.execute(f"CREATE TRIGGER coursebench_board_{table} {when} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS coursebench_board_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS coursebench_board_changed()")
        op.execute("DROP FUNCTION IF EXISTS coursebench_competition_changed()")
    op.drop_table('rate_limits')
