"""The default templates read right for any career goal: "nursing", "a nurse", "work in
healthcare consulting" and "UX research" all follow "in hopes of" through the ``career``
filter, where "a career as {{ student.career_goal|article }}" fitted only a job title.

Revision ID: c1a7e0000009
Revises: c1a7e0000013
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000009'
down_revision: str | None = 'c1a7e0000013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# kind: (sentence before, sentence now)
CHANGES = {
    "outreach": (
        "in hopes of pursuing a career as {{ student.career_goal|article }}.",
        "in hopes of {{ student.career_goal|career }}.",
    ),
    "linkedin_note": (
        "{{ student.school }} hoping to become {{ student.career_goal|article }}.",
        "{{ student.school }}, interested in {{ student.career_goal|career }}.",
    ),
    "thank_you": (
        "a clearer picture of the path toward becoming {{ student.career_goal|article }}.",
        "a clearer picture of what {{ student.career_goal|career }} takes.",
    ),
    "referral_request": (
        "who hopes to become {{ student.career_goal|article }} would mean",
        "who is interested in {{ student.career_goal|career }} would mean",
    ),
}


def _replace(old: int, new: int) -> None:
    templates = sa.table("templates", sa.column("id", sa.String), sa.column("body", sa.Text),
                         sa.column("version", sa.Integer))
    connection = op.get_bind()
    for kind, texts in CHANGES.items():
        row = connection.execute(sa.select(templates.c.body)
                                 .where(templates.c.id == f"template-{kind}")).first()
        if row is None or texts[old] not in row.body:
            continue
        connection.execute(templates.update().where(templates.c.id == f"template-{kind}")
                           .values(body=row.body.replace(texts[old], texts[new]),
                                   version=templates.c.version + 1))


def upgrade() -> None:
    _replace(0, 1)


def downgrade() -> None:
    _replace(1, 0)
