"""Interactive API reference at /docs, served from vendored Swagger UI (no CDN, strict CSP)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    return render(request, "docs.html")
