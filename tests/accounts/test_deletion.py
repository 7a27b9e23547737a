"""Deleting one's own account: every row of theirs goes, on both databases; nobody else's does;
the directory and its anonymous counts stay; the email may register again."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.accounts.service import sha256
from app.db import Base, utcnow
from app.models import (
    AuditEntry,
    DirectoryEngagement,
    DirectoryEntry,
    OidcIdentity,
    PasswordReset,
    ReminderEmail,
    Role,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from app.webhooks import service as webhooks
from tests.conftest import PASSWORD, api_key, login, register, signed_in
from tests.imports.helpers import make_staff

Rows = dict[str, set[tuple[Any, ...]]]
# What outlives a deleted student, without them: the engagements (anonymous), and webhooks
# (the career office's) with their deliveries.
OUTLIVE = {"directory_engagements", "webhooks", "webhook_deliveries"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json()) if response.content else {}


def belonging_to(db: Session, user_id: str) -> Rows:
    """Every row that is the user's: those whose foreign key to users names them, then the rows
    whose foreign key names one of those, and so on (each table by its primary key)."""
    found: Rows = {"users": {(user_id,)}}
    for table in Base.metadata.sorted_tables:  # parents before children
        key = list(table.primary_key.columns)
        for fk in table.foreign_keys:
            parents = found.get(fk.column.table.name)
            if parents and fk.column.table is not table:  # a contact's referrer is no owner
                rows = db.execute(select(*key).where(fk.parent.in_([p[0] for p in parents])))
                found.setdefault(table.name, set()).update(tuple(r) for r in rows)
    return {name: keys for name, keys in found.items() if keys}


def still_there(db: Session, rows: Rows) -> Rows:
    left: Rows = {}
    for name, keys in rows.items():
        table = Base.metadata.tables[name]
        key = list(table.primary_key.columns)
        there = db.execute(select(*key).where(tuple_(*key).in_(list(keys)))).all()
        if there:
            left[name] = {tuple(r) for r in there}
    return left


def tables_reaching_users() -> set[str]:
    """Every table with a foreign key path to users."""
    reach = {"users"}
    for table in Base.metadata.sorted_tables:
        if any(fk.column.table.name in reach for fk in table.foreign_keys):
            reach.add(table.name)
    return reach


def fill(app: FastAPI, client: TestClient, entry_id: str, word: str) -> str:
    """A student with a row in every table an account can reach; their id."""
    me = ok(client.get("/api/v1/me"))
    org = ok(client.post("/api/v1/organizations", json={"name": f"{word} Labs"}), 201)
    referrer = ok(client.post("/api/v1/contacts", json={"first_name": "Dr.", "last_name": word}),
                  201)
    contact = ok(client.post("/api/v1/contacts", json={
        "first_name": word, "organization_id": org["id"], "tags": ["biotech"],
        "referred_by_id": referrer["id"]}, headers={"Idempotency-Key": f"{word}-1"}), 201)
    question = ok(client.post("/api/v1/questions", json={
        "text": f"What is {word} like?", "category": "Next Steps"}), 201)
    interview = ok(client.post("/api/v1/interviews", json={"contact_id": contact["id"]}), 201)
    ok(client.post(f"/api/v1/interviews/{interview['id']}/questions",
                   json={"question_id": question["id"]}), 201)
    ok(client.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"}))
    template = ok(client.post("/api/v1/templates", json={
        "kind": "outreach", "name": f"{word} pitch", "body": "Hello {{ contact.first_name }}"}),
        201)
    ok(client.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": contact["id"], "template_id": template["id"]}), 201)
    ok(client.post("/api/v1/tasks", json={"title": f"Call {word}"}), 201)
    ok(client.post("/api/v1/imports", data={"target": "contacts"}, files={
        "file": ("mine.csv", f"First Name,Email\n{word},not-an-email\n".encode())}), 201)
    api_key(client)
    ok(client.post("/api/v1/me/calendar-feed"), 201)
    alumna = ok(client.post(f"/api/v1/directory/{entry_id}/add-to-contacts"), 201)
    ok(client.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": alumna["id"], "status": "sent"}), 201)
    with Session(app.state.engine) as db:
        db.add_all([
            ReminderEmail(user_id=me["id"], kind="digest", key="digest:2026-12-01",
                          to_address=me["email"], status="sent", sent_at=utcnow()),
            PasswordReset(id=sha256(word), user_id=me["id"],
                          expires_at=utcnow() + timedelta(minutes=30)),
            OidcIdentity(user_id=me["id"], issuer="https://login.uni.edu", subject=word),
            # An entry of what they did while staff: it stays, no longer naming their account.
            AuditEntry(actor_id=me["id"], actor_email=me["email"], action="api_key.created",
                       target_type="api_key", summary="Created an API key"),
        ])
        db.commit()
    return str(me["id"])


@pytest.fixture
def office(app: FastAPI, make_client: Callable[[], TestClient]) -> TestClient:
    staff = make_client()
    make_staff(app, staff)
    return staff


@pytest.fixture
def entry_id(office: TestClient) -> str:
    return str(ok(office.post("/api/v1/directory", json={
        "first_name": "José", "last_name": "Martínez", "organization_name": "Medtronic"}),
        201)["id"])


def directory_counts(staff: TestClient) -> list[dict[str, Any]]:
    return list(ok(staff.get("/api/v1/stats/directory"))["items"])


def delete_me(client: TestClient, **body: str) -> Any:
    return client.request("DELETE", "/api/v1/me", json=body)


def test_deleting_my_account_leaves_no_row_of_mine_and_every_row_of_others(
    app: FastAPI, make_client: Callable[[], TestClient], office: TestClient, entry_id: str,
) -> None:
    maya, jon = make_client(), make_client()
    signed_in(maya)
    signed_in(jon, email="jon@uni.edu", name="Jon Park")
    maya_id = fill(app, maya, entry_id, "Maya")
    jon_id = fill(app, jon, entry_id, "Jon")
    counts = directory_counts(office)
    assert [(c["added"], c["contacted"]) for c in counts] == [(2, 2)]
    assert ok(office.get(f"/api/v1/directory/{entry_id}"))["requests_this_month"] == 2
    with Session(app.state.engine) as db:
        mine, jons = belonging_to(db, maya_id), belonging_to(db, jon_id)
        entries = db.scalar(select(func.count()).select_from(DirectoryEntry))
    unmade = tables_reaching_users() - set(mine) - {"webhooks", "webhook_deliveries"}
    assert not unmade, f"teach fill() to make a row of {sorted(unmade)}"

    response = delete_me(maya, password=PASSWORD)

    assert response.status_code == 204, response.text
    assert 'rapport_session=""' in response.headers["set-cookie"]
    with Session(app.state.engine) as db:
        left = still_there(db, mine)
        # What stays is the institution's: engagements counted and the audit log, without her.
        assert set(left) == {"directory_engagements", "audit_entries"}
        assert not db.scalars(select(DirectoryEngagement).where(
            DirectoryEngagement.id.in_([k[0] for k in left["directory_engagements"]]),
            DirectoryEngagement.student_id.is_not(None))).all()
        for table in Base.metadata.sorted_tables:  # no column anywhere names her
            for fk in table.foreign_keys:
                if fk.column.table.name == "users":
                    assert not db.scalar(select(func.count()).select_from(table)
                                         .where(fk.parent == maya_id)), table.name
        assert belonging_to(db, jon_id) == jons
        assert db.scalar(select(func.count()).select_from(DirectoryEntry)) == entries
    # Career services counts her still, without her: among the students who reached the
    # alumnus, and among this month's requests the alumnus takes.
    assert directory_counts(office) == counts
    assert ok(office.get(f"/api/v1/directory/{entry_id}"))["requests_this_month"] == 2
    assert maya.get("/api/v1/me").status_code == 401
    # A second student's engagements with the same alumnus, anonymous too, sit beside hers.
    ok(delete_me(jon, password=PASSWORD), 204)
    assert directory_counts(office) == counts


def test_my_email_can_register_again_and_finds_a_new_empty_account(
    make_client: Callable[[], TestClient],
) -> None:
    maya = make_client()
    old = signed_in(maya)
    ok(maya.post("/api/v1/contacts", json={"first_name": "Kim"}), 201)
    ok(delete_me(maya, password=PASSWORD), 204)
    again = make_client()
    new = register(again, email="MAYA@uni.edu")
    login(again)
    assert new["id"] != old["id"]
    assert ok(again.get("/api/v1/contacts"))["items"] == []
    # The old password is gone with the old account.
    assert again.post("/api/v1/auth/login",
                      json={"email": "maya@uni.edu", "password": "wrong one"}).status_code == 401


def test_a_wrong_or_missing_password_deletes_nothing(client: TestClient) -> None:
    signed_in(client)
    response = delete_me(client, password="not my password")
    assert (response.status_code, response.json()["error"]) == (403, "wrong_password")
    missing = delete_me(client)
    assert missing.status_code == 422
    assert missing.json()["fields"] == [
        {"field": "password", "message": "Type your password to confirm."}]
    assert delete_me(client, email="maya@uni.edu").status_code == 422  # a password exists
    assert ok(client.get("/api/v1/me"))["email"] == "maya@uni.edu"


def test_wrong_passwords_are_throttled_with_password_changes(
    app: FastAPI, client: TestClient,
) -> None:
    signed_in(client)
    most = app.state.settings.login_max_failures_per_account
    for _ in range(most - 1):
        assert delete_me(client, password="guess").status_code == 403
    wrong_change = client.post("/api/v1/me/password", json={
        "current_password": "guess", "new_password": "another password"})
    assert wrong_change.status_code == 422  # the same count
    response = delete_me(client, password=PASSWORD)
    assert response.status_code == 429
    assert response.json()["error"] == "password_throttled"
    assert int(response.headers["Retry-After"]) > 0
    assert ok(client.get("/api/v1/me"))["email"] == "maya@uni.edu"


def test_an_account_made_by_single_sign_on_confirms_with_its_email(
    app: FastAPI, client: TestClient,
) -> None:
    me = signed_in(client)
    with Session(app.state.engine) as db:  # as a university sign-in makes it: no password
        user = db.get(User, me["id"])
        assert user is not None
        user.password_hash = ""
        db.commit()
    missing = delete_me(client, password=PASSWORD)
    assert missing.status_code == 422
    assert missing.json()["fields"] == [
        {"field": "email", "message": "Type your email address to confirm."}]
    wrong = delete_me(client, email="someone@uni.edu")
    assert (wrong.status_code, wrong.json()["error"]) == (403, "wrong_email")
    assert delete_me(client, email=" Maya@Uni.edu ").status_code == 204
    with Session(app.state.engine) as db:
        assert db.get(User, me["id"]) is None


def test_an_api_key_cannot_delete_its_account(client: TestClient) -> None:
    signed_in(client)
    key = api_key(client, ["profile:read", "profile:write"])
    response = client.request("DELETE", "/api/v1/me", json={"password": PASSWORD},
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.json()["error"] == "session_required"
    assert ok(client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}))


def test_the_last_administrator_cannot_delete_themselves(
    app: FastAPI, make_client: Callable[[], TestClient],
) -> None:
    first, second = make_client(), make_client()
    ids = [signed_in(first)["id"], signed_in(second, email="ada@uni.edu", name="Ada")["id"]]
    with Session(app.state.engine) as db:
        db.get(User, ids[0]).role = Role.admin  # type: ignore[union-attr]
        db.commit()
    response = delete_me(first, password=PASSWORD)
    assert (response.status_code, response.json()["error"]) == (409, "last_admin")
    with Session(app.state.engine) as db:
        db.get(User, ids[1]).role = Role.admin  # type: ignore[union-attr]
        db.commit()
    assert delete_me(first, password=PASSWORD).status_code == 204
    assert delete_me(second, password=PASSWORD).status_code == 409


def test_a_student_cannot_delete_another(make_client: Callable[[], TestClient]) -> None:
    maya, jon = make_client(), make_client()
    signed_in(maya)
    signed_in(jon, email="jon@uni.edu", name="Jon Park")
    # Jon typing Maya's password deletes nobody: the route only ever deletes the caller.
    assert delete_me(jon, password="not jon's").status_code == 403
    assert ok(maya.get("/api/v1/me"))["email"] == "maya@uni.edu"
    assert delete_me(jon, password=PASSWORD).status_code == 204
    assert ok(maya.get("/api/v1/me"))["email"] == "maya@uni.edu"


def test_a_staff_members_webhooks_stay_for_the_office(
    app: FastAPI, make_client: Callable[[], TestClient], office: TestClient,
) -> None:
    colleague = make_client()
    make_staff(app, colleague, email="ines@uni.edu", name="Inès")
    with Session(app.state.engine) as db:
        ines = db.scalar(select(User).where(User.email == "ines@uni.edu"))
        assert ines is not None
        hook = webhooks.create_webhook(db, app.state.settings, ines, "https://93.184.215.14/",
                                       [WebhookEvent.entry_created])
        hook_id = hook.id
        db.commit()
    ok(delete_me(colleague, password=PASSWORD), 204)
    with Session(app.state.engine) as db:
        kept = db.get(Webhook, hook_id)
        assert kept is not None and kept.created_by_id is None


def test_a_student_who_shared_is_taken_out_of_undelivered_events(
    app: FastAPI, make_client: Callable[[], TestClient], entry_id: str,
) -> None:
    with Session(app.state.engine) as db:
        staff = db.scalar(select(User).where(User.role == Role.staff))
        assert staff is not None
        webhooks.create_webhook(db, app.state.settings, staff, "https://93.184.215.14/",
                                [WebhookEvent.entry_engaged])
        db.commit()
    maya = make_client()
    signed_in(maya)
    ok(maya.patch("/api/v1/me", json={"share_engagement_with_career_office": True}))
    ok(maya.post(f"/api/v1/directory/{entry_id}/add-to-contacts"), 201)
    ok(delete_me(maya, password=PASSWORD), 204)
    with Session(app.state.engine) as db:
        bodies = [json.loads(d.body) for d in db.scalars(select(WebhookDelivery))]
    assert [b["data"]["kind"] for b in bodies] == ["added"]
    assert "student" not in bodies[0]["data"]


# --- the page, which works without JavaScript ---


def post_page(client: TestClient, **form: str) -> Any:
    return client.post("/settings/delete-account", data=form, follow_redirects=False)


def test_the_page_warns_offers_the_export_and_deletes_with_the_password(
    client: TestClient,
) -> None:
    assert client.get("/settings/delete-account", follow_redirects=False).status_code == 303
    signed_in(client)
    csrf = client.headers["X-CSRF-Token"]
    page = client.get("/settings/delete-account").text
    assert 'href="/api/v1/export.json" download' in page
    assert "What stays" in page and 'name="password"' in page

    forged = post_page(client, password=PASSWORD, csrf_token="forged")
    assert forged.status_code == 403 and "The form was out of date" in forged.text
    wrong = post_page(client, password="not mine", csrf_token=csrf)
    assert wrong.status_code == 403 and "This is not your password." in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert ok(client.get("/api/v1/me"))["email"] == "maya@uni.edu"

    done = post_page(client, password=PASSWORD, csrf_token=csrf)
    assert (done.status_code, done.headers["location"]) == (303, "/account-deleted")
    assert 'rapport_session=""' in done.headers["set-cookie"]
    goodbye = client.get("/account-deleted")
    assert "Your account is deleted" in goodbye.text
    assert "Maya" not in goodbye.text and "maya@uni.edu" not in goodbye.text
    assert client.get("/settings", follow_redirects=False).status_code == 303


def test_the_page_asks_a_single_sign_on_account_for_its_email(
    app: FastAPI, client: TestClient,
) -> None:
    me = signed_in(client)
    with Session(app.state.engine) as db:
        db.get(User, me["id"]).password_hash = ""  # type: ignore[union-attr]
        db.commit()
    page = client.get("/settings/delete-account").text
    assert 'name="email"' in page and 'name="password"' not in page
    wrong = post_page(client, email="jon@uni.edu", csrf_token=client.headers["X-CSRF-Token"])
    assert wrong.status_code == 403 and 'value="jon@uni.edu"' in wrong.text
    done = post_page(client, email="maya@uni.edu", csrf_token=client.headers["X-CSRF-Token"])
    assert done.headers["location"] == "/account-deleted"


def test_the_page_tells_the_last_administrator_why_not(app: FastAPI, client: TestClient) -> None:
    me = signed_in(client)
    with Session(app.state.engine) as db:
        db.get(User, me["id"]).role = Role.admin  # type: ignore[union-attr]
        db.commit()
    page = client.get("/settings/delete-account").text
    assert "You are the last administrator" in page and 'name="password"' not in page
    refused = post_page(client, password=PASSWORD, csrf_token=client.headers["X-CSRF-Token"])
    assert refused.status_code == 409
