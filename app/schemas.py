"""Input building blocks every domain shares."""

from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Input(BaseModel):
    """A request body: unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
