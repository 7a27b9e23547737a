"""Account administration and the audit log: JSON for API clients, the matching fragment for
htmx (the /admin pages use these routes)."""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BeforeValidator

from app import audit
from app.accounts.service import Principal
from app.admin import service
from app.admin.schemas import AdminUserOut, AdminUserPage, AuditEntryOut, RoleIn, Status
from app.config import Settings
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES, Conflict, ErrorOut
from app.models import Role, User
from app.pagination import Cursor, Limit, Page
from app.schemas import blank_is_none
from app.web import is_htmx, render

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)
USERS_PAGE = "admin/users.html"
ROW = "admin/_user_row.html"
AUDIT_PAGE = "admin/audit.html"


def lister(principal: Annotated[Principal, Depends(require_scope("users:read"))]) -> Principal:
    service.require_staff(principal.user)
    return principal


def administrator(principal: Annotated[Principal, Depends(require_scope("users:write"))]
                  ) -> Principal:
    service.require_admin(principal.user)
    return principal


def auditor(principal: Annotated[Principal, Depends(require_scope("audit:read"))]) -> Principal:
    service.require_admin(principal.user)
    return principal


Lister = Annotated[Principal, Depends(lister)]
Administrator = Annotated[Principal, Depends(administrator)]
Auditor = Annotated[Principal, Depends(auditor)]


def target_user(user_id: str, principal: Administrator, db: DbSession) -> User:
    return service.get_user(db, user_id)


Target = Annotated[User, Depends(target_user)]


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ADMIN_ONLY = _error("`admin_only`: only administrators may do this; `missing_scope`: the API "
                    "key lacks `users:write`; or `csrf_failed`")
NOT_FOUND = _error("`not_found`: there is no account with this id")
OWN_ACCOUNT = "`own_account`: an administrator cannot {} their own account"
LAST_ADMIN = ("`last_admin`: the account is the last active administrator, and Rapport would "
              "be left with none (make someone else an administrator first)")
ACTED: dict[int | str, dict[str, Any]] = {200: {"description": (
    "Done (or it already was so: then nothing changed and nothing is recorded). The account "
    "as administrators see it.")}}

# Filters as the page's form sends them: an empty select is no filter.
Q = Annotated[str | None, Query(max_length=200, description="Part of the name or the email.")]
RoleFilter = Annotated[Role | None, BeforeValidator(blank_is_none), Query(
    description="Administrators only; staff may give `student`.")]
StatusFilter = Annotated[Status | None, BeforeValidator(blank_is_none), Query(
    description="`active` or `deactivated`; administrators only (staff see active accounts).")]


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v})


@router.get("/users", response_model=AdminUserPage, response_model_exclude_unset=True,
            responses={403: _error(
                "`staff_only`: students may not list accounts; `admin_only`: staff asked for "
                "another role than `student`, or for deactivated accounts; or `missing_scope`: "
                "the API key lacks `users:read`")})
def list_users(request: Request, principal: Lister, db: DbSession, settings: AppSettings,
               q: Q = None, role: RoleFilter = None, status: StatusFilter = None,
               limit: Limit = 50, cursor: Cursor = None) -> Any:
    """Accounts by name. Administrators see every account, with its role, status, creation
    and last activity; staff see the active students only (name, email, last active)."""
    filters = service.filters_for(principal.user, service.UserFilters(q, role, status))
    full = service.is_admin(principal.user)
    items, next_cursor = service.list_users(db, settings, filters, limit, cursor, full)
    if is_htmx(request):
        # "Show more" appends rows; a search or a filter redraws the whole list.
        block = "rows" if request.headers.get("HX-Target") == "more-row" else "results"
        return render(request, USERS_PAGE, {
            "users": items, "full": full, "searched": bool(q or role or status),
            "more": _query(q=q, role=role, status=status, cursor=next_cursor)
            if next_cursor else None}, block=block)
    return {"items": items, "next_cursor": next_cursor}


def _answer(request: Request, db: DbSession, settings: Settings, target: User,
            act: Callable[[], object], done: str) -> Any:
    """Do ``act`` and answer with the account (for htmx, its row, saying ``done``)."""
    try:
        act()
    except Conflict as exc:
        return _refused(request, db, settings, target, exc)
    shown = _shown(db, settings, target)
    if is_htmx(request):
        return render(request, ROW, {"u": shown, "full": True, "done": done})
    return shown


def _refused(request: Request, db: DbSession, settings: Settings, target: User,
             exc: Conflict) -> Response:
    """For htmx, the account's row with the reason beside it (where the person looks, and
    the role select back to the role the account has); for anyone else, the error."""
    if not is_htmx(request):
        raise exc
    return render(request, ROW, {"u": _shown(db, settings, target), "full": True,
                                 "error": exc.detail}, status_code=exc.status_code)


