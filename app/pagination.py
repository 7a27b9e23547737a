"""Cursor (keyset) pages: stable while rows are added, because a cursor names a row, not an offset."""

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import ValidationFailed

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page, 1 to 200.")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: list[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [
            datetime.fromisoformat(v)
            if v is not None and column.type.python_type is datetime
            else v
            for v, column in zip(values, columns, strict=True)
        ]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            fields=[("cursor", "This cursor is not valid; start again without one.")]
        ) from exc


def paginate(
    db: Session,
    stmt: Select[Any],
    order: list[tuple[InstrumentedAttribute[Any], bool]],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Rows of ``stmt`` ordered by ``order`` ((column, descending) pairs, the last one unique)."""
    columns = [column for column, _ in order]
    if cursor:
        after = _decode(cursor, columns)
        # (a, b) after (x, y) means a beyond x, or a = x and b beyond y.
        clauses = []
        for i, (column, descending) in enumerate(order):
            beyond = column < after[i] if descending else column > after[i]
            clauses.append(and_(*(c == after[j] for j, c in enumerate(columns[:i])), beyond))
        stmt = stmt.where(or_(*clauses))
    stmt = stmt.order_by(*(c.desc() if d else c.asc() for c, d in order)).limit(limit + 1)
    rows = list(db.scalars(stmt).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode([getattr(rows[-1], c.key) for c in columns])
