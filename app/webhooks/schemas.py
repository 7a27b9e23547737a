"""Request and response bodies for webhooks, and what each event carries."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.models import DeliveryStatus, WebhookEvent
from app.schemas import Input


def _one_is_a_list(value: Any) -> Any:
    # A form with one ticked checkbox sends a single string.
    return [value] if isinstance(value, str) else value


Url = Annotated[str, Field(min_length=1, max_length=2000,
                           description="https; http only where private addresses are allowed.")]
Events = Annotated[list[WebhookEvent], BeforeValidator(_one_is_a_list),
                   Field(min_length=1, max_length=len(WebhookEvent))]
Description = Annotated[str, Field(max_length=500)]


class WebhookIn(Input):
    url: Url
    events: Events
    active: bool = True
    description: Description = ""


class WebhookPatch(Input):
    url: Url | None = None
    events: Events | None = None
    active: bool | None = None
    description: Description | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    events: list[WebhookEvent]
    active: bool
    description: str
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown once; store it now.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Sent as Rapport-Delivery: drop one you have already handled.")
    webhook_id: str
    event_id: str = Field(description="The body's id; the same for every subscription.")
    event: WebhookEvent
    status: DeliveryStatus
    attempts: int = Field(description="Tries since it was queued or last replayed.")
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="The body sent.")
