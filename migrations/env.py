"""Alembic environment: the URL comes from the app's settings, or from the caller's config."""

from logging.config import fileConfig

from alembic import context

from app import models  # noqa: F401  (registers every table on the metadata)
from app.config import get_settings
from app.db import Base, UTCDateTime, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

url = config.attributes.get("url") or get_settings().database_url


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our column types as plain SQLAlchemy ones, so migrations never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Full-text search structures that differ by database, made by hand in a migration: no model.
HAND_MADE = {
    "table": ("contacts_fts", "directory_fts"),
    "column": ("search_vector",),
    "index": ("ix_contacts_search", "ix_contacts_owner_id_sort_name_id_search",
              "ix_directory_entries_search"),
}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name and name.startswith(HAND_MADE.get(type_, ())))


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
