"""the test clock's offset, shared by the web processes of one server

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 13:40:00

- ``test_clock``: one row (key ``server``) with how far ``coursebench serve --test-clock``
  has moved the time (leaderboard.web.testclock), so that ``--processes N`` share it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('test_clock',
    sa.Column('key', sa.String(length=20), nullable=False),
    sa.Column('offset_seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('test_clock')
