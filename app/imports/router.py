"""Import routes: a file in, a report out."""

import json
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.accounts.service import Principal
from app.deps import DbSession, require_any_scope
from app.errors import ERROR_RESPONSES, Forbidden, ValidationFailed, conflicts
from app.imports import rows, service
from app.imports.reading import FileProblem, open_source
from app.imports.schemas import Format, ImportOut, Target
from app.models import Import, ImportRowError
from app.pagination import Cursor, Limit, Page
from app.web import is_htmx, render

router = APIRouter(prefix="/api/v1", tags=["imports"], responses=ERROR_RESPONSES)

SCOPE = {"contacts": "contacts:write", "directory": "directory:write"}
READ_SCOPE = {"contacts": "contacts:read", "directory": "directory:read"}
# A key needs one of these to reach the route at all; then the scope of the import's target.
Importer = Annotated[Principal, Depends(require_any_scope(*SCOPE.values()))]
ImportReader = Annotated[Principal, Depends(require_any_scope(*READ_SCOPE.values()))]


def _scoped(principal: Principal, scope: str) -> None:
    if principal.api_key is not None and scope not in principal.api_key.scopes:
        raise Forbidden(f"This API key lacks the scope {scope}.", code="missing_scope")


def out(db: Session, job: Import) -> dict[str, Any]:
    totals = dict(db.execute(select(ImportRowError.kind, func.count())
                             .where(ImportRowError.import_id == job.id)
                             .group_by(ImportRowError.kind)).all())
    conflicts = [{"row": c.row, "field": c.field, "value": c.value, "message": c.message, **c.about}
                 for c in service.errors_of(db, job, 1000, "conflict")]
    return {**{c: getattr(job, c) for c in ImportOut.model_fields if hasattr(job, c)},
            "errors": service.errors_of(db, job, 1000), "errors_total": totals.get("error", 0),
            "errors_csv": f"/api/v1/imports/{job.id}/errors.csv",
            "conflicts": conflicts, "conflicts_total": totals.get("conflict", 0),
            "warnings": service.errors_of(db, job, 1000, "warning"),
            "warnings_total": totals.get("warning", 0)}


@router.post("/imports", status_code=201, response_model=ImportOut, responses=conflicts(
    import_running="another import into the same place is running; wait for it to end"))
def create_import(
    request: Request, principal: Importer, db: DbSession,
    file: Annotated[UploadFile, File(description="CSV (Outlook, Google, Thunderbird, "
                                                 "Yahoo, LinkedIn…), Excel .xlsx, LinkedIn's data-"
                                                 "export .zip, vCard or JSON.")],
    target: Annotated[Target, Form()] = "contacts",
    format: Annotated[Format, Form()] = "auto",
    dry_run: Annotated[bool, Form()] = False,
    mapping: Annotated[str | None, Form(description='JSON: {"Column name": "field"}; '
                                                    'an empty field leaves a column out.')] = None,
) -> Any:
    _scoped(principal, SCOPE[target])
    columns: dict[str, str] | None = None
    if mapping:
        try:
            columns = json.loads(mapping)
        except (ValueError, RecursionError):
            columns = None
        if not isinstance(columns, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise ValidationFailed(fields=[("mapping", 'Send an object such as '
                                                       '{"Class Year": "graduation_year"}.')])
    try:
        job = service.run(db, principal.user, file.file, target=target, fmt=format,
                          filename=file.filename or "", dry_run=dry_run, mapping=columns,
                          max_rows=request.app.state.settings.import_max_contact_rows,
                          actor=audit.Actor.calling(principal, request))
    except FileProblem as problem:
        raise ValidationFailed(problem.message, code="file_unreadable",
                               fields=[("file", problem.message)]) from None
    if job.status == "failed":
        raise ValidationFailed(
            f"{job.problem} What came before row {job.lines_done + 1} was imported "
            f"({job.created} created, {job.updated} updated, {job.unchanged} unchanged, "
            f"{job.skipped} skipped); the report is at /imports/{job.id}.",
            code="file_unreadable", fields=[("file", job.problem)])
    if is_htmx(request):
        return render(request, "imports/page.html", {
            "job": out(db, job), "preview": _preview(file, format, columns, target)},
            block="report", status_code=201)
    return out(db, job)


def _preview(file: UploadFile, fmt: str, columns: dict[str, str] | None,
             target: str) -> list[dict[str, str]]:
    """The first rows as they will be read: what the page shows before the import."""
    file.file.seek(0)
    source = open_source(file.file, fmt, file.filename or "", columns)
    first = [rows.mapped(record, target) for _, record, _ in islice(source.records, 5)]
    source.release()
    return first


def readable_import(import_id: str, principal: ImportReader, db: DbSession) -> Import:
    """An import of the caller's; through a key, one that may read where it went."""
    job = service.get_import(db, principal.user, import_id)
    _scoped(principal, READ_SCOPE[job.target])
    return job


@router.get("/imports", response_model=Page[ImportOut])
def list_imports(principal: ImportReader, db: DbSession, limit: Limit = 20,
                 cursor: Cursor = None) -> Any:
    items, next_cursor = service.list_imports(db, principal.user, limit, cursor)
    if principal.api_key is not None:
        items = [job for job in items if READ_SCOPE[job.target] in principal.api_key.scopes]
    return {"items": [out(db, job) for job in items], "next_cursor": next_cursor}


@router.get("/imports/{import_id}", response_model=ImportOut)
def get_import(db: DbSession, job: Annotated[Import, Depends(readable_import)]) -> Any:
    return out(db, job)


@router.get("/imports/{import_id}/errors.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "The failed rows."}})
def failed_rows(request: Request, job: Annotated[Import, Depends(readable_import)]) -> Response:
    return StreamingResponse(
        service.failed_rows_csv(request.app.state.reading_sessionmaker, job.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job.id}-errors.csv"'})
