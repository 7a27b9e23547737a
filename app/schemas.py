"""Input building blocks every domain shares."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def _storable(value: Any) -> Any:
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
        return _storable(value)


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