def _shown(db: DbSession, settings: Settings, user: User) -> dict[str, Any]:
    return service.shown(user, service.last_active(db, settings, [user.id]).get(user.id), True)


@router.patch("/users/{user_id}", response_model=AdminUserOut, responses={
    **ACTED, 403: ADMIN_ONLY, 404: NOT_FOUND,
    409: _error(f"{OWN_ACCOUNT.format('change the role of')}; or {LAST_ADMIN}")})
def change_user_role(body: RoleIn, request: Request, principal: Administrator, db: DbSession,
                settings: AppSettings, target: Target) -> Any:
    """Change the account's role (`student`, `staff` or `admin`), in force from its next
    request. With single sign-on taking roles from the provider (`RAPPORT_OIDC_ROLES_CLAIM`),
    the account's next sign-in sets its role from the provider again."""
    actor = audit.Actor.calling(principal, request)
    return _answer(request, db, settings, target,
                   lambda: service.change_role(db, actor, target, body.role), "Role saved")


@router.post("/users/{user_id}/deactivate", response_model=AdminUserOut, responses={
    **ACTED, 403: ADMIN_ONLY, 404: NOT_FOUND,
    409: _error(f"{OWN_ACCOUNT.format('deactivate')}; or {LAST_ADMIN}")})
def deactivate_user(request: Request, principal: Administrator, db: DbSession,
               settings: AppSettings, target: Target) -> Any:
    """Deactivate the account, at once: every browser session of it ends, every API key of it
    is answered 401 `account_deactivated`, and a login with its password is refused (403
    `account_deactivated`), as is a university sign-in; a password reset sends it nothing.
    Nothing it owns is deleted."""
    actor = audit.Actor.calling(principal, request)
    return _answer(request, db, settings, target,
                   lambda: service.deactivate(db, actor, target),
                   "Deactivated: logged out everywhere")


@router.post("/users/{user_id}/reactivate", response_model=AdminUserOut, responses={
    **ACTED, 403: ADMIN_ONLY, 404: NOT_FOUND})
def reactivate_user(request: Request, principal: Administrator, db: DbSession,
               settings: AppSettings, target: Target) -> Any:
    """Let the account log in again; its API keys work again. Its browser sessions ended when
    it was deactivated: its owner logs in anew."""
    actor = audit.Actor.calling(principal, request)
    return _answer(request, db, settings, target,
                   lambda: service.reactivate(db, actor, target), "Reactivated")


@router.delete("/users/{user_id}", status_code=204, responses={
    204: {"description": "Deleted, with everything the account owned (its contacts, "
                         "interviews, messages, tasks, keys and sessions); the alumni "
                         "directory is not touched."},
    403: ADMIN_ONLY, 404: NOT_FOUND,
    409: _error(f"{OWN_ACCOUNT.format('delete')}; or {LAST_ADMIN}")})
def delete_user(request: Request, principal: Administrator, db: DbSession,
                settings: AppSettings, target: Target) -> Response:
    """Delete the account and everything it owns. This cannot be undone."""
    actor = audit.Actor.calling(principal, request)
    name = target.name
    try:
        service.delete_user(db, actor, target)
    except Conflict as exc:
        return _refused(request, db, settings, target, exc)
    if is_htmx(request):
        return render(request, ROW, {"deleted": name, "full": True})
    return Response(status_code=204)


ActionFilter = Annotated[audit.Action | None, BeforeValidator(blank_is_none), Query(
    description="Only entries of this action.")]
ActorFilter = Annotated[str | None, Query(
    max_length=320, description="Only what this email did (as recorded then), in any case; "
                                "`cli` for the command line.")]
TargetFilter = Annotated[str | None, Query(max_length=200, description=(
    "Only entries about this account, directory entry, import, webhook or API key."))]


@router.get("/audit", response_model=Page[AuditEntryOut], responses={
    403: _error("`admin_only`: only administrators read the audit log; or `missing_scope`: "
                "the API key lacks `audit:read`")})
def list_audit_entries(request: Request, principal: Auditor, db: DbSession,
               action: ActionFilter = None, actor: ActorFilter = None,
               target_id: TargetFilter = None, limit: Limit = 50,
               cursor: Cursor = None) -> Any:
    """What staff and administrators did (and the command line), newest first: who, what,
    when, from which address. Entries cannot be changed or deleted; they are deleted after
    `RAPPORT_AUDIT_KEEP_DAYS` (365 by default)."""
    items, next_cursor = audit.list_entries(db, limit, cursor, action, actor, target_id)
    if is_htmx(request):
        block = "rows" if request.headers.get("HX-Target") == "more-row" else "results"
        return render(request, AUDIT_PAGE, {
            "entries": items, "searched": bool(action or actor or target_id),
            "more": _query(action=action, actor=actor, target_id=target_id, cursor=next_cursor)
            if next_cursor else None}, block=block)
    return {"items": items, "next_cursor": next_cursor}

