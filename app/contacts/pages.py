"""Contact and organization pages: full HTML for the first load; forms call the API routes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.contacts import service
from app.contacts.schemas import ContactOut, OrganizationOut, join_tags
from app.contacts.service import ContactFilters, Sort
from app.deps import DbSession, PagePrincipal
from app.etag import etag
from app.interviews import service as interviews
from app.messages import service as messages
from app.models import Contact, Organization, Source, Stage, TaskStatus, User
from app.pagination import Cursor
from app.tasks import service as tasks
from app.web import render, templates

router = APIRouter(include_in_schema=False)

STAGE_LABELS = {
    "identified": "Identified", "contacted": "Contacted", "scheduled": "Scheduled",
    "interviewed": "Interviewed", "thanked": "Thanked", "following_up": "Following up",
    "closed": "Closed",
}
SOURCE_LABELS = {
    "personal": "Personal network", "referral": "Referral", "alumni": "Alumni",
    "cold": "Cold outreach", "event": "Event", "other": "Other",
}

# The contact page's sections, each read and edited on its own, in the order shown.
SECTION_TITLES = {"about": "About", "progress": "Where things stand", "notes": "Notes"}
Section = Literal["about", "progress", "notes"]


@dataclass
class ListFilters(ContactFilters):
    sort: Sort = "name"


def _page_filters(
    q: Annotated[str | None, Query(max_length=200)] = None,
    stage: Stage | None = None,
    source: Source | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    sort: Sort = "name",
) -> ListFilters:
    return ListFilters(q=q, stage=stage, source=source, tag=tag, sort=sort)


PageFilters = Annotated[ListFilters, Depends(_page_filters)]


def _filters_context(db: Session, user: User, filters: ListFilters) -> dict[str, Any]:
    return {"filters": filters, "sort": filters.sort, "counts": service.stage_counts(db, user),
            "tags": service.owner_tags(db, user)}


def chip_url(filters: ContactFilters, sort: str, key: str, value: str) -> str:
    """The list with one filter set, or cleared when it is already set to that value."""
    current = {"stage": filters.stage, "source": filters.source, "tag": filters.tag, "sort": sort}
    params = {**current, key: None if current.get(key) == value else value}
    return "/contacts?" + urlencode({k: v for k, v in params.items() if v})


def list_query(filters: ContactFilters, sort: str, cursor: str | None = None) -> str:
    """The API query for a list with these filters (empty ones left out)."""
    params = {"q": filters.q, "stage": filters.stage, "source": filters.source, "tag": filters.tag,
              "sort": sort, "cursor": cursor}
    return urlencode({k: v for k, v in params.items() if v})


def tags_text(tags: list[str] | str | None) -> str:
    """Tags as the form shows them (a form sent back with errors has them as text already)."""
    if isinstance(tags, str):
        return tags
    return join_tags(tags or [], ", ")


def is_web_link(address: str | None) -> bool:
    """Whether a stored address may be a link: http(s) only, whatever was stored long ago."""
    return bool(address) and urlsplit(address or "").scheme in {"http", "https"}


def address_label(address: str) -> str:
    """A web address as shown: without its scheme, a leading "www." or a trailing slash."""
    shown = address.split("://", 1)[-1].removeprefix("www.")
    return shown[:-1] if shown.endswith("/") and shown.count("/") == 1 else shown


def due_state(moment: datetime, user: Any) -> str:
    """How soon a date is, in the person's own day: overdue, today or later."""
    start, end = tasks.today_bounds(user)
    return "overdue" if moment < start else "today" if moment < end else "later"


templates.env.globals.update(stage_labels=STAGE_LABELS, source_labels=SOURCE_LABELS,
                             section_titles=SECTION_TITLES, list_query=list_query,
                             chip_url=chip_url, due_state=due_state)
templates.env.filters.update(tags_text=tags_text, address_label=address_label)
templates.env.tests["web_link"] = is_web_link


@router.get("/contacts", response_class=HTMLResponse)
def contacts_page(
    request: Request, principal: PagePrincipal, db: DbSession, filters: PageFilters
) -> Response:
    contacts, next_cursor = service.list_contacts(db, principal.user, filters, filters.sort, 50, None)
    return render(request, "contacts/list.html", {
        **_filters_context(db, principal.user, filters),
        "contacts": contacts, "next_cursor": next_cursor, "form": {},
    })


@router.get("/contacts/filters", response_class=HTMLResponse)
def contacts_filters(
    request: Request, principal: PagePrincipal, db: DbSession, filters: PageFilters
) -> Response:
    """The filter chips again, with fresh counts: asked for after a contact is added."""
    return render(request, "contacts/list.html", _filters_context(db, principal.user, filters),
                  block="filters")


@router.get("/contacts/board", response_class=HTMLResponse)
def board_page(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    return render(request, "contacts/board.html", {"columns": service.board(db, principal.user)})


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
def contact_page(
    contact_id: str, request: Request, principal: PagePrincipal, db: DbSession
) -> Response:
    contact = service.get_contact(db, principal.user, contact_id)
    return render(request, "contacts/detail.html", contact_context(db, principal.user, contact))


@router.get("/contacts/{contact_id}/sections/{section}", response_class=HTMLResponse)
def contact_section(
    contact_id: str, section: Section, request: Request, principal: PagePrincipal, db: DbSession,
    edit: bool = False,
) -> Response:
    """One section of the contact page, read or (``edit``) as its form."""
    contact = service.get_contact(db, principal.user, contact_id)
    context = {**contact_context(db, principal.user, contact), "section": section,
               "editing": edit}
    return render(request, "contacts/detail.html", context, block="contact_section")


def contact_context(db: Session, owner: User, contact: Contact) -> dict[str, Any]:
    """What the contact page shows: its sections, the next actions, the timeline and the
    referral chain."""
    events, _ = service.timeline(db, contact, 100, None)
    open_tasks, _ = tasks.list_tasks(db, owner, None, None, None, contact.id, None, 20, None)
    return {
        "contact": contact,
        "form": ContactOut.model_validate(contact).model_dump(),
        "etag": etag(contact.version),
        "events": [(e, service.summarize(e)) for e in events],
        "chain": service.referral_chain(db, contact),
        "referrers": service.referrer_choices(db, contact),
        "interviews": interviews.list_interviews(db, owner, contact.id, None, 50, None)[0],
        "messages": messages.list_messages(db, owner, contact.id, None, None, 20, None)[0],
        "open_tasks": [t for t in open_tasks if t.status != TaskStatus.done][:3],
    }


@router.get("/organizations", response_class=HTMLResponse)
def organizations_page(
    request: Request, principal: PagePrincipal, db: DbSession, cursor: Cursor = None
) -> Response:
    orgs, next_cursor = service.list_organizations(db, principal.user, 100, cursor)
    return render(request, "contacts/organizations.html",
                  {"orgs": orgs, "next_cursor": next_cursor, "form": {}})


@router.get("/organizations/{organization_id}", response_class=HTMLResponse)
def organization_page(
    organization_id: str, request: Request, principal: PagePrincipal, db: DbSession
) -> Response:
    org = service.get_organization(db, principal.user, organization_id)
    return render(request, "contacts/organization.html", organization_context(db, org))


def organization_context(db: Session, org: Organization) -> dict[str, Any]:
    return {
        "org": org, "form": OrganizationOut.model_validate(org).model_dump(),
        "etag": etag(org.version), "contacts": service.organization_contacts(db, org),
    }
