"""When each account last logged in, so that "last active" outlives a logout. Filled from the
sessions still open.

Revision ID: c1a7e0000018
Revises: c1a7e0000015
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000018'
down_revision: str | None = 'c1a7e0000015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET last_login_at = (SELECT max(created_at) FROM auth_sessions "
               "WHERE auth_sessions.user_id = users.id)")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
