"""The administration pages: the accounts (administrators change them, staff read the
students), and the audit log (administrators). Their lists and buttons call the API routes."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BeforeValidator

from app import audit
from app.admin import service
from app.admin.schemas import Status
from app.deps import AppSettings, DbSession, PagePrincipal
from app.models import Role
from app.schemas import blank_is_none
from app.web import render, templates

router = APIRouter(include_in_schema=False)

ROLE_LABELS = {Role.student.value: "Student", Role.staff.value: "Staff",
               Role.admin.value: "Administrator"}
ACTION_LABELS = {
    audit.Action.user_created.value: "Account created",
    audit.Action.user_role_changed.value: "Role changed",
    audit.Action.user_deactivated.value: "Account deactivated",
    audit.Action.user_reactivated.value: "Account reactivated",
    audit.Action.user_deleted.value: "Account deleted",
    audit.Action.directory_entry_deleted.value: "Directory entry deleted",
    audit.Action.directory_imported.value: "Directory imported",
    audit.Action.webhook_created.value: "Webhook added",
    audit.Action.webhook_updated.value: "Webhook changed",
    audit.Action.webhook_deleted.value: "Webhook deleted",
    audit.Action.api_key_created.value: "API key created",
    audit.Action.api_key_revoked.value: "API key revoked",
    audit.Action.password_reset.value: "Password reset",
}
templates.env.globals.update(role_labels=ROLE_LABELS, audit_actions=ACTION_LABELS)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request, principal: PagePrincipal, db: DbSession, settings: AppSettings,
    q: Text = None,
    role: Annotated[Role | None, BeforeValidator(blank_is_none), Query()] = None,
    status: Annotated[Status | None, BeforeValidator(blank_is_none), Query()] = None,
) -> Response:
    filters = service.filters_for(principal.user, service.UserFilters(q, role, status))
    full = service.is_admin(principal.user)
    users, next_cursor = service.list_users(db, settings, filters, 50, None, full)
    more = {"q": q, "role": role, "status": status, "cursor": next_cursor}
    return render(request, "admin/users.html", {
        "users": users, "full": full, "form": {"q": q or "", "role": role, "status": status},
        "searched": bool(q or role or status),
        "more": urlencode({k: v for k, v in more.items() if v}) if next_cursor else None})


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, principal: PagePrincipal, db: DbSession, settings: AppSettings,
    action: Annotated[audit.Action | None, BeforeValidator(blank_is_none), Query()] = None,
    actor: Annotated[str | None, Query(max_length=320)] = None,
) -> Response:
    service.require_admin(principal.user)
    entries, next_cursor = audit.list_entries(db, 50, None, action, actor)
    more = {"action": action, "actor": actor, "cursor": next_cursor}
    return render(request, "admin/audit.html", {
        "entries": entries, "form": {"action": action, "actor": actor or ""},
        "keep_days": settings.audit_keep_days,
        "searched": bool(action or actor),
        "more": urlencode({k: v for k, v in more.items() if v}) if next_cursor else None})
