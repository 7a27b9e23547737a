"""Rate limit counters: API requests per key and per user in fixed windows, shared by every
app process.

Revision ID: c1a7e0000001
Revises: b7e1a0c2d300
Create Date: 2026-11-25 21:56:04.642487
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000001'
down_revision: str | None = 'b7e1a0c2d300'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_limit_counters'))
    )


def downgrade() -> None:
    op.drop_table('rate_limit_counters')
