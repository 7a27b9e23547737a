"""Request and response bodies for tasks, and the moments their filters take."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.models import TaskStatus
from app.schemas import Input, When, blank_is_none

_WRITTEN_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")


def written_moment(value: Any) -> Any:
    """A moment written as ISO 8601 (``2026-05-01T09:00:00Z``, with or without an offset, or a
    day, ``2026-05-01``). Pydantic would also read a number as seconds since 1970, so that
    ``0.5`` or ``20260501`` became a moment in 1970 and filtered silently by it."""
    if isinstance(value, datetime) or (isinstance(value, str)
                                      and _WRITTEN_MOMENT.match(value.strip())):
        return value
    raise ValueError("Enter a date and time in ISO 8601, such as 2026-05-01T09:00:00Z.")


# A date-time in a query string: only as written in ISO 8601, never a number.
StrictWhen = Annotated[datetime, BeforeValidator(written_moment)]


class TaskIn(Input):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    kind: Annotated[str, Field(min_length=1, max_length=40)] = "custom"
    due_at: When = None
    contact_id: Annotated[str | None, Field(max_length=26), BeforeValidator(blank_is_none)] = None
    interview_id: Annotated[str | None, Field(max_length=26), BeforeValidator(blank_is_none)] = None


class TaskPatch(Input):
    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    due_at: When = None
    status: TaskStatus | None = None


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    title: str
    due_at: datetime | None
    status: TaskStatus
    contact_id: str | None
    interview_id: str | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
