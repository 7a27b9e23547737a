"""Input building blocks every domain shares."""

import re
from datetime import UTC, date, datetime
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

_WRITTEN_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]|$)")
_WRITTEN_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def written_moment(value: Any) -> Any:
    """A moment written as ISO 8601 (``2026-05-01T09:00:00Z``, with or without an offset, or a
    day, ``2026-05-01``). Pydantic would also read a number as seconds since 1970, so that
    ``0.5`` or ``20260501`` became a moment in 1970 and filtered silently by it."""
    if isinstance(value, datetime) or (isinstance(value, str)
                                      and _WRITTEN_MOMENT.match(value.strip())):
        return value
    raise ValueError("Enter a date and time in ISO 8601, such as 2026-05-01T09:00:00Z.")


def written_day(value: Any) -> Any:
    """A day written YYYY-MM-DD, never a number (which pydantic would read as seconds since
    1970)."""
    if isinstance(value, date) or (isinstance(value, str) and _WRITTEN_DAY.fullmatch(value.strip())):
        return value
    raise ValueError("Enter a day as YYYY-MM-DD, such as 2026-05-01.")


# Moments and days a person could mean. Beyond them a date is a typing slip, and years near 1 or
# 9999 break time-zone arithmetic (calendars, reminders, lists in the student's zone).
FIRST_YEAR, LAST_YEAR = 1900, 2200


def plausible(value: date | None) -> date | None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Enter a date between the years {FIRST_YEAR} and {LAST_YEAR}.")
    return value


def _optional_moment(value: Any) -> Any:
    value = blank_is_none(value)
    return None if value is None else written_moment(value)


# A moment; one without an offset (as a browser's datetime-local sends it) is read in the
# student's own time zone by ``in_utc``.
When = Annotated[datetime | None, BeforeValidator(_optional_moment), AfterValidator(plausible)]
# A moment in a query string: only as written in ISO 8601, never a number.
StrictWhen = Annotated[datetime, BeforeValidator(written_moment), AfterValidator(plausible)]
StrictDay = Annotated[date, BeforeValidator(written_day), AfterValidator(plausible)]


def in_utc(moment: datetime | None, zone: str) -> datetime | None:
    """A moment in UTC; one without an offset is wall-clock time in ``zone``."""
    if moment is None:
        return None
    return (moment.replace(tzinfo=ZoneInfo(zone)) if moment.tzinfo is None else moment).astimezone(UTC)
