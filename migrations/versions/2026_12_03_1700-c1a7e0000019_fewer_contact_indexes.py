"""Fewer writes for each new contact: an organization's contacts are found by one index
(organization, name), which serves both the list filtered by organization and the foreign
key's SET NULL; only contacts referred by another are in the referral index; and SQLite's
search index keeps no document sizes (only ranking uses them, and contacts are not ranked).

Revision ID: c1a7e0000019
Revises: c1a7e0000018
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1a7e0000019'
down_revision: str | None = 'c1a7e0000018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERRED = sa.text("referred_by_id IS NOT NULL")


def _search_index(options: str) -> None:
    """SQLite: the contacts' search index made again, with these options, from the contacts
    (its triggers name it, and stay)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE contacts_fts")
    op.execute("CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts', "
               "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', "
               f"prefix='2 3'{options})")
    op.execute("INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')")


def upgrade() -> None:
    op.drop_index('ix_contacts_organization_id', table_name='contacts')
    op.drop_index('ix_contacts_owner_id_organization_id_sort_name', table_name='contacts')
    op.create_index('ix_contacts_organization_id_sort_name_id', 'contacts',
                    ['organization_id', 'sort_name', 'id'])
    op.drop_index('ix_contacts_referred_by_id', table_name='contacts')
    op.create_index('ix_contacts_referred_by_id', 'contacts', ['referred_by_id'],
                    sqlite_where=REFERRED, postgresql_where=REFERRED)
    _search_index(", columnsize=0")


def downgrade() -> None:
    _search_index("")
    op.drop_index('ix_contacts_referred_by_id', table_name='contacts')
    op.create_index('ix_contacts_referred_by_id', 'contacts', ['referred_by_id'])
    op.drop_index('ix_contacts_organization_id_sort_name_id', table_name='contacts')
    op.create_index('ix_contacts_owner_id_organization_id_sort_name', 'contacts',
                    ['owner_id', 'organization_id', 'sort_name', 'id'])
    op.create_index('ix_contacts_organization_id', 'contacts', ['organization_id'])
