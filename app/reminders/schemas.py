"""Request and response bodies of the reminder settings and the calendar feed."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.schemas import Input


class RemindersOut(BaseModel):
    digest: bool = Field(description=(
        "The daily email at 08:00 in your time zone (the profile's `timezone`), listing what is "
        "overdue, what is due today and tomorrow's interviews. Sent only on days with something "
        "to say."))
    notices: bool = Field(description=(
        "One email for what cannot wait for the next morning: an interview tomorrow morning, "
        "a thank-you note due within 24 hours."))
    email_available: bool = Field(description=(
        "Whether this Rapport sends email at all; when false, nothing is sent whatever the "
        "choices say."))
    timezone: str = Field(description="The time zone the morning is counted in (the profile's).")
    feed_active: bool = Field(description="Whether a private calendar feed address exists.")
    feed_created_at: datetime | None = Field(description="When the feed's address was made.")


class RemindersIn(Input):
    digest: bool = Field(default=True, description="Turn the daily email on or off.")
    notices: bool = Field(default=True, description="Turn the notices on or off.")


class FeedCreated(BaseModel):
    url: str = Field(description=(
        "The feed's private address, shown this once: anyone who has it reads your interviews "
        "and tasks. Making a new one, or turning the feed off, ends the old address (404)."))
    created_at: datetime
