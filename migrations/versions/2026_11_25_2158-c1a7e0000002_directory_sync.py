"""Directory sync: deleted entries stay as tombstones (deleted_at) so integrations learn of the
deletion, and an entry may cap how many students add it in a month (monthly_capacity).

Revision ID: c1a7e0000002
Revises: c1a7e0000001
Create Date: 2026-11-25 21:58:57.130049
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000002'
down_revision: str | None = 'c1a7e0000001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not batch mode: recreating directory_entries on SQLite would drop the
# full-text triggers and renumber the rowids its index refers to.
def upgrade() -> None:
    op.add_column('directory_entries', sa.Column('monthly_capacity', sa.Integer(), nullable=True))
    op.add_column('directory_entries',
                  sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM directory_entries WHERE deleted_at IS NOT NULL")
    op.drop_column('directory_entries', 'deleted_at')
    op.drop_column('directory_entries', 'monthly_capacity')
