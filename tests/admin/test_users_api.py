"""/api/v1/admin/users: administrators list and change every account; staff read the active
students; students reach none of it. A deactivated account stops at once, everywhere."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import audit
from app.accounts import password_reset
from app.accounts import service as accounts
from app.accounts.oidc_service import Person as SsoPerson
from app.accounts.oidc_service import sign_in
from app.admin import service
from app.db import utcnow
from app.directory import service as directory
from app.errors import Conflict, Forbidden
from app.models import AuthSession, Contact, DirectoryEntry, OidcIdentity, Role, User
from tests.admin.helpers import Person, account, set_role
from tests.conftest import PASSWORD, api_key, login, register
from tests.test_reads_write_nothing import Statements

USERS = "/api/v1/admin/users"


def user_row(app: FastAPI, user_id: str) -> User | None:
    with Session(app.state.engine) as db:
        user = db.get(User, user_id)
        if user is not None:
            db.expunge(user)
        return user


def names(page: dict[str, object]) -> list[str]:
    return [item["name"] for item in page["items"]]  # type: ignore[attr-defined, index]


@pytest.fixture
def crowd(app: FastAPI, client: TestClient) -> dict[str, str]:
    """Four students besides Maya, one of them deactivated; ids by first name."""
    ids = {}
    for name in ["Bea Lind", "Cal Ortiz", "Dev Rao", "Eli Moss"]:
        first = name.split()[0].lower()
        ids[first] = register(client, email=f"{first}@uni.edu", name=name)["id"]
    with Session(app.state.engine) as db:
        eli = db.get(User, ids["eli"])
        assert eli is not None
        eli.deactivated_at = utcnow()
        db.commit()
    client.cookies.clear()
    return ids


# --- listing ---


def test_administrators_list_everyone_with_role_status_and_dates(
    admin: Person, staff: Person, student: Person, crowd: dict[str, str]
) -> None:
    page = admin.client.get(USERS).json()
    assert names(page) == ["Ada Admin", "Bea Lind", "Cal Ortiz", "Dev Rao", "Eli Moss",
                           "Maya Okafor", "Sam Staff"]
    assert page["next_cursor"] is None
    by_name = {item["name"]: item for item in page["items"]}
    assert by_name["Sam Staff"]["role"] == "staff" and by_name["Sam Staff"]["status"] == "active"
    assert by_name["Eli Moss"]["status"] == "deactivated"
    assert by_name["Eli Moss"]["deactivated_at"] is not None
    assert by_name["Maya Okafor"]["email"] == "maya@uni.edu"
    assert by_name["Maya Okafor"]["created_at"]
    # Maya has a session: she was active a moment ago.
    assert by_name["Maya Okafor"]["last_active_at"] is not None
    assert set(by_name["Bea Lind"]) >= {"id", "name", "email", "role", "status", "created_at",
                                        "last_active_at"}


def test_the_list_pages_by_cursor_without_losing_or_repeating_anyone(
    admin: Person, staff: Person, student: Person, crowd: dict[str, str]
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = admin.client.get(USERS, params=params).json()
        assert len(page["items"]) <= 2
        seen += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Ada Admin", "Bea Lind", "Cal Ortiz", "Dev Rao", "Eli Moss", "Maya Okafor",
                    "Sam Staff"]
    assert admin.client.get(USERS, params={"cursor": "not-a-cursor"}).status_code == 422
    assert admin.client.get(USERS, params={"limit": 0}).status_code == 422


def test_search_finds_part_of_a_name_or_an_email_in_any_case(
    admin: Person, student: Person, crowd: dict[str, str]
) -> None:
    assert names(admin.client.get(USERS, params={"q": "ORTI"}).json()) == ["Cal Ortiz"]
    assert names(admin.client.get(USERS, params={"q": "dev@"}).json()) == ["Dev Rao"]
    assert names(admin.client.get(USERS, params={"q": "%"}).json()) == []  # not a wildcard
    assert names(admin.client.get(USERS, params={"q": "nobody"}).json()) == []


def test_filters_by_role_and_status(
    admin: Person, staff: Person, student: Person, crowd: dict[str, str]
) -> None:
    assert names(admin.client.get(USERS, params={"role": "staff"}).json()) == ["Sam Staff"]
    assert names(admin.client.get(USERS, params={"role": "admin"}).json()) == ["Ada Admin"]
    assert names(admin.client.get(USERS, params={"status": "deactivated"}).json()) == ["Eli Moss"]
    active_students = admin.client.get(USERS, params={"role": "student", "status": "active"})
    assert names(active_students.json()) == ["Bea Lind", "Cal Ortiz", "Dev Rao", "Maya Okafor"]
    assert admin.client.get(USERS, params={"role": "dean"}).status_code == 422
    assert admin.client.get(USERS, params={"status": "asleep"}).status_code == 422


def test_staff_see_the_active_students_name_email_and_last_active_only(
    admin: Person, staff: Person, student: Person, crowd: dict[str, str]
) -> None:
    page = staff.client.get(USERS).json()
    assert names(page) == ["Bea Lind", "Cal Ortiz", "Dev Rao", "Maya Okafor"]
    assert {frozenset(item) for item in page["items"]} == {
        frozenset({"id", "name", "email", "last_active_at"})}
    assert names(staff.client.get(USERS, params={"q": "maya"}).json()) == ["Maya Okafor"]
    assert names(staff.client.get(USERS, params={"role": "student"}).json())[0] == "Bea Lind"
    for params in [{"role": "staff"}, {"role": "admin"}, {"status": "deactivated"}]:
        refused = staff.client.get(USERS, params=params)
        assert refused.status_code == 403 and refused.json()["error"] == "admin_only", params


def test_staff_cannot_change_anyone(admin: Person, staff: Person, student: Person) -> None:
    target = f"{USERS}/{student.id}"
    for method, url, body in [("PATCH", target, {"role": "staff"}),
                              ("POST", f"{target}/deactivate", None),
                              ("POST", f"{target}/reactivate", None),
                              ("DELETE", target, None)]:
        response = staff.client.request(method, url, json=body)
        assert response.status_code == 403 and response.json()["error"] == "admin_only", url
    assert user_row(staff.client.app, student.id).role == "student"  # type: ignore[arg-type, union-attr]


def test_students_reach_no_administration_route(
    admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    listed = student.client.get(USERS)
    assert listed.status_code == 403 and listed.json()["error"] == "staff_only"
    assert "ada@uni.edu" not in listed.text
    target = f"{USERS}/{admin.id}"
    for method, url, body in [("PATCH", target, {"role": "student"}),
                              ("POST", f"{target}/deactivate", None),
                              ("DELETE", target, None), ("GET", "/api/v1/admin/audit", None)]:
        response = student.client.request(method, url, json=body)
        assert response.status_code == 403, url
    # A student's key with every scope is refused too.
    script = make_client()
    script.headers["Authorization"] = "Bearer " + api_key(
        student.client, ["users:read", "users:write", "audit:read"])
    assert script.get(USERS).json()["error"] == "staff_only"
    assert script.post(f"{target}/deactivate").json()["error"] == "admin_only"
    assert make_client().get(USERS).status_code == 401


def test_an_administrators_key_needs_the_scopes_of_what_it_does(
    admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    reader, writer = make_client(), make_client()
    reader.headers["Authorization"] = f"Bearer {api_key(admin.client, ['users:read'])}"
    writer.headers["Authorization"] = f"Bearer {api_key(admin.client, ['users:write'])}"
    assert reader.get(USERS).status_code == 200
    refused = reader.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    assert refused.status_code == 403 and refused.json()["error"] == "missing_scope"
    changed = writer.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    assert changed.status_code == 200 and changed.json()["role"] == "staff"


def test_listing_writes_nothing(app: FastAPI, admin: Person, student: Person) -> None:
    api_key(student.client, ["profile:read"])
    with Statements(app) as sql:
        assert admin.client.get(USERS).status_code == 200
    assert sql.writes == []


def test_last_active_comes_from_logins_sessions_and_key_use(
    app: FastAPI, admin: Person, make_client: Callable[[], TestClient]
) -> None:
    bot = account(app, make_client(), "bot@uni.edu", "Bot Script")
    key = api_key(bot.client, ["profile:read"])
    bot.client.post("/api/v1/auth/logout")
    logged_in = {i["name"]: i for i in admin.client.get(USERS).json()["items"]}[
        "Bot Script"]["last_active_at"]
    assert logged_in is not None  # the login outlives the session it began
    with Session(app.state.engine) as db:
        db.execute(update(User).where(User.id == bot.id).values(last_login_at=None))
        db.commit()
    assert {i["name"]: i for i in admin.client.get(USERS).json()["items"]}[
        "Bot Script"]["last_active_at"] is None
    make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    seen = {i["name"]: i for i in admin.client.get(USERS).json()["items"]}["Bot Script"]
    assert seen["last_active_at"] is not None
    # A session renewed by its sliding expiry counts from its renewal.
    with Session(app.state.engine) as db:
        db.add(AuthSession(id="x" * 64, user_id=bot.id,
                           created_at=utcnow() - timedelta(days=40),
                           expires_at=utcnow() + timedelta(days=13)))
        db.commit()
    renewed = {i["name"]: i for i in admin.client.get(USERS).json()["items"]}["Bot Script"]
    assert renewed["last_active_at"] >= seen["last_active_at"]


# --- changing a role ---


def test_an_administrator_changes_a_role_in_force_at_once(
    admin: Person, student: Person
) -> None:
    assert student.client.get("/api/v1/webhooks").status_code == 403
    changed = admin.client.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    assert changed.status_code == 200
    assert changed.json()["role"] == "staff" and changed.json()["email"] == "maya@uni.edu"
    assert student.client.get("/api/v1/webhooks").status_code == 200
    back = admin.client.patch(f"{USERS}/{student.id}", json={"role": "student"})
    assert back.json()["role"] == "student"
    assert student.client.get("/api/v1/webhooks").status_code == 403


def test_a_role_change_is_validated(admin: Person, student: Person) -> None:
    url = f"{USERS}/{student.id}"
    assert admin.client.patch(url, json={"role": "dean"}).status_code == 422
    assert admin.client.patch(url, json={}).status_code == 422
    unknown = admin.client.patch(url, json={"role": "staff", "email": "x@uni.edu"})
    assert unknown.status_code == 422
    missing = admin.client.patch(f"{USERS}/01nonexistent0000000000000", json={"role": "staff"})
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_an_administrator_cannot_change_their_own_account(admin: Person) -> None:
    url = f"{USERS}/{admin.id}"
    for method, path, body in [("PATCH", url, {"role": "staff"}),
                               ("POST", f"{url}/deactivate", None), ("DELETE", url, None)]:
        refused = admin.client.request(method, path, json=body)
        assert refused.status_code == 409, path
        assert refused.json()["error"] == "own_account"
        assert "your own account" in refused.json()["detail"]
    assert admin.client.get("/api/v1/me").json()["role"] == "admin"


def test_the_last_active_administrator_is_never_taken_away(
    app: FastAPI, admin: Person, make_client: Callable[[], TestClient]
) -> None:
    """Through the API an administrator acting on another leaves one at least; the rule bites
    when the other administrators are deactivated, and for the command line (tested there)."""
    other = account(app, make_client(), "bo@uni.edu", "Bo Admin", Role.admin)
    assert admin.client.post(f"{USERS}/{other.id}/deactivate").status_code == 200
    with Session(app.state.engine) as db:
        ada = db.get(User, admin.id)
        assert ada is not None
        for act in (lambda: service.change_role(db, audit.CLI, ada, Role.staff),
                    lambda: service.deactivate(db, audit.CLI, ada),
                    lambda: service.delete_user(db, audit.CLI, ada)):
            with pytest.raises(Conflict) as refused:
                act()
            assert refused.value.code == "last_admin"
            assert "last active administrator" in refused.value.detail
        # A deactivated administrator may be demoted: they administer nothing.
        bo = db.get(User, other.id)
        assert bo is not None
        service.change_role(db, audit.CLI, bo, Role.staff)
        db.commit()
    # With a second active administrator, the first can go.
    set_role(app, other.id, Role.admin)
    assert admin.client.post(f"{USERS}/{other.id}/reactivate").status_code == 200
    login(other.client, email=other.email)
    demoted = other.client.patch(f"{USERS}/{admin.id}", json={"role": "staff"})
    assert demoted.status_code == 200 and demoted.json()["role"] == "staff"


# --- deactivating ---


def test_deactivation_stops_every_session_and_key_at_once_and_refuses_login(
    app: FastAPI, admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    key = api_key(student.client, ["profile:read"])
    elsewhere = make_client()
    elsewhere.post("/api/v1/auth/login", json={"email": student.email, "password": PASSWORD})
    done = admin.client.post(f"{USERS}/{student.id}/deactivate")
    assert done.status_code == 200
    assert done.json()["status"] == "deactivated" and done.json()["deactivated_at"]

    assert student.client.get("/api/v1/me").status_code == 401
    assert elsewhere.get("/api/v1/contacts").status_code == 401
    by_key = make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 401 and by_key.json()["error"] == "account_deactivated"
    with Session(app.state.engine) as db:
        assert db.scalar(select(func.count()).select_from(AuthSession)
                         .where(AuthSession.user_id == student.id)) == 0

    fresh = make_client()
    refused = fresh.post("/api/v1/auth/login", json={"email": student.email,
                                                     "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"] == "account_deactivated"
    assert "deactivated" in refused.json()["detail"]
    assert "rapport_session" not in refused.cookies
    wrong = fresh.post("/api/v1/auth/login", json={"email": student.email,
                                                   "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"
    # Deactivating again changes nothing.
    assert admin.client.post(f"{USERS}/{student.id}/deactivate").json()["status"] == "deactivated"


def test_reactivation_lets_the_account_log_in_and_its_keys_work_again(
    admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    key = api_key(student.client, ["profile:read"])
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    done = admin.client.post(f"{USERS}/{student.id}/reactivate")
    assert done.status_code == 200
    assert done.json()["status"] == "active" and done.json()["deactivated_at"] is None
    assert student.client.get("/api/v1/me").status_code == 401  # its sessions ended
    again = make_client()
    assert again.post("/api/v1/auth/login", json={"email": student.email,
                                                  "password": PASSWORD}).status_code == 200
    assert again.get("/api/v1/me").json()["email"] == student.email
    by_key = make_client().get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert by_key.status_code == 200


def test_a_deactivated_account_is_sent_no_password_reset_and_its_links_stop(
    app: FastAPI, admin: Person, student: Person
) -> None:
    with_email = app.state.settings.model_copy(update={
        "smtp_url": "smtp://127.0.0.1:25", "mail_from": "Rapport <rapport@uni.edu>"})
    with Session(app.state.engine) as db:
        sent_before = password_reset.request_reset(db, with_email, student.email, "192.0.2.1")
    assert sent_before is not None
    body = sent_before.get_body(("plain",))
    assert body is not None
    token = body.get_content().split("token=")[1].split()[0]
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    with Session(app.state.engine) as db:
        assert password_reset.request_reset(db, with_email, student.email, "192.0.2.1") is None
    used = admin.client.post("/api/v1/auth/password-reset/confirm",
                             json={"token": token, "password": "a brand new password"})
    assert used.status_code == 422 and used.json()["error"] == "invalid_reset_token"


def test_single_sign_on_refuses_a_deactivated_account(app: FastAPI, admin: Person,
                                                      student: Person) -> None:
    who = SsoPerson(issuer="https://login.uni.edu", subject="maya-1", email=student.email,
                    name=student.name, role=None)
    with Session(app.state.engine) as db:
        db.add(OidcIdentity(user_id=student.id, issuer=who.issuer, subject=who.subject))
        db.commit()
        assert sign_in(db, who).id == student.id  # type: ignore[union-attr]
        db.rollback()
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    with Session(app.state.engine) as db, pytest.raises(Forbidden) as refused:
        sign_in(db, who)
    assert refused.value.code == "account_deactivated"


# --- deleting ---


def test_an_administrator_deletes_an_account_with_what_it_owns_not_the_directory(
    app: FastAPI, admin: Person, student: Person, make_client: Callable[[], TestClient]
) -> None:
    student.client.post("/api/v1/contacts", json={"first_name": "Dr.", "last_name": "Jones"})
    key = api_key(student.client, ["profile:read"])
    with Session(app.state.engine) as db:
        directory.create_entry(db, {"first_name": "Kwame", "last_name": "Mensah"})
        db.commit()
    gone = admin.client.delete(f"{USERS}/{student.id}")
    assert gone.status_code == 204 and gone.content == b""
    assert user_row(app, student.id) is None
    assert student.client.get("/api/v1/me").status_code == 401
    assert make_client().get("/api/v1/me",
                             headers={"Authorization": f"Bearer {key}"}).status_code == 401
    with Session(app.state.engine) as db:
        assert db.scalar(select(func.count()).select_from(Contact)) == 0
        assert db.scalar(select(func.count()).select_from(DirectoryEntry)) == 1
    assert admin.client.delete(f"{USERS}/{student.id}").status_code == 404
    assert make_client().post("/api/v1/auth/login", json={
        "email": student.email, "password": PASSWORD}).status_code == 401


def test_the_account_service_refuses_a_deactivated_users_session_and_key(
    app: FastAPI, admin: Person, student: Person
) -> None:
    """find_session and find_api_key are where every request is let in: both refuse."""
    key = api_key(student.client, ["profile:read"])
    token = student.client.cookies.get("rapport_session")
    assert token
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    with Session(app.state.engine) as db:
        db.add(AuthSession(id=accounts.sha256(token), user_id=student.id,
                           expires_at=utcnow() + timedelta(days=1)))
        db.commit()  # a session written meanwhile, as a login racing the deactivation would
        assert accounts.find_session(db, app.state.settings, token) is None
        with pytest.raises(accounts.Unauthorized):
            accounts.find_api_key(db, key)
