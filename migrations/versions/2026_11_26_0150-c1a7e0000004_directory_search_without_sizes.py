"""The directory's SQLite search index without its table of document sizes (columnsize=0):
they serve only ranking, which no search here uses, and keeping them costs every new entry a
row. The index is rebuilt with what it holds. PostgreSQL: nothing to do.

Revision ID: c1a7e0000004
Revises: c1a7e0000003
Create Date: 2026-11-26 01:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'c1a7e0000004'
down_revision: str | None = 'c1a7e0000003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = [
    """CREATE TRIGGER directory_fts_update AFTER UPDATE OF search_text ON directory_entries BEGIN
        UPDATE directory_fts SET search_text = new.search_text WHERE rowid = old.rowid;
    END""",
    """CREATE TRIGGER directory_fts_delete AFTER DELETE ON directory_entries BEGIN
        DELETE FROM directory_fts WHERE rowid = old.rowid;
    END""",
]


def _rebuild(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # The triggers name the index: they go first and come back last, so that no statement
    # meets a trigger whose table is missing.
    for statement in (
        "DROP TRIGGER directory_fts_update",
        "DROP TRIGGER directory_fts_delete",
        "CREATE TEMP TABLE directory_fts_copy AS SELECT rowid AS entry, search_text "
        "FROM directory_fts",
        "DROP TABLE directory_fts",
        "CREATE VIRTUAL TABLE directory_fts USING fts5(search_text, "
        f"tokenize='unicode61 remove_diacritics 2'{options})",
        "INSERT INTO directory_fts(rowid, search_text) SELECT entry, search_text "
        "FROM directory_fts_copy",
        "DROP TABLE directory_fts_copy",
        *TRIGGERS,
    ):
        op.execute(statement)


def upgrade() -> None:
    _rebuild(", columnsize=0")


def downgrade() -> None:
    _rebuild("")
