"""Request and response bodies for contacts, organizations and the timeline."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from app.models import Source, Stage
from app.schemas import Input, WebAddress, When, blank_is_none

Tag = Annotated[str, Field(min_length=1, max_length=50)]


def _tag_list(value: Any) -> Any:
    """A form sends tags as one comma-separated string; keep each once, in order."""
    if isinstance(value, str):
        value = value.split(",")
    if isinstance(value, list):
        seen: dict[str, None] = {}
        for tag in value:
            if isinstance(tag, str) and tag.strip():
                seen.setdefault(tag.strip(), None)
            elif not isinstance(tag, str):
                return value  # let validation name the bad item
        return list(seen)
    return value


Tags = Annotated[list[Tag], BeforeValidator(_tag_list), Field(max_length=30)]
Email = Annotated[EmailStr | None, BeforeValidator(blank_is_none)]
OptionalId = Annotated[Annotated[str, Field(max_length=26)] | None, BeforeValidator(blank_is_none)]
ExternalId = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(blank_is_none)]
Short = Annotated[str, Field(max_length=200)]
Long = Annotated[str, Field(max_length=20_000)]


class _ContactFields(Input):
    last_name: Annotated[str, Field(max_length=100)] = ""
    email: Email = None
    phone: Annotated[str, Field(max_length=50)] = ""
    title: Short = ""
    organization_id: OptionalId = None
    organization_name: Annotated[str | None, Field(max_length=200)] = Field(
        default=None, description="Finds or creates one of your organizations by name."
    )
    industry: Short = ""
    location: Short = ""
    linkedin_url: Annotated[WebAddress, BeforeValidator(lambda v: "" if v is None else v)] = ""
    source: Source = Source.other
    referred_by_id: OptionalId = None
    referrer_name: Short = Field(default="", description='Free text, such as "Dr. Jones".')
    how_we_met: Annotated[str, Field(max_length=2000)] = ""
    tags: Tags = Field(default_factory=list)
    notes: Long = ""
    stage: Stage = Stage.identified
    external_id: ExternalId = None
    next_action: Annotated[str, Field(max_length=300)] = ""
    next_action_at: When = None


class ContactIn(_ContactFields):
    first_name: Annotated[str, Field(min_length=1, max_length=100)]


class ContactPatch(_ContactFields):
    """Only the fields sent change. An empty text clears it; the first name cannot be emptied."""

    first_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str
    title: str
    organization_id: str | None
    organization_name: str | None
    industry: str
    location: str
    linkedin_url: str
    source: Source
    referred_by_id: str | None
    referrer_name: str
    how_we_met: str
    tags: list[str]
    notes: str
    stage: Stage
    external_id: str | None
    next_action: str
    next_action_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OrganizationIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    website: WebAddress = ""
    industry: Short = ""
    research_notes: Annotated[str, Field(max_length=50_000)] = ""


class OrganizationPatch(Input):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    website: WebAddress | None = None
    industry: Short | None = None
    research_notes: Annotated[str, Field(max_length=50_000)] | None = None


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    website: str
    industry: str
    research_notes: str
    created_at: datetime
    updated_at: datetime


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str = Field(description="created, edited, stage_changed, and later message/interview events")
    at: datetime
    data: dict[str, Any]
    summary: str = Field(description="The event in a sentence.")
