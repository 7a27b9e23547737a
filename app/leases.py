"""Queues that several workers drain at once: a row is taken with a lease (``claimed_by``,
``claimed_until``) that the other workers respect until it runs out, so no row is sent twice and
a worker that died lets go of its rows when their leases end. Webhook deliveries and reminder
emails are queues of this kind."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, update
from sqlalchemy.orm import Session, sessionmaker


def unclaimed(model: Any, now: datetime) -> ColumnElement[bool]:
    """Rows no worker holds: never claimed, or their lease has run out."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def claim(sessions: sessionmaker[Session], model: Any, due: Select[Any], now: datetime,
          worker: str, lease: timedelta) -> str | None:
    """Take the lease of the first row ``due`` selects (its ids, in order, each pending and
    ``unclaimed``); its id, or None when there is none. PostgreSQL skips rows another worker is
    taking; SQLite has one writer at a time, and takes a row only if it is still free."""
    held = {"claimed_by": worker, "claimed_until": now + lease}
    with sessions() as db, db.begin():
        if db.get_bind().dialect.name == "postgresql":
            found = db.scalar(due.limit(1).with_for_update(skip_locked=True, of=model))
            if found is not None:
                db.execute(update(model).where(model.id == found).values(**held))
            return None if found is None else str(found)
        for candidate in db.scalars(due.limit(20)):
            taken = db.execute(update(model)
                               .where(model.id == candidate, model.status == "pending",
                                      unclaimed(model, now))
                               .values(**held))
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return str(candidate)
    return None
