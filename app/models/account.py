"""Users, their browser sessions, their API keys, and login attempts counted (for throttling)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, TimestampMixin, utcnow


class Role(StrEnum):
    student = "student"
    staff = "staff"
    admin = "admin"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.student)
    school: Mapped[str] = mapped_column(String(200), default="")
    major: Mapped[str] = mapped_column(String(200), default="")
    career_goal: Mapped[str] = mapped_column(String(500), default="")
    graduation_year: Mapped[int | None]
    signature: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The student's own choice: their name and email go with the directory engagement events
    # sent to career services' systems. Off unless they turn it on.
    share_engagement_with_career_office: Mapped[bool] = mapped_column(
        default=False, server_default=false())
    # When the address was confirmed through its emailed link, or found needing none (made by
    # an administrator or single sign-on, or while verification was off). None: not yet.
    email_verified_at: Mapped[datetime | None]
    # A new address asked for on the profile, in force once it confirms its own link.
    pending_email: Mapped[str | None] = mapped_column(String(320))
    # Set by an administrator: every session and API key of the account stops working and it
    # cannot log in, until reactivated (null again).
    deactivated_at: Mapped[datetime | None]
    # When a browser session last began (a login, a registration, a single sign-on): kept when
    # the session ends, so that "last active" outlives a logout.
    last_login_at: Mapped[datetime | None]

    api_keys: Mapped[list["ApiKey"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class AuthSession(Base):
    """A browser session. The cookie holds a token; only its SHA-256 is stored here."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class ApiKey(IdMixin, Base):
    """A bearer key. The secret is shown once; only its SHA-256 and a visible prefix are kept."""

    __tablename__ = "api_keys"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_keys", lazy="joined")


class PasswordReset(Base):
    """A link to set a new password, sent by email. The link holds a token; only its SHA-256
    is stored here. Used once (the row is deleted), or never after ``expires_at``."""

    __tablename__ = "password_resets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginCounter(Base):
    """Login attempts counted under one key until ``expires_at``: from a client address, for an
    account from an address, for an account from everywhere, or for an account on a device it
    logged in on before. The key is the kind and a SHA-256, so no email or address is stored.
    One row per key, counted up with one upsert that returns the count (no race between
    counting and comparing); a row whose window has ended starts again at 1 when next counted,
    and is deleted in passing."""

    __tablename__ = "login_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    count: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)
