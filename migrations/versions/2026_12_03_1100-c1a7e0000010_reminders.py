"""Reminders that leave the app: each student's choices (the daily email, notices, a
calendar feed), and the reminder emails, each planned once under a unique key.

Revision ID: c1a7e0000010
Revises: c1a7e0000008
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000010'
down_revision: str | None = 'c1a7e0000008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_emails',
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('task_ids', sa.JSON(), nullable=False),
    sa.Column('interview_ids', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_emails_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_emails')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_reminder_emails_user_id_key'))
    )
    with op.batch_alter_table('reminder_emails', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_emails_sent_at', ['sent_at'], unique=False)
        batch_op.create_index('ix_reminder_emails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('reminder_preferences',
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('digest', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('notices', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('feed_token_hash', sa.String(length=64), nullable=True),
    sa.Column('feed_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_preferences')),
    sa.UniqueConstraint('feed_token_hash', name=op.f('uq_reminder_preferences_feed_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('reminder_preferences')
    with op.batch_alter_table('reminder_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_emails_status_next_attempt_at')
        batch_op.drop_index('ix_reminder_emails_sent_at')

    op.drop_table('reminder_emails')
