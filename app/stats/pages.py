"""The staff page: student engagement month by month as charts, the most engaged alumni, and
how each template's messages are answered."""

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.db import utcnow
from app.deps import AppSettings, DbSession, PagePrincipal
from app.errors import ValidationFailed
from app.stats import charts, service
from app.web import render

router = APIRouter(include_in_schema=False)
ALUMNI_PAGE = 10

Month = Annotated[str | None, Query(max_length=20)]


def more_alumni(since: date | None, until: date | None, cursor: str | None) -> str | None:
    """The query of the next page of the alumni list, for its "Show more" button."""
    if cursor is None:
        return None
    query = {"since": since, "until": until, "limit": ALUMNI_PAGE, "cursor": cursor}
    return urlencode({k: str(v) for k, v in query.items() if v is not None})


@router.get("/stats", response_class=HTMLResponse)
def stats_page(request: Request, principal: PagePrincipal, db: DbSession, settings: AppSettings,
               first: Annotated[Month, Query(alias="from")] = None,
               last: Annotated[Month, Query(alias="to")] = None) -> Response:
    service.require_staff(principal.user)
    form = {"from": first or "", "to": last or ""}
    try:
        span = service.months(first, last, utcnow().date())
    except ValidationFailed as problem:
        return render(request, "stats/page.html", {"form": form, "errors": dict(problem.fields)},
                      status_code=422)
    figures = service.engagement(db, span, settings.thank_you_hours)
    for row in figures["months"]:
        row["on_time"] = row["thank_yous_on_time"]
        row["late"] = row["thank_yous_sent"] - row["thank_yous_on_time"]
    since, until = span.first, span.end.date() - timedelta(days=1)
    within = service.period(since, until)
    alumni, cursor = service.directory_counts(db, within, ALUMNI_PAGE, None)
    totals = figures["totals"]
    return render(request, "stats/page.html", {
        "form": {"from": span.labels[0], "to": span.labels[-1]}, "errors": {},
        "span": (charts.month_name(span.labels[0], "%B %Y"),
                 charts.month_name(span.labels[-1], "%B %Y")),
        "totals": totals, "on_time": charts.percent(
            totals["thank_yous_on_time"] / totals["thank_yous_sent"]
            if totals["thank_yous_sent"] else None),
        "reply_rate": charts.percent(totals["reply_rate"]),
        "charts": charts.charts(figures["months"]), "alumni": alumni,
        "alumni_more": more_alumni(since, until, cursor),
        "templates": service.template_counts(db, within),
        "percent": charts.percent,
        "quiet": not any(v for k, v in totals.items() if k != "reply_rate"),
    })
