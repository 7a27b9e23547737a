"""Migrations are the only way the schema changes: they match the models and fully reverse."""

from sqlalchemy import create_engine, inspect

from app import migrate


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names - {"alembic_version"}


def test_models_and_migrations_agree(database_url: str) -> None:
    migrate.check(database_url)  # raises when autogenerate would find a difference


def test_every_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    assert {"users", "auth_sessions", "api_keys"} <= _tables(database_url)
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) == set()
    migrate.upgrade(database_url)
    migrate.check(database_url)


def test_the_directory_search_index_keeps_its_entries_when_rebuilt(database_url: str) -> None:
    """c1a7e0000004 rebuilds SQLite's index of the directory (PostgreSQL's needs nothing)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.directory import service as directory
    from app.models import DirectoryEntry

    def found(word: str) -> list[str]:
        engine = create_engine(database_url)
        with Session(engine) as db:
            names = [e.first_name for e in db.scalars(
                select(DirectoryEntry).where(directory._matching(db, word)))]
        engine.dispose()
        return names

    migrate.downgrade(database_url, "c1a7e0000003")
    engine = create_engine(database_url)
    with Session(engine) as db:
        directory.create_entry(db, {"first_name": "Zoë", "last_name": "Ngata",
                                    "organization_name": "Regions Hospital"})
        db.commit()
    engine.dispose()
    assert found("ngat") == ["Zoë"]
    migrate.upgrade(database_url)
    assert found("regions") == found("zoe") == ["Zoë"]
    migrate.downgrade(database_url, "c1a7e0000003")
    assert found("hosp") == ["Zoë"]
    migrate.upgrade(database_url)
