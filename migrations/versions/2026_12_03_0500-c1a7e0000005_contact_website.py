"""A contact's website: any web address of theirs that is not a LinkedIn profile (a personal
site, a lab page, a portfolio). Existing contacts get an empty one. The full-text structures
need nothing: the website is not searched.

Revision ID: c1a7e0000005
Revises: c1a7e0000004
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000005'
down_revision: str | None = 'c1a7e0000004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ADD/DROP COLUMN on both databases: a batch on SQLite would copy the table, and the
# copy would renumber the rowids its full-text index is keyed on.


def upgrade() -> None:
    op.add_column("contacts",
                  sa.Column("website", sa.String(length=500), nullable=False, server_default=""))


def downgrade() -> None:
    op.drop_column("contacts", "website")
