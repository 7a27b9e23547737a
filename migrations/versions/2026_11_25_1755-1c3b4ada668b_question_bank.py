"""The question bank, with every question of the career centre's handout, word for word.

Revision ID: 1c3b4ada668b
Revises: a95d0b73af11
Create Date: 2026-11-25 17:55:41.565753
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '1c3b4ada668b'
down_revision: str | None = 'a95d0b73af11'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Category, then its questions, as the handout lists them (its typography kept).
HANDOUT = {
    "Position/Career Path": [
        "What is a typical work day like for you?",
        "What is your position/title? What are your responsibilities?",
        "Why does this field of work interest you and how did you get started?",
        "How did you get your job? What experiences have led you to this career/occupation?",
        "What skills are most important in doing this job well? What personal traits are needed?",
        "What does the company do to contribute to the employees’ overall professional development?",
        "What interests you least about your current job? What causes the most stress for you on the job?",
        "How would you describe the working conditions/climate?",
        "How did your college experience prepare you for this job? (only if relevant)",
        "What kinds of experience (paid or unpaid) would you suggest for someone wanting to enter this career field?",
    ],
    "Organization/Industry": [
        "What sorts of changes are occurring in this profession or within your company/organization?",
        "What is the average length of time for an employee to stay in the job you hold? Are there incentives or disincentives for staying in the same job?",
        "Is there flexibility related to dress, work hours, vacation schedule, place of residence, etc.?",
        "What are the new trends or issues in this industry?",
        "Can you suggest some publications I might read? What professional associations do people in this field belong?",
        "Are there certain types of employees who are more successful than others in this profession?",
    ],
    "Next Steps": [
        "Can you think of anything else I should know about this field?",
        "Could you suggest one or two other people I might contact for further information?",
        "Would you mind if I called you again if I think of any other questions?",
        "Don’t forget the business card. Add this to your business card file!",
        "Would you mind reviewing my resume and making any suggestions?",
    ],
}


def upgrade() -> None:
    questions = op.create_table('questions',
    sa.Column('owner_id', sa.String(length=26), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_questions_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index('ix_questions_owner_id_position_id', ['owner_id', 'position', 'id'], unique=False)

    # Fixed ids, so every installation names the handout's questions alike.
    now = datetime.now(UTC)
    rows = [
        {"id": f"handout{position:019d}", "owner_id": None, "category": category, "text": text,
         "position": position, "version": 1, "created_at": now, "updated_at": now}
        for position, (category, text) in enumerate(
            ((c, t) for c, texts in HANDOUT.items() for t in texts), start=1)
    ]
    op.bulk_insert(questions, rows)


def downgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index('ix_questions_owner_id_position_id')

    op.drop_table('questions')
