"""Request and response bodies for templates and messages."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from app.messages.templating import FIELD_NAMES, to_plain
from app.models import Channel, Kind, MessageStatus
from app.schemas import Input, storable

Id = Annotated[str, Field(min_length=1, max_length=26)]
Subject = Annotated[str, Field(max_length=2000)]
Body = Annotated[str, Field(max_length=10_000)]
TemplateName = Annotated[str, Field(min_length=1, max_length=100)]
TextFormat = Annotated[Literal["jinja", "plain"], Field(
    description="How `subject` and `body` are written: `jinja`, the template source "
                "(`{{ student.major }}`, `{% if %}`, filters), or `plain`, words with each field "
                "as its name in square brackets (`[your major]`, as `plain_body` shows them). "
                "Either way the template is stored, and returned, as its source.")]


class TemplateIn(Input):
    kind: Kind
    name: TemplateName
    subject: Subject = ""
    body: Annotated[str, Field(min_length=1, max_length=10_000)]
    format: TextFormat = "jinja"


class TemplatePatch(Input):
    kind: Kind | None = None
    name: TemplateName | None = None
    subject: Subject | None = None
    body: Annotated[str, Field(min_length=1, max_length=10_000)] | None = None
    format: TextFormat = "jinja"


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Kind
    channel: Channel
    name: str
    subject: str
    body: str
    is_default: bool
    created_at: datetime
    updated_at: datetime

    def _plain(self) -> tuple[str, str] | None:
        subject, body = to_plain(self.subject), to_plain(self.body)
        return None if subject is None or body is None else (subject, body)

    @computed_field(description="The subject in plain words, fields in square brackets "
                                "(`[your major]`); null when the template uses conditions or "
                                "filters, which only its source can show.")
    def plain_subject(self) -> str | None:
        plain = self._plain()
        return plain[0] if plain else None

    @computed_field(description="The body in plain words, like `plain_subject`; null when the "
                                "template uses conditions or filters.")
    def plain_body(self) -> str | None:
        plain = self._plain()
        return plain[1] if plain else None


class DraftIn(Input):
    """What a draft is made from: a template (the kind's default when none is named), or template
    text given here, filled in from the profile, the contact and the interview. ``values`` fill
    or replace fields for this message only, as ``{"student.major": "biology"}``; an HTML form
    may send them as top-level ``values.student.major`` keys."""

    kind: Kind
    contact_id: Id
    interview_id: Annotated[Id | None, Field(description="For thank-you notes and reconnecting: "
                                                         "the conversation it follows.")] = None
    template_id: Annotated[Id | None, Field(description="The kind's default when left out.")] = None
    values: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=2000)]] = (
        Field(default_factory=dict))

    @model_validator(mode="before")
    @classmethod
    def _flat_values(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(str(k).startswith("values.") for k in data):
            data = dict(data)
            values = dict(data.get("values") or {})
            for key in [k for k in data if str(k).startswith("values.")]:
                values[key.removeprefix("values.")] = data.pop(key)
            data["values"] = values
        for field in ("interview_id", "template_id"):
            if isinstance(data, dict) and data.get(field) == "":
                data = {**data, field: None}
        return data

    @field_validator("values")
    @classmethod
    def _known_fields(cls, values: dict[str, str]) -> dict[str, str]:
        storable(list(values.values()))
        unknown = sorted(set(values) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"Unknown fields: {', '.join(unknown)}. Known: {', '.join(FIELD_NAMES)}.")
        return values


class MessageIn(DraftIn):
    subject: Annotated[Subject | None, Field(
        description="Template text used instead of the template's subject (plain text is fine).")] = None
    body: Annotated[Body | None, Field(
        description="Template text used instead of the template's body (plain text is fine).")] = None
    format: TextFormat = "jinja"
    status: Annotated[Literal["draft", "sent"], Field(
        description="`sent` records at once a message already sent.")] = "draft"


class MessagePatch(Input):
    subject: Subject | None = None
    body: Annotated[str | None, Field(max_length=50_000)] = None
    status: Annotated[MessageStatus | None, Field(
        description="`sent` records sending (stage, timeline, tasks); `replied` records an answer."
    )] = None


class WarningOut(BaseModel):
    code: str
    message: str
    level: str
    field: str | None


class DraftOut(BaseModel):
    kind: Kind
    channel: Channel
    subject: str
    body: str
    word_count: int
    char_count: int
    warnings: list[WarningOut]
    to: str | None = Field(description="The recipient's email address, when known.")
    mailto: str | None = Field(description="A mailto: link that opens the draft in a mail app.")
    contact_id: str
    interview_id: str | None
    template_id: str | None


class MessageOut(DraftOut):
    id: str
    status: MessageStatus
    sent_at: datetime | None
    replied_at: datetime | None
    created_at: datetime
    updated_at: datetime
