"""What the import and directory tests share: staff accounts, uploads, and counting rows."""

import os
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Role, User
from tests.conftest import ROOT, signed_in

# Real-format sample files: a LinkedIn export, Google Contacts, vCards, an alumni office export.
SAMPLES = ROOT / "tests" / "data" / "samples"
ON_POSTGRESQL = os.environ.get("RAPPORT_TEST_DATABASE_URL", "").startswith("postgresql")
ERROR_KEYS = {"error", "detail", "fields"}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def make_staff(app: FastAPI, client: TestClient, email: str = "office@uni.edu",
               name: str = "Career Office") -> dict[str, Any]:
    """A signed-in member of career services (registration makes students; the role is set
    in the database, as an administrator would)."""
    user = signed_in(client, email=email, name=name)
    with Session(app.state.engine) as db:
        account = db.get(User, user["id"])
        assert account is not None
        account.role = Role.staff
        db.commit()
    return user


def upload(client: TestClient, name: str, content: bytes, target: str = "contacts", *,
           dry_run: bool = False, fmt: str = "auto", mapping: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    data = {"target": target, "format": fmt, "dry_run": "true" if dry_run else "false"}
    if mapping is not None:
        data["mapping"] = mapping
    response: Response = client.post("/api/v1/imports", files={"file": (name, content)},
                                     data=data, headers=headers)
    return response


def count(app: FastAPI, model: Any, *where: Any) -> int:
    with Session(app.state.engine) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def rows(app: FastAPI, model: Any, *where: Any) -> list[Any]:
    with Session(app.state.engine) as db:
        found = list(db.scalars(select(model).where(*where)))
        db.expunge_all()
        return found


def assert_error(response: Response, status: int, *words: str) -> dict[str, Any]:
    """A 4xx in the documented shape, whose sentence says what is wrong."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict) and set(body) <= ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    if "fields" in body:
        assert all(set(f) == {"field", "message"} for f in body["fields"]), body
    text = " ".join([body["detail"], *(f["message"] for f in body.get("fields") or [])]).lower()
    for word in words:
        assert word.lower() in text, (word, body)
    return dict(body)


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {k: int(report[k]) for k in ("created", "updated", "unchanged", "skipped")}


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def my_contacts(client: TestClient) -> dict[str, dict[str, Any]]:
    """The caller's contacts by full name."""
    response = client.get("/api/v1/contacts", params={"limit": 200})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return {f"{c['first_name']} {c['last_name']}".strip(): c for c in response.json()["items"]}
