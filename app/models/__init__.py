"""Every ORM model, imported here so Alembic and the app see the whole schema."""

from app.models.account import ApiKey, AuthSession, LoginFailure, Role, User

__all__ = ["ApiKey", "AuthSession", "LoginFailure", "Role", "User"]
