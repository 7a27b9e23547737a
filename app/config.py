"""Settings, read once from the environment (prefix ``RAPPORT_``)."""

import math
import os
import secrets
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.db import POOL_SIZE

# Values that look like a secret but are not one; refused outside development.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev", "development", "insecure"}
DEVELOPMENT_SECRET = "development-only-secret-do-not-deploy"  # noqa: S105 - refused in production
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAPPORT_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "production"
    database_url: str = "sqlite:///./rapport.db"
    # Database connections one app process opens at most; once opened, each stays open.
    database_pool_size: int = Field(default=POOL_SIZE, ge=1, le=500)
    secret_key: str = ""

    # "open", "closed", or a comma-separated list of email domains allowed to register.
    registration: str = "open"

    session_days: int = Field(default=14, ge=1)
    # Logging in. Every attempt is counted before its password is checked (a successful one is
    # then taken back), in a window that begins at the first one counted.
    login_window_seconds: int = Field(default=900, ge=1)
    # Per account from one client address, or from one device the account logged in on before.
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    # Per account from every address together, for devices it has not logged in on, over a
    # longer window: more than one address can reach alone (checked below), and a device the
    # account logged in on before (its cookie) is never held back by it.
    login_max_failures_per_account_everywhere: int = Field(default=30, ge=1)
    login_account_window_seconds: int = Field(default=3600, ge=1)
    # How long a browser is remembered as a device its account logged in on.
    login_device_days: int = Field(default=365, ge=1)
    # Passwords checked (or hashed) at once in one process; beyond it a login is answered at
    # once with 503 and Retry-After rather than queued (argon2 takes 64 MB and a core's moment).
    login_concurrent_checks: int = Field(default=4, ge=1, le=256)
    # Registrations tried from one network (an IPv4 address, an IPv6 /64) in an hour.
    registrations_per_address: int = Field(default=20, ge=1)

    # The JSON API's rate limits: requests in any window of this many seconds (a moving window),
    # per API key and per user (browser sessions). 0 turns a limit off.
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=86_400)
    rate_limit_per_key: int = Field(default=600, ge=0)
    rate_limit_per_user: int = Field(default=300, ge=0)
    # Where the rate limits are counted when several app processes or instances serve the API
    # (redis://host:6379/0, rediss:// for TLS, unix:///path/redis.sock), so that they share one
    # budget. Empty: each process counts in its own memory, which is exact for one process.
    redis_url: str = ""

    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    # Import files may be larger: refused (413) before they are read whole.
    import_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    # Rows one file may bring into a student's contacts (LinkedIn allows 30,000 connections).
    import_max_contact_rows: int = Field(default=50_000, ge=1)
    # A directory batch (up to 1,000 entries) may be larger than other requests.
    directory_batch_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)

    # A sync read (?updated_since=) leaves out rows changed in the last this many seconds: a
    # transaction that stamped a row that long ago may still be committing it. It must be
    # longer than any directory write takes to commit.
    sync_settle_seconds: float = Field(default=5, ge=0, le=3600)

    # The follow-through: when the workflow's tasks fall due. Business days skip weekends and
    # the holidays (ISO dates, comma-separated: 2026-11-26,2026-12-25).
    follow_up_business_days: int = Field(default=7, ge=1, le=60)
    second_contact_business_days: int = Field(default=3, ge=1, le=60)
    thank_you_hours: int = Field(default=24, ge=1, le=168)
    reconnect_months: int = Field(default=3, ge=1, le=24)
    holidays: Annotated[list[date], NoDecode] = []

    # Webhooks. Addresses on loopback, link-local or private networks are refused unless
    # allowed here (a receiver on the same machine, in tests or on a closed network).
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=60)
    webhooks_max_attempts: int = Field(default=8, ge=1, le=30)
    webhooks_retry_seconds: int = Field(default=30, ge=1)  # the first retry; each one doubles
    webhooks_poll_seconds: float = Field(default=5, gt=0)
    # Delivered and failed deliveries are deleted this long after the event (their bodies may
    # name a student who chose to share).
    webhooks_keep_days: int = Field(default=30, ge=1)
    # `rapport serve` also sends deliveries, in a thread (safe in several processes at once).
    webhooks_worker_in_app: bool = True

    # Reminder emails, sent by `rapport worker`: smtp://user:password@host:port (STARTTLS with
    # ?starttls=true, otherwise plain, as to a relay on the same machine) or smtps://… (TLS from
    # the first byte). Without both, no email is sent and the Reminders page says so.
    smtp_url: str = ""
    mail_from: str = ""
    # Where the links in emails point: the address students open Rapport at. Empty: http://HOST:PORT.
    public_url: str = ""
    mail_timeout_seconds: float = Field(default=30, gt=0, le=300)
    mail_max_attempts: int = Field(default=8, ge=1, le=30)
    mail_retry_seconds: int = Field(default=60, ge=1)  # the first retry; each one doubles
    reminders_poll_seconds: float = Field(default=30, gt=0)
    # The moment the worker takes as now for reminders (ISO 8601 with an offset), to rehearse a
    # morning; empty: the clock.
    reminders_now: datetime | None = None
    # Forgotten passwords (with email on): how long a reset link works, and how many links an
    # hour one address may ask for, and one account (whoever asks).
    password_reset_minutes: int = Field(default=30, ge=5, le=24 * 60)
    password_reset_max_per_account: int = Field(default=3, ge=1)
    password_reset_max_per_address: int = Field(default=20, ge=1)
    # A new account confirms its address through an emailed link before it may write, and a
    # changed profile email takes effect once the new address confirms. Unset: on exactly when
    # email is on. The link works for email_verification_hours.
    email_verification: bool | None = None
    email_verification_hours: int = Field(default=48, ge=1, le=30 * 24)
    # The audit log of staff and admin actions: entries older than this many days are deleted
    # by `rapport worker`.
    audit_keep_days: int = Field(default=365, ge=1)
    # `rapport worker` deletes a student account whose address was never confirmed this many
    # days after it registered (never before its link stops working); 0: never.
    unconfirmed_accounts_keep_days: int = Field(default=7, ge=0)

    # Single sign-on through the university's OpenID Connect provider (Entra ID, Google
    # Workspace, Okta, Shibboleth). Off while the issuer is empty. The issuer is the URL its
    # discovery document hangs under (<issuer>/.well-known/openid-configuration): https, or
    # http on loopback only (a provider on the same machine, for development and tests).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    # The button reads "Sign in with <label>".
    oidc_label: str = "your university account"
    # Email domains whose accounts may sign in (comma-separated); empty: any the provider vouches for.
    oidc_email_domains: Annotated[list[str], NoDecode] = []
    # Entra ID sends no email_verified claim: turn this off there, with oidc_email_domains
    # limited to the university's own domains.
    oidc_require_verified_email: bool = True
    # Roles from the provider: the claim that lists someone's groups or roles, and the values
    # that mean staff and admin. Each sign-in sets the role from it, so someone taken out of
    # the staff group is a student from their next sign-in. Empty claim: roles stay Rapport's.
    oidc_roles_claim: str = ""
    oidc_staff_values: Annotated[list[str], NoDecode] = []
    oidc_admin_values: Annotated[list[str], NoDecode] = []
    # Password login for administrators only (everyone else signs in through the provider).
    oidc_password_login_admins_only: bool = False
    # How long the provider's discovery document and keys are kept before being read again
    # (an unknown signing key is looked up at once: keys rotate).
    oidc_metadata_seconds: int = Field(default=3600, ge=1)
    oidc_timeout_seconds: float = Field(default=10, gt=0, le=60)
    # Sign-ins begun in a minute from one network (an IPv6 /64), counted where the API's rate
    # limits are (memory or Redis), so that nobody fills the table of sign-ins begun; 0: any.
    oidc_logins_per_minute: int = Field(default=30, ge=0)

    # `rapport worker` deletes what is kept for a while: a deleted directory entry's tombstone
    # (sync clients that last read longer ago than this must read the directory in full), and
    # reminder emails sent or failed (the staff's figures count them until then).
    tombstone_keep_days: int = Field(default=90, ge=1)
    reminder_emails_keep_days: int = Field(default=1100, ge=1)

    host: str = "127.0.0.1"
    port: int = 8000
    # `rapport serve`'s app processes. One suits SQLite; on PostgreSQL, about one per core.
    workers: int = Field(default=1, ge=1, le=64)
    # Proxies whose X-Forwarded-For/-Proto are believed (the client address, https cookies).
    forwarded_allow_ips: str = "127.0.0.1"

    @field_validator("holidays", "oidc_email_domains", "oidc_staff_values", "oidc_admin_values",
                     mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and (not value.startswith(("smtp://", "smtps://")) or not urlsplit(value).hostname):
            raise ValueError("RAPPORT_SMTP_URL must be smtp://user:password@host:port or "
                             "smtps://user:password@host:port, or be left empty.")
        return value

    @field_validator("reminders_now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("RAPPORT_REMINDERS_NOW needs an offset, for example 2026-12-03T08:00Z.")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(REDIS_SCHEMES):
            raise ValueError("RAPPORT_REDIS_URL must start with " + ", ".join(REDIS_SCHEMES)
                             + " (for example redis://127.0.0.1:6379/0), or be left empty.")
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _oidc_issuer_https(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1", "localhost"}
        if not (parts.scheme == "https" or loopback) or not parts.hostname:
            raise ValueError("RAPPORT_OIDC_ISSUER must be an https:// address (http:// only on "
                             "127.0.0.1 or localhost), such as "
                             "https://login.microsoftonline.com/<tenant>/v2.0.")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> "Settings":
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("RAPPORT_OIDC_CLIENT_ID and RAPPORT_OIDC_CLIENT_SECRET must be set "
                             "with RAPPORT_OIDC_ISSUER.")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("RAPPORT_OIDC_SCOPES must include openid.")
        if self.oidc_password_login_admins_only and not self.oidc_issuer:
            raise ValueError("RAPPORT_OIDC_PASSWORD_LOGIN_ADMINS_ONLY needs RAPPORT_OIDC_ISSUER: "
                             "otherwise nobody but administrators could sign in.")
        self.oidc_email_domains = [d.lower().lstrip("@") for d in self.oidc_email_domains]
        return self

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @model_validator(mode="after")
    def _secret_is_real(self) -> "Settings":
        if self.env == "development":
            if not self.secret_key:
                self.secret_key = DEVELOPMENT_SECRET
            return self
        if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
            raise ValueError(
                "RAPPORT_SECRET_KEY must be set to a random value of at least 32 characters "
                "(for example the output of: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'). Set RAPPORT_ENV=development to run "
                "locally without one."
            )
        return self

    @model_validator(mode="after")
    def _one_address_cannot_lock_an_account(self) -> "Settings":
        """One address is refused after login_max_failures_per_account failures to an account
        in each window, and refused attempts are not counted for the account: the limit from
        everywhere must lie beyond what one address reaches in the account's longer window
        (the windows need not line up, hence the one more)."""
        windows = math.ceil(self.login_account_window_seconds / self.login_window_seconds) + 1
        one_address = self.login_max_failures_per_account * windows
        if self.login_max_failures_per_account_everywhere <= one_address:
            raise ValueError(
                "RAPPORT_LOGIN_MAX_FAILURES_PER_ACCOUNT_EVERYWHERE must be more than "
                f"{one_address}: one address alone may fail that often within "
                "RAPPORT_LOGIN_ACCOUNT_WINDOW_SECONDS, and would then lock the account for "
                "everyone else."
            )
        return self

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_url and self.mail_from.strip())

    @property
    def verification_on(self) -> bool:
        """Whether addresses are confirmed by email (RAPPORT_EMAIL_VERIFICATION, else email on)."""
        if self.email_verification is None:
            return self.email_enabled
        return self.email_verification

    @field_validator("email_verification", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _verification_needs_email(self) -> "Settings":
        if self.email_verification and not self.email_enabled:
            raise ValueError("RAPPORT_EMAIL_VERIFICATION=true needs email: set RAPPORT_SMTP_URL "
                             "and RAPPORT_MAIL_FROM, or leave RAPPORT_EMAIL_VERIFICATION unset.")
        return self

    @property
    def site_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def registration_domains(self) -> list[str] | None:
        """The allowed email domains, or None when registration is open or closed."""
        if self.registration.strip().lower() in {"open", "closed"}:
            return None
        return [d.strip().lower().lstrip("@") for d in self.registration.split(",") if d.strip()]

    @property
    def registration_closed(self) -> bool:
        """Closed by the setting, or because accounts come from single sign-on alone."""
        return self.registration.strip().lower() == "closed" \
            or self.oidc_password_login_admins_only


@lru_cache
def get_settings() -> Settings:
    return Settings()


def write_development_env(settings: Settings, path: Path) -> bool:
    """Write ``path`` (a checkout's .env) once, in development: a secret key of its own and the
    database URL in use, so that the server and every `rapport` command run there agree without
    variables. An existing file is never touched. Returns whether it was written."""
    if settings.env != "development" or path.exists():
        return False
    lines = [
        "# Development settings for this checkout, written by `rapport migrate`; never overwritten.",
        "RAPPORT_ENV=development",
        f"RAPPORT_SECRET_KEY={secrets.token_urlsafe(48)}",
        f"RAPPORT_DATABASE_URL={settings.database_url}",
    ]
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write("\n".join(lines) + "\n")
    return True
