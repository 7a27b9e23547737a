"""The bare framework that ``load.py`` measures the app against: FastAPI with no middleware, no
database and no authentication, answering the contact routes with what the real app answered
(a page of the contact list, a page of a search, one contact).

"A bare FastAPI route returning the same JSON" can be written several ways, and they differ
tenfold in cost, so ``form`` chooses one:

- ``bytes``: the JSON as the app sent it, byte for byte, in a ``Response``: what any route of any
  FastAPI app costs at the least, with nothing to encode.
- ``model``: the page as a Python value, through the documented response model
  (``Page[ContactOut]``): FastAPI checks it with the model and pydantic writes the JSON.
- ``dict``: the same value returned as FastAPI's hello-world returns its dict, with no response
  model or return type: FastAPI encodes it (``jsonable_encoder``, then JSON).
- ``query``: ``bytes``, after running the page's own SQL (as the app sent it to the database,
  through the database driver, without SQLAlchemy) and fetching its rows: the least a route that
  reads the page from the database can cost.

Served by ``load.py``:

    uvicorn bare:create_app --factory --app-dir bench     # BENCH_BARE_BODIES, BENCH_BARE_FORM
"""

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

JSON = "application/json"
FORMS = ("bytes", "query", "model", "dict")


def create_bare(bodies: dict[str, bytes], form: str = "bytes",
                query: Callable[[], object] | None = None) -> FastAPI:
    """``bodies``: "list", "search" and "contact", each exactly as the real app sent it;
    ``query`` (for the ``query`` form): runs the list page's SQL and fetches its rows."""
    bare = FastAPI()
    values = {name: json.loads(body) for name, body in bodies.items()}

    # Sync routes, like the real ones: both run in the thread pool.
    if form == "model":
        from app.contacts.schemas import ContactOut
        from app.pagination import Page

        @bare.get("/api/v1/contacts", response_model=Page[ContactOut])
        def list_modelled(q: str | None = None, limit: int = 50) -> Any:
            return values["search" if q else "list"]
    elif form == "dict":
        # No return type, as in FastAPI's hello-world: with one, pydantic would write the JSON.
        @bare.get("/api/v1/contacts")
        def list_dict(q: str | None = None, limit: int = 50):  # type: ignore[no-untyped-def]
            return values["search" if q else "list"]
    else:
        if form == "query" and query is None:
            raise ValueError("the query form needs the page's query")

        run_query = query if form == "query" else None

        @bare.get("/api/v1/contacts")
        def list_contacts(q: str | None = None, limit: int = 50) -> Response:
            if run_query is not None:
                run_query()
            return Response(bodies["search" if q else "list"], media_type=JSON)

    @bare.post("/api/v1/contacts", status_code=201)
    def create_contact(body: dict[str, Any]) -> Response:
        return Response(bodies["contact"], status_code=201, media_type=JSON)

    @bare.patch("/api/v1/contacts/{contact_id}")
    def update_contact(contact_id: str, body: dict[str, Any]) -> Response:
        return Response(bodies["contact"], media_type=JSON)

    @bare.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return bare


def driver_query(connect: Callable[[], Any], sql: str, parameters: Any) -> Callable[[], object]:
    """Runs ``sql`` with ``parameters`` on a connection of the calling thread (made by
    ``connect``, a database driver's own) and fetches every row."""
    local = threading.local()

    def run() -> object:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = connect()
        cursor = connection.cursor()
        cursor.execute(sql, parameters)
        rows = cursor.fetchall()
        connection.rollback()
        return rows

    return run


def save_bodies(path: Path, bodies: dict[str, bytes]) -> None:
    path.write_text(json.dumps({name: body.decode() for name, body in bodies.items()}))


def load_bodies(path: Path) -> dict[str, bytes]:
    return {name: text.encode() for name, text in json.loads(path.read_text()).items()}


def create_app() -> FastAPI:
    """The factory uvicorn calls in each worker."""
    return create_bare(load_bodies(Path(os.environ["BENCH_BARE_BODIES"])),
                       os.environ.get("BENCH_BARE_FORM", "bytes"))
