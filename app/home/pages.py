"""The dashboard: what is due, what is coming, and the pipeline at a glance."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from app.contacts import service as contacts
from app.db import utcnow
from app.deps import AppSettings, DbSession, MaybePrincipal
from app.directory.service import is_staff
from app.imports import service as imports
from app.interviews import service as interviews
from app.messages import service as messages
from app.models import Contact, DirectoryEntry, Message, Stage, User
from app.stats import charts
from app.stats import service as stats
from app.tasks import service as tasks
from app.tasks.service import Due
from app.web import render

router = APIRouter(include_in_schema=False)

PIPELINE = [Stage.identified, Stage.contacted, Stage.scheduled, Stage.interviewed, Stage.thanked,
            Stage.following_up, Stage.closed]


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for this on any document, an API answer opened in a tab included."""
    return Response(status_code=301, headers={"Location": "/static/favicon.svg"})


@router.get("/", response_class=HTMLResponse)
def home(request: Request, principal: MaybePrincipal, db: DbSession,
         settings: AppSettings) -> Response:
    if principal is None or principal.api_key is not None:
        return render(request, "home/welcome.html", {"user": None})
    user = principal.user
    if is_staff(user):
        return staff_home(request, db, user, settings.thank_you_hours)
    missing = [label for field, label in (("school", "your school"), ("major", "your major"),
                                          ("career_goal", "your career goal"))
               if not getattr(user, field)]
    overdue, _ = tasks.list_tasks(db, user, None, None, None, None, None, 20, None, Due.overdue)
    today, _ = tasks.list_tasks(db, user, None, None, None, None, None, 20, None, Due.today)
    coming, _ = tasks.list_tasks(db, user, None, None, None, None, None, 6, None, Due.upcoming)
    planned = interviews.upcoming(db, user, 5)
    counts = contacts.stage_counts(db, user)
    sent, replied = messages.outreach_this_month(db, user)
    has_contacts = db.scalar(select(func.count()).where(Contact.owner_id == user.id)) or 0
    has_messages = db.scalar(select(func.count()).where(Message.owner_id == user.id)) or 0
    start = [("Set up your profile", "/settings", not missing),
             ("Add the first person you'd like to talk to", "/contacts", bool(has_contacts)),
             ("Write your first message: open a contact and choose Write a message", "/contacts",
              bool(has_messages))]
    return render(request, "home/home.html", {
        "missing": missing, "overdue": overdue, "today": today, "coming": coming,
        "interviews": planned, "pipeline": [(stage, counts[stage]) for stage in PIPELINE],
        "most": max(counts.values()) or 1, "sent": sent, "replied": replied,
        "start": start if not all(done for _, _, done in start) else None,
    })


def staff_home(request: Request, db: DbSession, user: User, thank_you_hours: int) -> Response:
    """Career services' landing page: this month's figures, the directory and the imports."""
    today = utcnow().date()
    this_month = today.strftime("%Y-%m")
    totals = stats.engagement(db, stats.months(this_month, this_month, today),
                              thank_you_hours)["totals"]
    listed = DirectoryEntry.deleted_at.is_(None)
    alumni = db.scalar(select(func.count()).where(listed)) or 0
    open_to_requests = db.scalar(select(func.count()).where(
        listed, DirectoryEntry.accepts_requests.is_(True))) or 0
    jobs, _ = imports.list_imports(db, user, 5, None)
    return render(request, "home/staff.html", {
        "month": today.strftime("%B %Y"), "totals": totals,
        "reply_rate": charts.percent(totals["reply_rate"]),
        "alumni": alumni, "open_to_requests": open_to_requests,
        "jobs": [j for j in jobs if not j.dry_run],
    })
