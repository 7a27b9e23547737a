"""The application factory."""

import gc

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import errors, openapi
from app.accounts import oidc
from app.accounts import pages as account_pages
from app.accounts import router as account_router
from app.accounts import service as accounts
from app.accounts.usage import writing_uses
from app.admin import pages as admin_pages
from app.admin import router as admin_router
from app.config import Settings, get_settings
from app.contacts import pages as contact_pages
from app.contacts import router as contact_router
from app.db import make_engine, make_sessionmaker, reading
from app.directory import pages as directory_pages
from app.directory import router as directory_router
from app.docs import router as docs_router
from app.home import pages as home_pages
from app.imports import pages as import_pages
from app.imports import router as import_router
from app.interviews import pages as interview_pages
from app.interviews import router as interview_router
from app.messages import pages as message_pages
from app.messages import router as message_router
from app.middleware import BodyLimit, CloseAfterServerError, SecurityHeaders, ServerErrors
from app.questions import pages as question_pages
from app.questions import router as question_router
from app.ratelimit import Limiter, RateLimitHeaders
from app.reminders import pages as reminder_pages
from app.reminders import router as reminder_router
from app.stats import pages as stats_pages
from app.stats import router as stats_router
from app.tasks import pages as task_pages
from app.tasks import router as task_router
from app.web import ROOT
from app.webhooks import pages as webhook_pages
from app.webhooks import router as webhook_router

DESCRIPTION = """
Rapport helps students run informational interviews. Authenticate with the session cookie
(browser) or `Authorization: Bearer <api key>`. Errors always look like
`{"error": "<code>", "detail": "<sentence>", "fields": [{"field", "message"}]}`.

Requests with an API key are rate limited per key, and requests with a session per user, over
a moving window. Every such answer carries `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` (seconds until the oldest request counted leaves the window) and
`RateLimit-Policy` (`600;w=60`: 600 requests in any 60 seconds). Over the limit the answer is
`429` with `Retry-After` (seconds), and the request was not carried out: wait, then send it
again.

When the database is too busy to take a request, the answer is `503` with `"error":
"database_busy"` and `Retry-After` (seconds), and nothing was done: send the same request again
after that long. Every `5xx` answer carries `Connection: close`: send the next request on a new
connection.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Rapport",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        generate_unique_id_function=openapi.operation_id,
        lifespan=writing_uses,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, settings.database_pool_size)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    # For what only reads for a long time (a streamed export): on SQLite it takes no write lock.
    app.state.reading_sessionmaker = make_sessionmaker(reading(app.state.engine))
    app.state.rate_limiter = Limiter(settings)

    errors.install(app)
    openapi.install(app)
    app.add_middleware(ServerErrors)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes,
                       uploads={"/api/v1/imports": settings.import_max_bytes,
                                "/api/v1/directory/batch": settings.directory_batch_max_bytes})
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(CloseAfterServerError)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(account_router.router)
    app.include_router(oidc.router)
    app.include_router(contact_router.router)
    app.include_router(question_router.router)
    app.include_router(interview_router.router)
    app.include_router(message_router.router)
    app.include_router(task_router.router)
    app.include_router(directory_router.router)
    app.include_router(import_router.router)
    app.include_router(webhook_router.router)
    app.include_router(stats_router.router)
    app.include_router(reminder_router.router)
    app.include_router(admin_router.router)
    app.include_router(home_pages.router)
    app.include_router(account_pages.router)
    app.include_router(oidc.pages)
    app.include_router(contact_pages.router)
    app.include_router(question_pages.router)
    app.include_router(interview_pages.router)
    app.include_router(message_pages.router)
    app.include_router(task_pages.router)
    app.include_router(directory_pages.router)
    app.include_router(import_pages.router)
    app.include_router(webhook_pages.router)
    app.include_router(stats_pages.router)
    app.include_router(reminder_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(docs_router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    accounts.dummy_hash()  # made now, so that the first login with an unknown email is not slower
    # What was built at start-up lives as long as the app: keep the garbage collector from
    # walking it again and again (pauses of 60-100 ms under load otherwise).
    gc.collect()
    gc.freeze()
    return app
