"""Directory engagements: which students added, contacted or interviewed an alumnus (staff see
counts only).

Revision ID: b7e1a0c2d300
Revises: caa4a624e624
Create Date: 2026-11-25 21:49:15.077119
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7e1a0c2d300'
down_revision: str | None = 'caa4a624e624'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('directory_engagements',
    sa.Column('entry_id', sa.String(length=26), nullable=False),
    sa.Column('student_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['directory_entries.id'], name=op.f('fk_directory_engagements_entry_id_directory_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_directory_engagements_student_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_engagements')),
    sa.UniqueConstraint('entry_id', 'student_id', 'kind', name=op.f('uq_directory_engagements_entry_id_student_id_kind'))
    )
    with op.batch_alter_table('directory_engagements', schema=None) as batch_op:
        batch_op.create_index('ix_directory_engagements_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_directory_engagements_student_id'), ['student_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('directory_engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_engagements_student_id'))
        batch_op.drop_index('ix_directory_engagements_at')

    op.drop_table('directory_engagements')
