"""The alumni directory, searched by every student, and the imports that fill it and students' contacts.

Revision ID: caa4a624e624
Revises: 6aab25478277
Create Date: 2026-11-25 19:35:55.794072
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'caa4a624e624'
down_revision: str | None = '6aab25478277'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Full-text search over search_text, as for contacts: PostgreSQL's stored vector with a GIN
# index; SQLite's FTS5 table, kept in step by triggers on update and delete. New entries are
# indexed by the code that inserts them, a batch at a time (app/imports/writers.py
# index_directory): FTS5 takes a batch several times faster than a trigger row by row.
POSTGRESQL_SEARCH = [
    """ALTER TABLE directory_entries ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    "CREATE INDEX ix_directory_entries_search ON directory_entries USING gin (search_vector)",
]
SQLITE_SEARCH = [
    # A table of its own (not external content): removing a row that was never indexed is
    # harmless, where an external-content index would be damaged by it.
    """CREATE VIRTUAL TABLE directory_fts USING fts5(
        search_text, tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER directory_fts_update AFTER UPDATE OF search_text ON directory_entries BEGIN
        UPDATE directory_fts SET search_text = new.search_text WHERE rowid = old.rowid;
    END""",
    """CREATE TRIGGER directory_fts_delete AFTER DELETE ON directory_entries BEGIN
        DELETE FROM directory_fts WHERE rowid = old.rowid;
    END""",
]


def upgrade() -> None:
    op.create_table('directory_entries',
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('email_key', sa.String(length=320), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('organization_name', sa.String(length=200), nullable=False),
    sa.Column('industry', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('graduation_year', sa.Integer(), nullable=True),
    sa.Column('degree', sa.String(length=100), nullable=False),
    sa.Column('major', sa.String(length=200), nullable=False),
    sa.Column('linkedin_url', sa.String(length=500), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('accepts_requests', sa.Boolean(), nullable=False),
    sa.Column('sort_name', sa.String(length=201), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_entries'))
    )
    with op.batch_alter_table('directory_entries', schema=None) as batch_op:
        batch_op.create_index('ix_directory_entries_email_key', ['email_key'], unique=False)
        batch_op.create_index('ix_directory_entries_external_id', ['external_id'], unique=True)
        batch_op.create_index('ix_directory_entries_sort_name_id', ['sort_name', 'id'], unique=False)
        batch_op.create_index('ix_directory_entries_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('imports',
    sa.Column('owner_id', sa.String(length=26), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('lines_done', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('worker', sa.String(length=300), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_imports_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imports_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index('ix_imports_owner_id_created_at_id', ['owner_id', 'created_at', 'id'], unique=False)

    op.create_table('import_row_errors',
    sa.Column('import_id', sa.String(length=26), nullable=False),
    sa.Column('row', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('cells', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_import_row_errors_import_id_imports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_row_errors'))
    )
    with op.batch_alter_table('import_row_errors', schema=None) as batch_op:
        batch_op.create_index('ix_import_row_errors_import_id_row', ['import_id', 'row'], unique=False)

    for statement in POSTGRESQL_SEARCH if op.get_bind().dialect.name == "postgresql" else SQLITE_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_directory_entries_search", table_name="directory_entries")
        op.drop_column("directory_entries", "search_vector")
    else:
        for name in ("directory_fts_update", "directory_fts_delete"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE directory_fts")
    with op.batch_alter_table('import_row_errors', schema=None) as batch_op:
        batch_op.drop_index('ix_import_row_errors_import_id_row')

    op.drop_table('import_row_errors')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index('ix_imports_owner_id_created_at_id')
        batch_op.drop_index(batch_op.f('ix_imports_file_sha256'))

    op.drop_table('imports')
    with op.batch_alter_table('directory_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_entries_updated_at_id')
        batch_op.drop_index('ix_directory_entries_sort_name_id')
        batch_op.drop_index('ix_directory_entries_external_id')
        batch_op.drop_index('ix_directory_entries_email_key')

    op.drop_table('directory_entries')
