"""Engagement figures for career-services staff and their CRM: counts only, never who."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.accounts.service import Principal
from app.db import utcnow
from app.deps import AppSettings, DbSession, require_scope
from app.errors import ERROR_RESPONSES
from app.pagination import Cursor, Limit, Page
from app.schemas import StrictDay
from app.stats import pages, service
from app.stats.schemas import DirectoryRow, Engagement, TemplatePage
from app.web import is_htmx, render

router = APIRouter(prefix="/api/v1/stats", tags=["stats"], responses=ERROR_RESPONSES)

ACCESS = ("Career-services staff and admins only: a logged-in session, or an API key of a staff "
          "member with the scope `stats:read`. Students get 403.")


def staff_reader(principal: Annotated[Principal, Depends(require_scope("stats:read"))]
                 ) -> Principal:
    service.require_staff(principal.user)
    return principal


Reader = Annotated[Principal, Depends(staff_reader)]
Since = Annotated[StrictDay | None, Query(description=(
    "Count what happened on or after this day (UTC), written YYYY-MM-DD."))]
Until = Annotated[StrictDay | None, Query(description=(
    "Count what happened on or before this day (UTC), written YYYY-MM-DD."))]


@router.get("/engagement", response_model=Engagement, description=(
    "Student activity month by month. Months are calendar months in UTC. " + ACCESS))
def engagement_figures(
    principal: Reader, db: DbSession, settings: AppSettings,
    first: Annotated[str | None, Query(max_length=20, alias="from", description=(
        "The first month, YYYY-MM (UTC). Default: 11 months before `to`."))] = None,
    last: Annotated[str | None, Query(max_length=20, alias="to", description=(
        "The last month, YYYY-MM (UTC), included. Default: this month. At most 36 months "
        "from `from`."))] = None,
) -> Any:
    span = service.months(first, last, utcnow().date())
    return service.engagement(db, span, settings.thank_you_hours)


@router.get("/directory", response_model=Page[DirectoryRow], description=(
    "Per alumni directory entry, how many distinct students added, contacted (outreach or a "
    "LinkedIn note) and interviewed them; entries no student has reached are left out. Ordered "
    "by most engaged: interviewed, then contacted, then added (all descending), then by name. "
    "Counts only: no student is named. " + ACCESS))
def directory_engagement(request: Request, principal: Reader, db: DbSession, since: Since = None,
              until: Until = None, limit: Limit = 50, cursor: Cursor = None) -> Any:
    within = service.period(since, until)
    items, next_cursor = service.directory_counts(db, within, limit, cursor)
    if is_htmx(request):  # "Show more" on the staff page
        return render(request, "stats/page.html", {
            "alumni": items, "alumni_more": pages.more_alumni(since, until, next_cursor),
            "oob": True}, block=["alumni_rows", "alumni_more"])
    return {"items": items, "next_cursor": next_cursor}


@router.get("/templates", response_model=TemplatePage, description=(
    "Messages sent and replied per shared default template (by name and kind), and students' "
    "own templates together as one row per kind, named \"Students' own templates\" (a row "
    "appears once such a message was sent). A student's own template is never named. " + ACCESS))
def template_replies(principal: Reader, db: DbSession, since: Since = None,
              until: Until = None) -> Any:
    return {"items": service.template_counts(db, service.period(since, until)),
            "next_cursor": None}
