"""Cursor (keyset) pages: stable while rows are added, because a cursor names a row, not an offset."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Connection, Row, Select, and_, false, or_, select, true
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

    def beyond(self, value: Any) -> ColumnElement[bool] | None:
        """Rows strictly after ``value`` in this key's order (None: there can be none)."""
        if value is None:
            return None if self.nulls_last else self.column.is_not(None)
        after = self.column < value if self.descending else self.column > value
        return or_(after, self.column.is_(None)) if self.nulls_last else after

    def from_(self, value: Any) -> ColumnElement[bool]:
        """Rows at or after ``value``: a range an index can seek to, unlike the OR of ``beyond``."""
        if value is None:
            return self.column.is_(None) if self.nulls_last else true()
        at_or_after = self.column <= value if self.descending else self.column >= value
        return or_(at_or_after, self.column.is_(None)) if self.nulls_last else at_or_after

    def equal(self, value: Any) -> ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value

    def clause(self) -> Any:
        if self.nulls_last:
            return self.column.asc().nulls_last()
        return self.column.desc() if self.descending else self.column.asc()


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _value(value: Any, key: Order) -> Any:
    """One value of a cursor, checked against its column: a forged cursor is refused, not run."""
    if value is None:
        return None
    if key.column.type.python_type is datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is None or moment.tzinfo is None:
            raise ValueError("not a moment")
        return moment
    if type(value) is not key.column.type.python_type:
        raise ValueError("not this column's type")
    return value


def _decode(cursor: str, order: list[Order]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError
        return [_value(v, key) for v, key in zip(values, order, strict=True)]
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            fields=[("cursor", "This cursor is not valid; start again without one.")]
        ) from exc


def _after(stmt: Select[Any], order: list[Order], cursor: str | None) -> Select[Any]:
    """``stmt`` limited to the rows after ``cursor`` (all of them without one)."""
    if not cursor:
        return stmt
    after = _decode(cursor, order)
    # (a, b) after (x, y): a beyond x, or a equal to x and b beyond y; and a from x on,
    # which lets the database start reading at x instead of at the first row.
    beyond = []
    for i, key in enumerate(order):
        past = key.beyond(after[i])
        if past is not None:
            beyond.append(and_(*(order[j].equal(after[j]) for j in range(i)), past))
    return stmt.where(order[0].from_(after[0]), or_(*beyond) if beyond else false())


def paginate(
    db: Session, stmt: Select[Any], order: list[Order], limit: int, cursor: str | None,
    ids_first: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of the rows of ``stmt`` in ``order``, and the cursor of the next page.

    ``ids_first`` picks the page's ids before loading its rows, so a filter on indexed columns
    can be answered from an index alone.
    """
    stmt = _after(stmt, order, cursor)
    ordering = [key.clause() for key in order]
    if ids_first:
        id_column = order[-1].column
        ids = list(db.scalars(stmt.with_only_columns(id_column).order_by(*ordering).limit(limit + 1)))
        entity = stmt.column_descriptions[0]["entity"]
        found = {getattr(row, id_column.key): row
                 for row in db.scalars(select(entity).where(id_column.in_(ids))).unique()}
        rows = [found[i] for i in ids]
    else:
        rows = list(db.scalars(stmt.order_by(*ordering).limit(limit + 1)).unique())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode([getattr(rows[-1], key.column.key) for key in order])


def page_rows(
    connection: Connection, stmt: Select[Any], order: list[Order], limit: int, cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    """``paginate`` for a statement of plain columns, among them every key's column under its
    own name: the rows as the database sends them, with no object made for each (the cursor is
    the same one ``paginate`` makes)."""
    stmt = _after(stmt, order, cursor).order_by(*(key.clause() for key in order)).limit(limit + 1)
    rows = list(connection.execute(stmt).fetchall())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]._mapping
    return rows, _encode([last[key.column.key] for key in order])
