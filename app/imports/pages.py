"""The import page: choose a file, check it, import it, read the report."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import DbSession, PagePrincipal
from app.imports import service
from app.imports.router import out
from app.web import render

router = APIRouter(include_in_schema=False)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: PagePrincipal, db: DbSession,
                 target: Annotated[str, Query(pattern="^(contacts|directory)$")] = "contacts"
                 ) -> Response:
    user = principal.user
    staff = service.may_write_directory(user)
    jobs, _ = service.list_imports(db, user, 10, None)
    return render(request, "imports/page.html", {
        "target": target if staff else "contacts", "staff": staff,
        "jobs": [j for j in jobs if not j.dry_run]})


@router.get("/imports/progress", response_class=HTMLResponse)
def progress(request: Request, principal: PagePrincipal, db: DbSession) -> Response:
    """How far the student's running import has got (asked while the upload is in flight)."""
    job = service.running(db, principal.user)
    return render(request, "imports/page.html", {"running": job}, block="progress")


@router.get("/imports/{import_id}", response_class=HTMLResponse)
def import_page(import_id: str, request: Request, principal: PagePrincipal,
                db: DbSession) -> Response:
    job = service.get_import(db, principal.user, import_id)
    return render(request, "imports/page.html", {"job": out(db, job), "single": True})
