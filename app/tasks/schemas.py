"""Request and response bodies for tasks."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.models import TaskStatus
from app.schemas import Input, When, blank_is_none


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
