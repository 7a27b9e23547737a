"""Single sign-on: who an account is at the university's OpenID provider, and sign-ins begun."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, IdMixin, utcnow
from app.models.account import User


class OidcIdentity(IdMixin, Base):
    """An account's subject at a provider. ``issuer`` and ``subject`` together are the stable
    key (an email may change at the university; the subject does not), unique, so that two
    sign-ins at once can never make two accounts for one person."""

    __tablename__ = "oidc_identities"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("user_id", "issuer"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class OidcLogin(Base):
    """A sign-in sent to the provider and not yet back: what the callback checks its answer
    against. Found by the SHA-256 of its ``state`` and deleted as it is used, so a state (and
    with it a code) is good for one callback only; bound to the browser that began it by the
    SHA-256 of a cookie only that browser holds."""

    __tablename__ = "oidc_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_path: Mapped[str] = mapped_column(String(2000), default="/")
    expires_at: Mapped[datetime] = mapped_column(index=True)
