"""Request and response bodies for interviews, their questions, referrals and tasks."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from app.contacts.schemas import Email
from app.models import Format, Status
from app.models.interview import CHECKLIST
from app.schemas import Input, When

Minutes = Annotated[int, Field(ge=5, le=480)]


def _checklist(value: Any) -> Any:
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(CHECKLIST))
        if unknown:
            raise ValueError(f"Unknown checklist items: {', '.join(unknown)}. "
                             f"Known: {', '.join(CHECKLIST)}.")
    return value


Checklist = Annotated[dict[str, bool], BeforeValidator(_checklist)]


class InterviewIn(Input):
    contact_id: Annotated[str, Field(min_length=1, max_length=26)]
    scheduled_at: When = None
    duration_minutes: Minutes = 30
    format: Format = Format.in_person
    location: Annotated[str, Field(max_length=500)] = ""
    status: Status = Status.planned
    checklist: Checklist = Field(default_factory=dict)
    notes: Annotated[str, Field(max_length=50_000)] = ""
    takeaways: Annotated[str, Field(max_length=20_000)] = ""
    business_card: bool = False
    may_call_again: bool = False
    resume_review_offered: bool = False
    completed_at: When = Field(default=None, description=(
        "When it was held, with `status` `completed` (or to correct the time of a meeting "
        "already held). Without it: the planned time if that has passed, otherwise now. "
        "The thank-you reminder and drafts count from it."))


class InterviewPatch(Input):
    scheduled_at: When = None
    duration_minutes: Minutes | None = None
    format: Format | None = None
    location: Annotated[str, Field(max_length=500)] | None = None
    status: Status | None = None
    checklist: Checklist | None = Field(default=None, description="Items sent are set; others kept.")
    notes: Annotated[str, Field(max_length=50_000)] | None = None
    takeaways: Annotated[str, Field(max_length=20_000)] | None = None
    business_card: bool | None = None
    may_call_again: bool | None = None
    resume_review_offered: bool | None = None
    completed_at: When = Field(default=None, description=(
        "When it was held, with `status` `completed` (or to correct the time of a meeting "
        "already held). Without it: the planned time if that has passed, otherwise now. "
        "The thank-you reminder and drafts count from it."))


class InterviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    contact_id: str
    contact_name: str
    scheduled_at: datetime | None
    duration_minutes: int
    format: Format
    location: str
    status: Status
    checklist: dict[str, bool] = Field(description="Every item of the handout's checklist.")
    notes: str
    takeaways: str
    business_card: bool
    may_call_again: bool
    resume_review_offered: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ItemIn(Input):
    """A question for the list: one from the bank, or free text."""

    question_id: Annotated[str, Field(max_length=26)] | None = None
    text: Annotated[str, Field(min_length=1, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ItemIn":
        if (self.question_id is None) == (self.text is None):
            raise ValueError("Send question_id (from the bank) or text (your own), not both.")
        return self


class ItemPatch(Input):
    text: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    position: Annotated[int, Field(ge=1, description="Move to this place (1 = first).")] | None = None
    answer: Annotated[str, Field(max_length=20_000)] | None = None


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    question_id: str | None
    text: str
    position: int
    answer: str
    updated_at: datetime


class ReferralIn(Input):
    """One of the "one or two other people" the interviewee suggested."""

    first_name: Annotated[str, Field(min_length=1, max_length=100)]
    last_name: Annotated[str, Field(max_length=100)] = ""
    title: Annotated[str, Field(max_length=200)] = ""
    organization_name: Annotated[str, Field(max_length=200)] = ""
    email: Email = None
    notes: Annotated[str, Field(max_length=20_000)] = ""


class AnswerOut(BaseModel):
    interview_id: str
    contact_id: str
    contact_name: str
    scheduled_at: datetime | None
    completed_at: datetime | None = Field(description="When the conversation was held.")
    question: str
    answer: str
