"""Request and response bodies for accounts. Inputs forbid unknown fields."""

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from app.schemas import Input, blank_is_none

# One pair for each part of the API; interviews:* covers the question bank and tasks too.
# stats:read, webhooks:manage and users:read are for career-services staff; users:write and
# audit:read for administrators.
SCOPES = (
    "profile:read",
    "profile:write",
    "contacts:read",
    "contacts:write",
    "interviews:read",
    "interviews:write",
    "messages:read",
    "messages:write",
    "directory:read",
    "directory:write",
    "stats:read",
    "webhooks:manage",
    "users:read",
    "users:write",
    "audit:read",
)
# What only career-services staff may do: a student's key holding one would always get 403.
STAFF_SCOPES = frozenset({"directory:write", "stats:read", "webhooks:manage", "users:read"})
# What only administrators may do: anyone else's key holding one would always get 403.
ADMIN_SCOPES = frozenset({"users:write", "audit:read"})
Scope = Literal[SCOPES]  # type: ignore[valid-type]


def _one_is_a_list(value: Any) -> Any:
    # A form with one ticked checkbox sends a single string.
    return [value] if isinstance(value, str) else value


Name = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=8, max_length=1024)]
def _plausible_year(value: int | None) -> int | None:
    if value is not None and not 1900 <= value <= 2100:
        raise ValueError("Enter a year between 1900 and 2100.")
    return value


Year = Annotated[
    int | None,
    BeforeValidator(blank_is_none),
    AfterValidator(_plausible_year),
    Field(json_schema_extra={"minimum": 1900, "maximum": 2100}),
]


def _known_timezone(value: str | None) -> str | None:
    if value is not None and value not in available_timezones():
        raise ValueError("Choose a time zone from the list, such as America/Chicago.")
    return value


TimeZone = Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(blank_is_none),
                     AfterValidator(_known_timezone)]


class RegisterIn(Input):
    email: EmailStr
    password: Password
    name: Name
    timezone: TimeZone = Field(default=None, description=(
        "An IANA time zone, such as the browser reports (`Intl.DateTimeFormat()."
        "resolvedOptions().timeZone`); a legacy alias is stored as the zone it now is "
        "(Asia/Calcutta as Asia/Kolkata). UTC when left out."))


class LoginIn(Input):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class OidcLinkIn(Input):
    """The password of the account a university sign-in is linked to, given once."""

    password: Annotated[str, Field(min_length=1, max_length=1024)]


class ProfileIn(Input):
    name: Name | None = None
    email: EmailStr | None = None
    school: Annotated[str, Field(max_length=200)] | None = None
    major: Annotated[str, Field(max_length=200)] | None = None
    career_goal: Annotated[str, Field(max_length=500)] | None = None
    graduation_year: Year = None
    signature: Annotated[str, Field(max_length=2000)] | None = None
    timezone: TimeZone = None
    share_engagement_with_career_office: bool = Field(default=False, description=(
        "Send my name and email with the directory engagement events career services "
        "receives (when I add, write to or interview an alumnus). Off: those events are "
        "anonymous."))


class PasswordIn(Input):
    current_password: Annotated[str, Field(min_length=1, max_length=1024)]
    new_password: Password
    revoke_api_keys: bool = Field(default=False, description=(
        "Also revoke every API key of the account, and its calendar feed's address: scripts "
        "and integrations using the keys get 401 from then on, and the feed 404 (a new "
        "address is made on the Reminders page). A password change always ends every browser "
        "session (the one that asked gets a new one); API keys and the feed keep working "
        "unless this is true. The settings page sends true unless the student unticks it."))


class DeleteAccountIn(Input):
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        default=None, description="Your password, to confirm. Needed by every account that has "
        "one.")
    email: Annotated[str, Field(min_length=1, max_length=320)] | None = Field(
        default=None, description="For an account made by single sign-on, which has no "
        "password of its own: its email address, typed to confirm.")


class PasswordResetIn(Input):
    email: Annotated[str, Field(min_length=1, max_length=320)]


class PasswordResetConfirmIn(Input):
    token: Annotated[str, Field(min_length=1, max_length=200, description=(
        "The `token` of the link in the email (`/reset-password?token=…`)."))]
    password: Password
    revoke_api_keys: bool = Field(default=False, description=(
        "Also revoke every API key of the account, and its calendar feed's address (404 from "
        "then on). Every browser session ends whatever this says; the reset page sends true "
        "unless the person unticks it."))


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: str
    school: str
    major: str
    career_goal: str
    graduation_year: int | None
    signature: str
    timezone: str
    share_engagement_with_career_office: bool
    email_verified: bool = Field(description=(
        "Whether the address is confirmed. With email verification on, an account whose "
        "address is not confirmed may read but not write (403 `email_unverified`) until it "
        "opens the link sent to it. Accounts made by an administrator, on the command line, "
        "by single sign-on or while verification was off need no link."))
    pending_email: str | None = Field(description=(
        "A new email asked for (with email verification on), waiting for the link sent to "
        "it: `email` stays the login until then. null when none waits."))
    created_at: datetime
    updated_at: datetime


class VerifyEmailIn(Input):
    token: Annotated[str, Field(min_length=1, max_length=1000, description=(
        "The `token` of the link in the email (`/verify-email?token=…`)."))]


class ApiKeyIn(Input):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], BeforeValidator(_one_is_a_list), Field(min_length=1)]


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret. Shown once; store it now.")
