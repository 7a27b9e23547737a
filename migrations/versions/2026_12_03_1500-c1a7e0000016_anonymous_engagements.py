"""Directory engagements outlive the student's account: deleting it leaves them anonymous
(student_id NULL), so the staff's counts stay whole.

Revision ID: c1a7e0000016
Revises: c1a7e0000014
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000016'
down_revision: str | None = 'c1a7e0000014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = 'fk_directory_engagements_student_id_users'


def _student_id(nullable: bool, ondelete: str) -> None:
    with op.batch_alter_table('directory_engagements', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.alter_column('student_id', existing_type=sa.String(length=26),
                              nullable=nullable)
        batch_op.create_foreign_key(FK, 'users', ['student_id'], ['id'], ondelete=ondelete)


def upgrade() -> None:
    _student_id(nullable=True, ondelete='SET NULL')


def downgrade() -> None:
    # The engagements of deleted accounts belong to no one, and cannot stay.
    op.execute("DELETE FROM directory_engagements WHERE student_id IS NULL")
    _student_id(nullable=False, ondelete='CASCADE')
