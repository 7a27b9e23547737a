"""Request and response bodies for the alumni directory. The rules themselves (email and web
address formats, years, lengths) are in ``rules.py``, shared with imports."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.directory.rules import FIRST_YEAR, LIMITS, MAX_CAPACITY, THIS_YEAR
from app.pagination import Page
from app.schemas import Input

Year = Annotated[int | None, Field(ge=FIRST_YEAR, le=THIS_YEAR + 10)]
Capacity = Annotated[int | None, Field(
    ge=1, le=MAX_CAPACITY,
    description="How many students may add this person in a calendar month (UTC); null: no "
                "limit. Once reached, the entry is hidden from students until the next month.")]
ExternalId = Annotated[str, Field(min_length=1, max_length=LIMITS["external_id"])]


class EntryIn(Input):
    first_name: Annotated[str, Field(min_length=1, max_length=LIMITS["first_name"])]
    last_name: Annotated[str, Field(max_length=LIMITS["last_name"])] = ""
    email: Annotated[str | None, Field(max_length=LIMITS["email"])] = None
    title: Annotated[str, Field(max_length=LIMITS["title"])] = ""
    organization_name: Annotated[str, Field(max_length=LIMITS["organization_name"])] = ""
    industry: Annotated[str, Field(max_length=LIMITS["industry"])] = ""
    location: Annotated[str, Field(max_length=LIMITS["location"])] = ""
    graduation_year: Year = None
    degree: Annotated[str, Field(max_length=LIMITS["degree"])] = ""
    major: Annotated[str, Field(max_length=LIMITS["major"])] = ""
    linkedin_url: Annotated[str, Field(max_length=LIMITS["linkedin_url"])] = ""
    external_id: Annotated[str | None, Field(max_length=LIMITS["external_id"])] = None
    accepts_requests: bool = True
    monthly_capacity: Capacity = None


class EntryPatch(Input):
    first_name: Annotated[str, Field(min_length=1, max_length=LIMITS["first_name"])] | None = None
    last_name: Annotated[str, Field(max_length=LIMITS["last_name"])] | None = None
    email: Annotated[str | None, Field(max_length=LIMITS["email"])] = None
    title: Annotated[str, Field(max_length=LIMITS["title"])] | None = None
    organization_name: Annotated[str, Field(max_length=LIMITS["organization_name"])] | None = None
    industry: Annotated[str, Field(max_length=LIMITS["industry"])] | None = None
    location: Annotated[str, Field(max_length=LIMITS["location"])] | None = None
    graduation_year: Year = None
    degree: Annotated[str, Field(max_length=LIMITS["degree"])] | None = None
    major: Annotated[str, Field(max_length=LIMITS["major"])] | None = None
    linkedin_url: Annotated[str, Field(max_length=LIMITS["linkedin_url"])] | None = None
    external_id: Annotated[str | None, Field(max_length=LIMITS["external_id"])] = None
    accepts_requests: bool | None = None
    monthly_capacity: Capacity = None


class EntryPut(EntryPatch):
    """An entry by its external id. A field left out keeps its value (a new entry: its
    default); send null or "" to clear one. first_name is needed to create."""


class BatchItem(EntryPatch):
    external_id: ExternalId


class BatchIn(Input):
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=1000)]


class BatchResult(BaseModel):
    external_id: str
    id: str
    result: Literal["created", "updated", "unchanged"]


class BatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    items: list[BatchResult] = Field(description="One per item sent, in the same order.")


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    first_name: str
    last_name: str
    email: str | None
    title: str
    organization_name: str
    industry: str
    location: str
    graduation_year: int | None
    degree: str
    major: str
    linkedin_url: str
    external_id: str | None
    accepts_requests: bool
    version: int = Field(description="Grows with every change; the ETag is \"v{version}\".")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = Field(
        description="Set on a deleted entry (a tombstone, every personal field blank), which "
                    "only a sync read with include_deleted=true shows.")
    monthly_capacity: int | None = Field(None, description="Staff only (absent for students).")
    requests_this_month: int | None = Field(
        None, description="Staff only (absent for students): the students who added this "
                          "entry since the start of the month (UTC).")


# Staff-only fields, left out of what a student reads.
STAFF_FIELDS = {"monthly_capacity", "requests_this_month"}


class EntryPage(Page[EntryOut]):
    next_updated_since: datetime | None = Field(
        None, description="Sync reads (updated_since given) only: every change before this "
                          "moment is in this read. Once next_cursor is null, pass it as "
                          "updated_since on the next run.")
