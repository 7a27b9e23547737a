"""The import report's conflicts, warnings and encoding: counts and the encoding on the import,
and a kind (error, conflict, warning) with a conflict's names on each reported row.

Revision ID: c1a7e0000006
Revises: c1a7e0000005
Create Date: 2026-12-03 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000006'
down_revision: str | None = 'c1a7e0000005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(sa.Column("conflicts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("encoding", sa.String(40), nullable=False, server_default=""))
    with op.batch_alter_table("import_row_errors") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="error"))
        batch.add_column(sa.Column("about", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("import_row_errors") as batch:
        batch.drop_column("about")
        batch.drop_column("kind")
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("encoding")
        batch.drop_column("warnings")
        batch.drop_column("conflicts")
