"""Deleting an account with everything it owns."""

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.models import User


def delete_account(db: Session, user: User) -> None:
    """Delete the account: every row it owns goes with it (each table's foreign key to users
    deletes on cascade); the institution's directory entries stay."""
    db.execute(delete(User).where(User.id == user.id))
    db.expunge(user)
