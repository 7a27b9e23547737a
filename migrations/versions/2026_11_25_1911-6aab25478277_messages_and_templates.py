"""Message templates, with a default for each kind, and the messages written from them.

Revision ID: 6aab25478277
Revises: 5a5aedd506d9
Create Date: 2026-11-25 19:11:33.003332
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = '6aab25478277'
down_revision: str | None = '5a5aedd506d9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The defaults: kind, name, subject, body. The outreach follows the handout's "Example Outreach
# Text" sentence by sentence: who I am and what I study, who gave me your contact, what I ask
# for (a brief 30-minute meeting in the next month), the offer to call the office, thanks.
DEFAULTS = [
    ("outreach", "Outreach email (the handout's example)",
     "Informational interview request from a {{ student.school }} student",
     "Dear {{ contact.full_name }},\n\n"
     "I am a student at {{ student.school }} majoring in {{ student.major }}, in hopes of pursuing "
     "a career as {{ student.career_goal|article }}."
     "{% if contact.referrer %} I was given your contact information by {{ contact.referrer }}."
     "{% endif %} I am writing to ask if you would be willing to meet briefly with me to discuss "
     "your career path and the steps that you recommend for someone interested in that path.\n\n"
     "I was hoping to schedule a brief, 30-minute meeting in the next month. If it is easier, "
     "I'm happy to call your office to find a convenient time to meet.\n\n"
     "Thank you, and I hope to have the opportunity to speak with you.\n\n"
     "{{ student.signature }}"),
    ("linkedin_note", "LinkedIn connection note",
     "",
     "Hello {{ contact.first_name }}, I am a {{ student.major }} student at {{ student.school }} "
     "hoping to become {{ student.career_goal|article }}."
     "{% if contact.referrer %} {{ contact.referrer }} suggested I reach out.{% endif %} "
     "Would you be open to a brief 30-minute conversation about your career path? Thank you!"),
    ("follow_up", "Follow-up on unanswered outreach",
     "Following up: {% if outreach.subject %}{{ outreach.subject }}"
     "{% else %}a brief conversation about your career path{% endif %}",
     "Dear {{ contact.full_name }},\n\n"
     "I am following up on the note I sent{% if outreach.date %} on {{ outreach.date }}{% endif %}. "
     "I know your time is valuable, and I would still be grateful for a brief, 30-minute "
     "conversation about your career path, by phone or in person, whenever suits you in the "
     "coming weeks. Would that be possible?\n\n"
     "Thank you for considering it.\n\n"
     "{{ student.signature }}"),
    ("thank_you", "Thank-you note",
     "Thank you{% if interview.date %} for our conversation on {{ interview.date }}"
     "{% else %} for your time{% endif %}",
     "Dear {{ contact.full_name }},\n\n"
     "Thank you for taking the time to speak with me{% if interview.date %} on "
     "{{ interview.date }}{% endif %}. I especially appreciated what you shared about "
     "{{ interview.topic }}, and your advice gives me a clearer picture of the path toward "
     "becoming {{ student.career_goal|article }}.\n\n"
     "I will follow up on your suggestions and keep you posted on my progress. I hope we can "
     "stay in touch.\n\n"
     "With thanks,\n{{ student.signature }}"),
    ("referral_request", "Asking for an introduction",
     "Could you introduce me to {{ contact.full_name }}?",
     "Dear {{ contact.referrer }},\n\n"
     "Thank you again for suggesting that I talk with {{ contact.full_name }}"
     "{% if contact.organization %} at {{ contact.organization }}{% endif %}. Would you be willing "
     "to introduce us by email? A short note saying that I am a {{ student.major }} student at "
     "{{ student.school }} who hopes to become {{ student.career_goal|article }} would mean a "
     "great deal, and I will take it from there.\n\n"
     "Thank you for your help.\n\n"
     "{{ student.signature }}"),
    ("reconnect", "Reconnect with an update",
     "An update from {{ student.name }}",
     "Dear {{ contact.full_name }},\n\n"
     "It has been a few months since we spoke{% if interview.date %} on {{ interview.date }}"
     "{% endif %}, and I wanted to share an update: [what you have done since]."
     "{% if interview.topic %} Your advice about {{ interview.topic }} has stayed with me."
     "{% endif %}\n\n"
     "I hope all is well with you{% if contact.organization %} at {{ contact.organization }}"
     "{% endif %}, and I would be glad to hear how things are going.\n\n"
     "Best regards,\n{{ student.signature }}"),
]


def upgrade() -> None:
    templates = op.create_table('templates',
    sa.Column('owner_id', sa.String(length=26), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=2000), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_templates_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_templates'))
    )
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.create_index('ix_templates_owner_id_kind_id', ['owner_id', 'kind', 'id'], unique=False)

    op.create_table('messages',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('contact_id', sa.String(length=26), nullable=False),
    sa.Column('interview_id', sa.String(length=26), nullable=True),
    sa.Column('template_id', sa.String(length=26), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=2000), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_messages_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_messages_interview_id_interviews'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_messages_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'], name=op.f('fk_messages_template_id_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_interview_id'), ['interview_id'], unique=False)
        batch_op.create_index('ix_messages_owner_id_created_at_id', ['owner_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_owner_id_sent_at', ['owner_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_template_id'), ['template_id'], unique=False)

    # Fixed ids, so every installation names the defaults alike.
    now = datetime.now(UTC)
    op.bulk_insert(templates, [
        {"id": f"template-{kind}", "owner_id": None, "kind": kind, "name": name, "subject": subject,
         "body": body, "version": 1, "created_at": now, "updated_at": now}
        for kind, name, subject, body in DEFAULTS
    ])


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_template_id'))
        batch_op.drop_index('ix_messages_owner_id_sent_at')
        batch_op.drop_index('ix_messages_owner_id_created_at_id')
        batch_op.drop_index(batch_op.f('ix_messages_interview_id'))
        batch_op.drop_index(batch_op.f('ix_messages_contact_id'))

    op.drop_table('messages')
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_index('ix_templates_owner_id_kind_id')

    op.drop_table('templates')
