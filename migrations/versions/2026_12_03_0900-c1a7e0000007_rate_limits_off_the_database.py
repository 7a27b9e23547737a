"""Rate limits off the database: the API's requests are counted by the limits library (in each
process's memory, or in Redis), so the rate limit counters table goes.

Revision ID: c1a7e0000007
Revises: c1a7e0000006
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000007'
down_revision: str | None = 'c1a7e0000006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('rate_limit_counters')


def downgrade() -> None:
    op.create_table('rate_limit_counters',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_limit_counters'))
    )
