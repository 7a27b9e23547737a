"""Interviews, the questions asked in each, and tasks.

Revision ID: 5a5aedd506d9
Revises: 1c3b4ada668b
Create Date: 2026-11-25 18:02:00.353603
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5a5aedd506d9'
down_revision: str | None = '1c3b4ada668b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('interviews',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('contact_id', sa.String(length=26), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('takeaways', sa.Text(), nullable=False),
    sa.Column('business_card', sa.Boolean(), nullable=False),
    sa.Column('may_call_again', sa.Boolean(), nullable=False),
    sa.Column('resume_review_offered', sa.Boolean(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_interviews_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_interviews_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interviews_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_interviews_owner_id_scheduled_at_id', ['owner_id', 'scheduled_at', 'id'], unique=False)

    op.create_table('interview_questions',
    sa.Column('interview_id', sa.String(length=26), nullable=False),
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('question_id', sa.String(length=26), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_interview_questions_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_interview_questions_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_interview_questions_question_id_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_questions'))
    )
    with op.batch_alter_table('interview_questions', schema=None) as batch_op:
        batch_op.create_index('ix_interview_questions_interview_id_position', ['interview_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_questions_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_questions_question_id'), ['question_id'], unique=False)

    op.create_table('tasks',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.String(length=26), nullable=True),
    sa.Column('interview_id', sa.String(length=26), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_tasks_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_tasks_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_tasks_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index('ix_tasks_owner_id_status_due_at', ['owner_id', 'status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_owner_id_status_due_at')
        batch_op.drop_index(batch_op.f('ix_tasks_interview_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_contact_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('interview_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_questions_question_id'))
        batch_op.drop_index(batch_op.f('ix_interview_questions_owner_id'))
        batch_op.drop_index('ix_interview_questions_interview_id_position')

    op.drop_table('interview_questions')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index('ix_interviews_owner_id_scheduled_at_id')
        batch_op.drop_index(batch_op.f('ix_interviews_contact_id'))

    op.drop_table('interviews')
