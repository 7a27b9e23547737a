"""Request and response bodies for contacts, organizations and the timeline."""

from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from app.models import Source, Stage
from app.schemas import Input, WebAddress, When, blank_is_none

Tag = Annotated[str, Field(min_length=1, max_length=50)]


def join_tags(tags: list[str], separator: str = ",") -> str:
    """Tags as one text, separated by commas: a comma inside a tag is written ``\\,`` and a
    backslash ``\\\\``, so ``split_tags`` gives the same tags back."""
    return separator.join(tag.replace("\\", "\\\\").replace(",", "\\,") for tag in tags)


def split_tags(text: str) -> list[str]:
    """The tags in a text ``join_tags`` wrote (or a person typed): split at each comma that is
    not escaped, ``\\,`` and ``\\\\`` read back as a comma and a backslash, each tag trimmed.
    Any other backslash is kept as it is."""
    tags: list[str] = []
    current: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append(following if following in {",", "\\"} else char + following)
        elif char == ",":
            tags.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    tags.append("".join(current).strip())
    return [tag for tag in tags if tag]


def tag_list(value: Any) -> Any:
    """A form sends tags as one comma-separated string (``split_tags``); keep each once, in
    order."""
    if isinstance(value, str):
        value = split_tags(value)
    if isinstance(value, list):
        seen: dict[str, None] = {}
        for tag in value:
            if isinstance(tag, str) and tag.strip():
                seen.setdefault(tag.strip(), None)
            elif not isinstance(tag, str):
                return value  # let validation name the bad item
        return list(seen)
    return value


Tags = Annotated[list[Tag], BeforeValidator(tag_list), Field(max_length=30)]
Email = Annotated[EmailStr | None, BeforeValidator(blank_is_none)]
OptionalId = Annotated[Annotated[str, Field(max_length=26)] | None, BeforeValidator(blank_is_none)]
ExternalId = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(blank_is_none)]
Short = Annotated[str, Field(max_length=200)]
# An http(s) address or nothing (null is nothing too).
OptionalWebAddress = Annotated[WebAddress, BeforeValidator(lambda v: "" if v is None else v)]
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
    linkedin_url: OptionalWebAddress = ""
    website: OptionalWebAddress = Field(
        default="", description="Any other web address of theirs: a personal site, a lab page.")
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
    website: str
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


def dump_json(value: Any) -> bytes:
    """``value`` (plain dicts and lists of what ContactOut holds) as JSON, byte for byte what the
    response model would send: datetimes in ISO 8601 with "Z" for UTC, no spaces, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)


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
