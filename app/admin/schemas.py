"""Request and response bodies of account administration and the audit log."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models import Role
from app.schemas import Input

Status = Literal["active", "deactivated"]


class AdminUserOut(BaseModel):
    """An account as the administration list shows it. Staff, who may list students only,
    get ``id``, ``name``, ``email`` and ``last_active_at``; the other fields are for
    administrators."""

    id: str
    name: str
    email: str
    last_active_at: datetime | None = Field(description=(
        "The latest of: a browser session started or kept alive (sessions are renewed at most "
        "twice a lifetime, so this can be some days behind), and a use of one of the "
        "account's API keys. Null when neither is known (a session ended by logging out is "
        "forgotten)."))
    role: Role | None = Field(default=None, description="Administrators only.")
    status: Literal["active", "deactivated"] | None = Field(
        default=None, description="Administrators only.")
    created_at: datetime | None = Field(default=None, description="Administrators only.")
    deactivated_at: datetime | None = Field(default=None, description="Administrators only.")


class AdminUserPage(BaseModel):
    items: list[AdminUserOut]
    next_cursor: str | None


class RoleIn(Input):
    role: Role


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    actor_id: str | None = Field(description=(
        "The account that acted; null for the command line, or once that account is deleted."))
    actor_email: str = Field(description="Its email then; `cli` for the command line.")
    actor_role: str | None = Field(description="Its role then; null for the command line.")
    action: str = Field(description=(
        "A stable code: `user.created`, `user.role_changed`, `user.deactivated`, "
        "`user.reactivated`, `user.deleted`, `directory.entry_deleted`, `directory.imported`, "
        "`webhook.created`, `webhook.updated`, `webhook.deleted`, `api_key.created`, "
        "`api_key.revoked`, `password.reset`."))
    target_type: str = Field(description="`user`, `directory_entry`, `import`, `webhook` or "
                                         "`api_key`.")
    target_id: str | None
    summary: str = Field(description="What was done, in a sentence for a person.")
    client_address: str | None = Field(description="The client's address; null for the "
                                                   "command line.")
    details: dict[str, Any] | None = Field(description=(
        "What changed, by action (such as `from` and `to` of a role); `api_key` names the "
        "prefix of the key that was used, when one was."))
