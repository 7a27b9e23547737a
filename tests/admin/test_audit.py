"""The audit log: each action of staff and administrators is recorded with who, what, when and
from where; administrators alone read it; nothing edits it; old entries go after the
retention setting. A student's own actions are not recorded."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import audit
from app.accounts import password_reset
from app.db import utcnow
from app.models import AuditEntry, Role
from app.purge import purge
from tests.admin.helpers import Person, account, entries
from tests.conftest import api_key
from tests.imports.helpers import upload
from tests.test_privacy import all_routes

AUDIT = "/api/v1/admin/audit"
USERS = "/api/v1/admin/users"


def test_each_account_action_is_recorded_with_who_what_when_and_where(
    app: FastAPI, admin: Person, student: Person
) -> None:
    started = utcnow()
    url = f"{USERS}/{student.id}"
    admin.client.patch(url, json={"role": "staff"})
    admin.client.patch(url, json={"role": "staff"})  # no change, nothing recorded
    admin.client.post(f"{url}/deactivate")
    admin.client.post(f"{url}/reactivate")
    admin.client.delete(url)
    log = entries(app)
    assert [e.action for e in log] == ["user.role_changed", "user.deactivated",
                                       "user.reactivated", "user.deleted"]
    for entry in log:
        assert (entry.actor_id, entry.actor_email, entry.actor_role) == \
            (admin.id, admin.email, "admin")
        assert (entry.target_type, entry.target_id) == ("user", student.id)
        assert entry.client_address == "testclient"
        assert started <= entry.at <= utcnow()
        assert "Maya Okafor (maya@uni.edu)" in entry.summary
    assert log[0].details == {"from": "student", "to": "staff"}
    assert log[0].summary == ("Changed the role of Maya Okafor (maya@uni.edu) from student "
                              "to staff")


def test_directory_deletions_and_imports_are_recorded(
    app: FastAPI, staff: Person
) -> None:
    made = staff.client.post("/api/v1/directory", json={"first_name": "Kwame",
                                                        "last_name": "Mensah"}).json()
    staff.client.put("/api/v1/directory/by-external-id/CRM-7", json={"first_name": "Lena"})
    assert staff.client.delete(f"/api/v1/directory/{made['id']}").status_code == 204
    assert staff.client.delete("/api/v1/directory/by-external-id/CRM-7").status_code == 204
    alumni = b"First Name,Last Name,Email\nAmara,Diallo,amara@alumni.uni.edu\n"
    assert upload(staff.client, "alumni.csv", alumni, "directory", dry_run=True).status_code == 201
    assert upload(staff.client, "alumni.csv", alumni, "directory").status_code == 201
    deleted = entries(app, "directory.entry_deleted")
    assert [e.summary for e in deleted] == ["Deleted the directory entry of Kwame Mensah",
                                            "Deleted the directory entry of Lena"]
    assert deleted[0].target_id == made["id"] and deleted[1].details == {"external_id": "CRM-7"}
    assert all(e.actor_email == staff.email and e.actor_role == "staff" for e in deleted)
    imported = entries(app, "directory.imported")  # the dry run is not an import
    assert len(imported) == 1 and imported[0].target_type == "import"
    assert imported[0].summary.startswith("Imported alumni.csv into the directory: 1 created")
    assert imported[0].details is not None and imported[0].details["status"] == "completed"


def test_webhook_changes_are_recorded(app: FastAPI, staff: Person) -> None:
    hook = staff.client.post("/api/v1/webhooks", json={
        "url": "https://93.184.215.14/hook", "events": ["directory.entry.created"]}).json()
    staff.client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False})
    staff.client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret")
    staff.client.delete(f"/api/v1/webhooks/{hook['id']}")
    log = entries(app)
    assert [e.action for e in log] == ["webhook.created", "webhook.updated", "webhook.updated",
                                       "webhook.deleted"]
    assert {e.target_id for e in log} == {hook["id"]}
    assert log[1].details == {"active": {"from": True, "to": False}}
    assert log[1].summary == "Changed the webhook https://93.184.215.14/hook: active"
    assert hook["secret"] not in str([(e.summary, e.details) for e in log])


def test_api_keys_of_staff_and_administrators_are_recorded_not_a_students(
    app: FastAPI, staff: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    api_key(student.client)
    mine = student.client.get("/api/v1/api-keys").json()["items"][0]
    student.client.delete(f"/api/v1/api-keys/{mine['id']}")
    assert entries(app) == []
    secret = api_key(staff.client, ["directory:write"])
    key = staff.client.get("/api/v1/api-keys").json()["items"][0]
    staff.client.delete(f"/api/v1/api-keys/{key['id']}")
    log = entries(app)
    assert [e.action for e in log] == ["api_key.created", "api_key.revoked"]
    assert log[0].summary == f"Created the API key “script” ({key['prefix']}…) with " \
                             "directory:write"
    assert secret not in log[0].summary
    assert all(e.actor_email == staff.email and e.target_id == key["id"] for e in log)


def test_what_is_done_with_a_key_names_the_key(app: FastAPI, staff: Person,
                                               make_client: Callable[[], TestClient]) -> None:
    script = make_client()
    script.headers["Authorization"] = f"Bearer {api_key(staff.client, ['directory:write'])}"
    prefix = staff.client.get("/api/v1/api-keys").json()["items"][0]["prefix"]
    made = script.post("/api/v1/directory", json={"first_name": "Kwame"}).json()
    script.delete(f"/api/v1/directory/{made['id']}")
    deleted = entries(app, "directory.entry_deleted")[0]
    assert deleted.actor_email == staff.email and deleted.details == {"api_key": prefix}


def test_password_resets_of_staff_are_recorded_not_a_students(
    app: FastAPI, staff: Person, student: Person
) -> None:
    with_email = app.state.settings.model_copy(update={
        "smtp_url": "smtp://127.0.0.1:25", "mail_from": "Rapport <rapport@uni.edu>"})
    for person in (student, staff):
        with Session(app.state.engine) as db:
            msg = password_reset.request_reset(db, with_email, person.email, "192.0.2.1")
        assert msg is not None
        body = msg.get_body(("plain",))
        assert body is not None
        token = re.search(r"token=([\w-]+)", body.get_content())
        assert token is not None
        reset = person.client.post("/api/v1/auth/password-reset/confirm", json={
            "token": token.group(1), "password": "a brand new password"})
        assert reset.status_code == 204
    log = entries(app)
    assert [(e.action, e.actor_email, e.target_id) for e in log] == [
        ("password.reset", staff.email, staff.id)]
    assert log[0].client_address == "testclient"


# --- reading the log ---


def test_administrators_read_the_log_newest_first_in_pages_with_filters(
    app: FastAPI, admin: Person, staff: Person, student: Person
) -> None:
    admin.client.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    staff.client.post("/api/v1/webhooks", json={"url": "https://93.184.215.14/hook",
                                                "events": ["directory.entry.created"]})
    first = admin.client.get(AUDIT, params={"limit": 2}).json()
    assert [e["action"] for e in first["items"]] == ["webhook.created", "user.deactivated"]
    rest = admin.client.get(AUDIT, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [e["action"] for e in rest["items"]] == ["user.role_changed"]
    assert rest["next_cursor"] is None
    newest = first["items"][0]
    assert newest["actor_email"] == staff.email and newest["actor_role"] == "staff"
    assert newest["actor_id"] == staff.id and newest["client_address"] == "testclient"
    assert set(newest) >= {"id", "at", "target_type", "target_id", "summary", "details"}

    by_action = admin.client.get(AUDIT, params={"action": "user.deactivated"}).json()["items"]
    assert [e["target_id"] for e in by_action] == [student.id]
    by_actor = admin.client.get(AUDIT, params={"actor": "SAM@uni.edu"}).json()["items"]
    assert [e["action"] for e in by_actor] == ["webhook.created"]
    about = admin.client.get(AUDIT, params={"target_id": student.id}).json()["items"]
    assert len(about) == 2
    assert admin.client.get(AUDIT, params={"action": "user.edited"}).status_code == 422


def test_students_staff_and_keys_without_the_scope_cannot_read_the_log(
    app: FastAPI, admin: Person, staff: Person, student: Person,
    make_client: Callable[[], TestClient]
) -> None:
    admin.client.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    admin.client.patch(f"{USERS}/{student.id}", json={"role": "student"})
    for person in (student, staff):
        refused = person.client.get(AUDIT)
        assert refused.status_code == 403 and refused.json()["error"] == "admin_only"
        assert "role_changed" not in refused.text
        assert person.client.get("/admin/audit").status_code == 403
    reader, other = make_client(), make_client()
    reader.headers["Authorization"] = f"Bearer {api_key(admin.client, ['audit:read'])}"
    other.headers["Authorization"] = f"Bearer {api_key(admin.client, ['users:read'])}"
    assert [e["action"] for e in reader.get(AUDIT).json()["items"]] == [
        "api_key.created", "api_key.created", "user.role_changed", "user.role_changed"]
    assert other.get(AUDIT).json()["error"] == "missing_scope"
    staff_key = make_client()
    staff_key.headers["Authorization"] = f"Bearer {api_key(staff.client, ['audit:read'])}"
    assert staff_key.get(AUDIT).json()["error"] == "admin_only"
    assert make_client().get(AUDIT).status_code == 401


def test_no_route_edits_or_deletes_an_entry(app: FastAPI, admin: Person,
                                            student: Person) -> None:
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    entry = admin.client.get(AUDIT).json()["items"][0]
    audit_routes = {(method, path) for path, route in all_routes(app.routes)
                    if "/audit" in path for method in route.methods - {"HEAD"}}
    assert audit_routes == {("GET", AUDIT), ("GET", "/admin/audit")}
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        answer = admin.client.request(method, AUDIT, json={})
        assert answer.status_code == 405, method
        answer = admin.client.request(method, f"{AUDIT}/{entry['id']}", json={})
        assert answer.status_code in {404, 405}, method
    assert admin.client.get(AUDIT).json()["items"] == [entry]


# --- retention ---


def test_purge_deletes_entries_older_than_the_retention_setting(
    app: FastAPI, make_settings: Callable[..., object]
) -> None:
    now = utcnow()
    with Session(app.state.engine) as db:
        for days in (400, 31, 29, 0):
            entry = audit.record(db, audit.CLI, audit.Action.user_created, target_type="user",
                                 target_id=str(days), summary=f"{days} days ago")
            entry.at = now - timedelta(days=days)
        db.commit()
        assert purge(db, make_settings(), now)["audit_entries"] == 1  # type: ignore[arg-type]
        assert purge(db, make_settings(audit_keep_days=30),  # type: ignore[arg-type]
                     now)["audit_entries"] == 1
    assert [e.summary for e in entries(app)] == ["29 days ago", "0 days ago"]


def test_the_retention_is_a_setting_of_a_year_by_default(
    make_settings: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert make_settings().audit_keep_days == 365  # type: ignore[attr-defined]
    monkeypatch.setenv("RAPPORT_AUDIT_KEEP_DAYS", "90")
    assert make_settings().audit_keep_days == 90  # type: ignore[attr-defined]


def test_an_entry_outlives_the_account_that_acted(
    app: FastAPI, admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    other = account(app, make_client(), "bo@uni.edu", "Bo Admin", Role.admin)
    other.client.post(f"{USERS}/{student.id}/deactivate")
    assert admin.client.delete(f"{USERS}/{other.id}").status_code == 204
    kept = [e for e in entries(app) if e.action == "user.deactivated"]
    assert len(kept) == 1
    assert (kept[0].actor_id, kept[0].actor_email, kept[0].actor_role) == \
        (None, "bo@uni.edu", "admin")
    with Session(app.state.engine) as db:
        assert db.get(AuditEntry, kept[0].id) is not None
