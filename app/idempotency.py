"""Idempotency-Key on creating POSTs: a retry with the same key and body replays the first
answer and creates nothing; the same key with another body is refused. Keys belong to the
caller and are kept for 24 hours, in the database, so every app process honours them."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from app.models import IdempotencyRecord, User

LIFETIME = timedelta(hours=24)
T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200,
           description="Retrying with the same key and body replays the first answer."),
]


def create_once(db: Session, user: User, key: str | None, path: str, body: BaseModel,
                   create: Callable[[], T], shape: type[BaseModel]) -> T | Response:
    """Run ``create`` unless this key was seen: then the first answer (a Response) comes back."""
    print_ = fingerprint(path, body)
    replayed = replay(db, user, key, print_)
    if replayed is not None:
        return replayed
    made = create()
    remember(db, user, key, print_, 201, shape.model_validate(made))
    return made


def fingerprint(path: str, body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json", exclude_unset=True), sort_keys=True)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def replay(db: Session, user: User, key: str | None, print_: str) -> Response | None:
    """The first answer for this key, or None when the key is new (or absent)."""
    if key is None:
        return None
    record = db.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.created_at < utcnow() - LIFETIME:
        db.delete(record)
        db.flush()
        return None
    if record.fingerprint != print_:
        raise ValidationFailed(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_key_reused",
            fields=[("Idempotency-Key", "Use a new key for a different request.")],
        )
    return Response(record.body, status_code=record.status_code, media_type="application/json",
                    headers={"Idempotent-Replayed": "true"})


def remember(db: Session, user: User, key: str | None, print_: str, status_code: int,
             answer: BaseModel) -> None:
    if key is None:
        return
    db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - LIFETIME))
    db.add(IdempotencyRecord(user_id=user.id, key=key, fingerprint=print_,
                             status_code=status_code, body=answer.model_dump_json()))
    try:
        db.flush()
    except IntegrityError as exc:  # the same key, sent twice at once: one wins
        raise Conflict("A request with this Idempotency-Key is already being handled.",
                       code="idempotency_key_in_use") from exc
