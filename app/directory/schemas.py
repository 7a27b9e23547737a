"""Request and response bodies for the alumni directory. The rules themselves (email and web
address formats, years, lengths) are in ``rules.py``, shared with imports."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.directory.rules import FIRST_YEAR, LIMITS, THIS_YEAR
from app.schemas import Input

Year = Annotated[int | None, Field(ge=FIRST_YEAR, le=THIS_YEAR + 10)]


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
    created_at: datetime
    updated_at: datetime
