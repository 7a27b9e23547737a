"""Input building blocks every domain shares."""

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator


def storable(value: Any) -> Any:
    """Text every database can keep: no NUL character, no half of a surrogate pair."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            if "\x00" in text:
                raise ValueError("Text may not contain the NUL character.")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError("Text must be valid Unicode.") from exc
    return value


class Input(BaseModel):
    """A request body: unknown fields are refused, text is trimmed and must be storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        return storable(value)


def blank_is_none(value: Any) -> Any:
    # HTML forms send "" for an empty field; for a nullable value that means "not set".
    return None if isinstance(value, str) and not value.strip() else value


def _web_address(value: str) -> str:
    if value:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc or " " in value:
            raise ValueError("Enter a web address starting with https://")
    return value


WebAddress = Annotated[str, Field(max_length=500), AfterValidator(_web_address)]

# A moment; one without an offset (as a browser's datetime-local sends it) is read in the
# student's own time zone by ``in_utc``.
When = Annotated[datetime | None, BeforeValidator(blank_is_none)]


def in_utc(moment: datetime | None, zone: str) -> datetime | None:
    """A moment in UTC; one without an offset is wall-clock time in ``zone``."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=ZoneInfo(zone)) if moment.tzinfo is None else moment).astimezone(UTC)
