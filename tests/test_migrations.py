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
