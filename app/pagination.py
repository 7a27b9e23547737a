"""Cursor (keyset) pages: stable while rows are added, because a cursor names a row, not an offset."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, case, false, or_
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


@dataclass
class Order:
    """One sort key. The last key of an ordering must be unique (the id)."""

    column: InstrumentedAttribute[Any]
    descending: bool = False
    nulls_last: bool = False  # ascending only: rows without a value come after the rest

    def beyond(self, value: Any) -> ColumnElement[bool]:
        """Rows strictly after ``value`` in this key's order."""
        if value is None:
            return false() if self.nulls_last else self.column.is_not(None)
        after = self.column < value if self.descending else self.column > value
        return or_(after, self.column.is_(None)) if self.nulls_last else after

    def equal(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value

    def clauses(self) -> list[Any]:
        if self.nulls_last:
            return [case((self.column.is_(None), 1), else_=0), self.column.asc()]
        return [self.column.desc() if self.descending else self.column.asc()]


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, order: list[Order]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError
        return [
            datetime.fromisoformat(v) if isinstance(v, str) and key.column.type.python_type is datetime
            else v
            for v, key in zip(values, order, strict=True)
        ]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            fields=[("cursor", "This cursor is not valid; start again without one.")]
        ) from exc


def paginate(
    db: Session, stmt: Select[Any], order: list[Order], limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """One page of the rows of ``stmt`` in ``order``, and the cursor of the next page."""
    if cursor:
        after = _decode(cursor, order)
        # (a, b) after (x, y): a beyond x, or a equal to x and b beyond y.
        stmt = stmt.where(or_(*(
            and_(*(order[j].equal(after[j]) for j in range(i)), key.beyond(after[i]))
            for i, key in enumerate(order)
        )))
    stmt = stmt.order_by(*(c for key in order for c in key.clauses())).limit(limit + 1)
    rows = list(db.scalars(stmt).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode([getattr(rows[-1], key.column.key) for key in order])
