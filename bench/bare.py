"""The bare framework that ``load.py`` measures the app against: FastAPI with no middleware, no
database and no authentication, answering the contact routes with bytes the real app produced
(a page of the contact list, a page of a search, one contact).

It is what any route of any FastAPI app costs at the least, served by the same uvicorn with the
same workers. Served by ``load.py``:

    uvicorn bare:create_app --factory --app-dir bench     # BENCH_BARE_BODIES names the bodies
"""

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response

JSON = "application/json"


def create_bare(bodies: dict[str, bytes]) -> FastAPI:
    """``bodies``: "list", "search" and "contact", each exactly as the real app sent it."""
    bare = FastAPI()

    # Sync routes, like the real ones: both run in the thread pool.
    @bare.get("/api/v1/contacts")
    def list_contacts(q: str | None = None, limit: int = 50) -> Response:
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


def save_bodies(path: Path, bodies: dict[str, bytes]) -> None:
    path.write_text(json.dumps({name: body.decode() for name, body in bodies.items()}))


def load_bodies(path: Path) -> dict[str, bytes]:
    return {name: text.encode() for name, text in json.loads(path.read_text()).items()}


def create_app() -> FastAPI:
    """The factory uvicorn calls in each worker."""
    return create_bare(load_bodies(Path(os.environ["BENCH_BARE_BODIES"])))
