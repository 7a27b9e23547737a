"""Contacts and organizations, their tags and timeline, full-text search, idempotency records.

Revision ID: a95d0b73af11
Revises: 3ed819760fe4
Create Date: 2026-11-25 17:05:24.289925
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a95d0b73af11'
down_revision: str | None = '3ed819760fe4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A stored vector with a GIN index finds the matches; the covering index lets a search walk
# the contacts in name order and test each one without reading the table.
POSTGRESQL_SEARCH = [
    """ALTER TABLE contacts ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    "CREATE INDEX ix_contacts_search ON contacts USING gin (search_vector)",
    """CREATE INDEX ix_contacts_owner_id_sort_name_id_search ON contacts (owner_id, sort_name, id)
        INCLUDE (search_vector)""",
]

SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE contacts_fts USING fts5(
        search_text, content='contacts', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
        INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
    END""",
    """CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
        INSERT INTO contacts_fts(rowid, search_text) VALUES (new.rowid, new.search_text);
    END""",
    """CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
        INSERT INTO contacts_fts(contacts_fts, rowid, search_text)
            VALUES ('delete', old.rowid, old.search_text);
    END""",
]


def upgrade() -> None:
    op.create_table('idempotency_records',
    sa.Column('user_id', sa.String(length=26), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_records_user_id_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('organizations',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('industry', sa.String(length=200), nullable=False),
    sa.Column('research_notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_organizations_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('owner_id', 'name_key', name=op.f('uq_organizations_owner_id_name_key'))
    )
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organizations_owner_id'), ['owner_id'], unique=False)

    op.create_table('contacts',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_key', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('organization_id', sa.String(length=26), nullable=True),
    sa.Column('industry', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('linkedin_url', sa.String(length=500), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('referred_by_id', sa.String(length=26), nullable=True),
    sa.Column('referrer_name', sa.String(length=200), nullable=False),
    sa.Column('how_we_met', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('next_action', sa.String(length=300), nullable=False),
    sa.Column('next_action_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sort_name', sa.String(length=201), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_contacts_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_contacts_owner_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referred_by_id'], ['contacts.id'], name=op.f('fk_contacts_referred_by_id_contacts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('owner_id', 'email_key', name=op.f('uq_contacts_owner_id_email_key')),
    sa.UniqueConstraint('owner_id', 'external_id', name=op.f('uq_contacts_owner_id_external_id'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_contacts_owner_id_next_action_at_id', ['owner_id', 'next_action_at', 'id'], unique=False)
        batch_op.create_index('ix_contacts_owner_id_organization_id_sort_name', ['owner_id', 'organization_id', 'sort_name', 'id'], unique=False)
        batch_op.create_index('ix_contacts_owner_id_sort_name_id', ['owner_id', 'sort_name', 'id'], unique=False)
        batch_op.create_index('ix_contacts_owner_id_stage_updated_at', ['owner_id', 'stage', 'updated_at'], unique=False)
        batch_op.create_index('ix_contacts_owner_id_updated_at_id', ['owner_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contacts_referred_by_id'), ['referred_by_id'], unique=False)

    op.create_table('contact_events',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('contact_id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_events_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_contact_events_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_events'))
    )
    with op.batch_alter_table('contact_events', schema=None) as batch_op:
        batch_op.create_index('ix_contact_events_contact_id_id', ['contact_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_events_owner_id'), ['owner_id'], unique=False)

    op.create_table('contact_tags',
    sa.Column('contact_id', sa.String(length=26), nullable=False),
    sa.Column('tag', sa.String(length=50), nullable=False),
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_tags_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_contact_tags_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contact_id', 'tag', name=op.f('pk_contact_tags'))
    )
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.create_index('ix_contact_tags_owner_id_tag', ['owner_id', 'tag'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_SEARCH:
            op.execute(statement)
    else:
        # FTS5 over contacts.search_text, kept in step by triggers. It follows contacts' rowid:
        # a later migration that rebuilds the contacts table must end with
        # INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild').
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_contacts_owner_id_sort_name_id_search", table_name="contacts")
        op.drop_index("ix_contacts_search", table_name="contacts")
        op.drop_column("contacts", "search_vector")
    else:
        for name in ("contacts_fts_insert", "contacts_fts_update", "contacts_fts_delete"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE contacts_fts")
    with op.batch_alter_table('contact_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_tags_owner_id_tag')

    op.drop_table('contact_tags')
    with op.batch_alter_table('contact_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_events_owner_id'))
        batch_op.drop_index('ix_contact_events_contact_id_id')

    op.drop_table('contact_events')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_referred_by_id'))
        batch_op.drop_index('ix_contacts_owner_id_updated_at_id')
        batch_op.drop_index('ix_contacts_owner_id_stage_updated_at')
        batch_op.drop_index('ix_contacts_owner_id_sort_name_id')
        batch_op.drop_index('ix_contacts_owner_id_organization_id_sort_name')
        batch_op.drop_index('ix_contacts_owner_id_next_action_at_id')
        batch_op.drop_index(batch_op.f('ix_contacts_organization_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organizations_owner_id'))

    op.drop_table('organizations')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
