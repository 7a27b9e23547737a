"""What the administration tests share: accounts of each role, signed in."""

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Role, User
from tests.conftest import login, register


def set_role(app: FastAPI, user_id: str, role: Role) -> None:
    """As an earlier administrator (or `rapport users create`) would have."""
    with Session(app.state.engine) as db:
        user = db.get(User, user_id)
        assert user is not None
        user.role = role
        db.commit()


@dataclass
class Person:
    """An account, and a browser logged in to it."""

    client: TestClient
    id: str
    email: str
    name: str


def account(app: FastAPI, client: TestClient, email: str, name: str,
            role: Role = Role.student) -> Person:
    """A signed-in account of ``role`` (registration makes students)."""
    user = register(client, email=email, name=name)
    if role != Role.student:
        set_role(app, user["id"], role)
    login(client, email=email)
    return Person(client, user["id"], email, name)


def entries(app: FastAPI, action: str | None = None) -> list[AuditEntry]:
    """The audit log as stored, oldest first."""
    with Session(app.state.engine) as db:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            stmt = stmt.where(AuditEntry.action == action)
        found = list(db.scalars(stmt))
        db.expunge_all()
        return found
