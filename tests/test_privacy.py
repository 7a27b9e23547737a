"""Private means private: a second student reaches none of the first student's records,
through any route that takes an id, any filter, any list, search or count.

The walk covers every route of the app, so routes added later are checked too: a route whose
path names an id this test does not know, or whose body it cannot fill, fails the test until
it is taught here."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts import password_reset
from app.directory import service as directory
from app.models import ReminderPreference, User, WebhookDelivery
from app.webhooks import service as webhooks
from tests.conftest import api_key, login, signed_in
from tests.imports.helpers import make_staff

SECRET_WORD = "Zanzibarian"

# A valid body for routes that need one, so the answer is about the id, not the body.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/interviews/{interview_id}/questions"): {"text": "Why?"},
    ("POST", "/api/v1/interviews/{interview_id}/referrals"): {"first_name": "Kim"},
    ("PUT", "/api/v1/directory/by-external-id/{external_id}"): {"first_name": "Kim"},
}
HIDDEN_EXTERNAL_ID = "CRM/hidden-1"  # with a slash, as some CRMs' ids have


def hidden_entry(app: FastAPI) -> str:
    """A directory entry that does not accept requests: students never see it."""
    with Session(app.state.engine) as db:
        entry = directory.create_entry(db, {"first_name": SECRET_WORD, "accepts_requests": False,
                                            "external_id": HIDDEN_EXTERNAL_ID})
        db.commit()
        return entry.id


def office_webhook(app: FastAPI) -> tuple[str, str]:
    """A webhook of career services and one delivery of it: staff configuration, which no
    student reaches (403), whatever the id."""
    with Session(app.state.engine) as db:
        staff = User(email="hooks@uni.edu", password_hash="x", name="Office", role="staff")
        db.add(staff)
        db.flush()
        hook = webhooks.create_webhook(db, app.state.settings, staff, "https://93.184.215.14/",
                                       ["directory.entry.created"], description=SECRET_WORD)
        directory.create_entry(db, {"first_name": SECRET_WORD})
        delivery = db.query(WebhookDelivery).one()
        db.commit()
        return hook.id, delivery.id


@pytest.fixture
def maya_owns(app: FastAPI, make_client: Callable[[], TestClient]) -> dict[str, str]:
    maya = make_client()
    signed_in(maya)
    org = maya.post("/api/v1/organizations", json={"name": f"{SECRET_WORD} Labs"}).json()
    referrer = maya.post("/api/v1/contacts", json={"first_name": "Dr.", "last_name": "Jones"}).json()
    contact = maya.post("/api/v1/contacts", json={
        "first_name": SECRET_WORD, "organization_id": org["id"], "tags": [SECRET_WORD.lower()],
        "referred_by_id": referrer["id"], "stage": "contacted"}).json()
    question = maya.post("/api/v1/questions", json={
        "text": f"What does {SECRET_WORD} mean to you?", "category": "Next Steps"}).json()
    interview = maya.post("/api/v1/interviews", json={
        "contact_id": contact["id"], "notes": SECRET_WORD}).json()
    item = maya.post(f"/api/v1/interviews/{interview['id']}/questions",
                     json={"question_id": question["id"]}).json()
    maya.patch(f"/api/v1/interviews/{interview['id']}/questions/{item['id']}",
               json={"answer": f"{SECRET_WORD} is everything"})
    default = maya.get("/api/v1/questions").json()["items"][0]
    shared = maya.post(f"/api/v1/interviews/{interview['id']}/questions",
                       json={"question_id": default["id"]}).json()
    maya.patch(f"/api/v1/interviews/{interview['id']}/questions/{shared['id']}",
               json={"answer": f"Every day at {SECRET_WORD} is different"})
    maya.patch(f"/api/v1/interviews/{interview['id']}", json={"status": "completed"})
    task = maya.get("/api/v1/tasks").json()["items"][0]
    template = maya.post("/api/v1/templates", json={
        "kind": "outreach", "name": f"{SECRET_WORD} template", "body": f"{SECRET_WORD}!"}).json()
    message = maya.post("/api/v1/messages", json={
        "kind": "outreach", "contact_id": contact["id"], "template_id": template["id"]}).json()
    maya.post("/api/v1/tasks", json={"title": f"Call {SECRET_WORD}", "due_at": "2020-01-01T09:00Z"})
    upload = maya.post("/api/v1/imports", data={"target": "contacts"}, files={
        "file": ("mine.csv", f"First Name,Email,Notes\n{SECRET_WORD},bad,{SECRET_WORD}\n".encode())})
    api_key(maya)
    key = maya.get("/api/v1/api-keys").json()["items"][0]
    assert maya.post("/api/v1/me/calendar-feed").status_code == 201
    me = maya.get("/api/v1/me").json()
    with Session(app.state.engine) as db:  # what a copy of the database would show of it
        feed_hash = db.get(ReminderPreference, me["id"]).feed_token_hash
    return {"contact_id": contact["id"], "organization_id": org["id"], "key_id": key["id"],
            "question_id": question["id"], "interview_id": interview["id"],
            "item_id": item["id"], "task_id": task["id"], "template_id": template["id"],
            "message_id": message["id"], "import_id": upload.json()["id"], "section": "about",
            "user_id": me["id"],
            "entry_id": hidden_entry(app), "external_id": HIDDEN_EXTERNAL_ID,
            # Maya's feed and unsubscribe links are capabilities: their stored hash, or her id
            # with a signature made up, open nothing.
            "feed_token": f"rcal_{feed_hash}",
            "unsubscribe_token": f"{me['id']}.digest.{'0' * 40}",
            **dict(zip(("webhook_id", "delivery_id"), office_webhook(app), strict=True))}


@pytest.fixture
def jon(make_client: Callable[[], TestClient], maya_owns: dict[str, str]) -> TestClient:
    client = make_client()
    signed_in(client, email="jon@uni.edu", name="Jon Park")
    return client


def all_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif hasattr(route, "original_router"):  # a router included in the app
            yield from all_routes(route.original_router.routes,
                                   prefix + route.include_context.prefix)


def _routes_with_ids(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    return [
        (method, re.sub(r"{(\w+):\w+}", r"{\1}", path), re.findall(r"{(\w+)[:}]", path))
        for path, route in all_routes(app.routes) if "{" in path
        for method in sorted(route.methods - {"HEAD"})
    ]


def test_every_route_with_an_id_answers_404_for_another_students_id(
    app: FastAPI, jon: TestClient, maya_owns: dict[str, str]
) -> None:
    routes = _routes_with_ids(app)
    assert len(routes) >= 10
    for method, path, params in routes:
        unknown = [p for p in params if p not in maya_owns]
        assert not unknown, f"teach tests/test_privacy.py the id {unknown} of {method} {path}"
        url = path.format(**{p: maya_owns[p] for p in params})
        body = BODIES.get((method, path), {}) if method in {"POST", "PUT", "PATCH"} else None
        response = jon.request(method, url, json=body)
        # A hidden directory entry is not found; changing one is for staff only. Webhooks are
        # the career office's, and accounts are administered by staff: a student is refused
        # (403) before any id is looked at.
        directory = {"entry_id", "external_id"} & set(params)
        expected = {403, 404} if directory and method != "GET" else {404}
        if "webhook_id" in params or path.startswith("/api/v1/admin/"):
            expected = {403}
        assert response.status_code in expected, (
            f"{method} {path} answered {response.status_code}"
            + (" (give it a valid body in BODIES)" if response.status_code == 422 else ""))
        assert SECRET_WORD not in response.text, f"{method} {path} leaked data"


def test_a_student_cannot_batch_write_the_directory(
    app: FastAPI, jon: TestClient, maya_owns: dict[str, str]
) -> None:
    response = jon.post("/api/v1/directory/batch", json={"items": [
        {"external_id": HIDDEN_EXTERNAL_ID, "first_name": "Changed", "accepts_requests": True}]})
    assert response.status_code == 403 and SECRET_WORD not in response.text
    with Session(app.state.engine) as db:
        entry = directory.find_by_external_id(db, HIDDEN_EXTERNAL_ID)
        assert entry is not None
        assert (entry.first_name, entry.accepts_requests) == (SECRET_WORD, False)


def mine_id(client: TestClient) -> str:
    """One contact of the client's own (made once)."""
    items = client.get("/api/v1/contacts", params={"q": "Ownone"}).json()["items"]
    if items:
        return str(items[0]["id"])
    return str(client.post("/api/v1/contacts", json={"first_name": "Ownone"}).json()["id"])


def test_another_students_ids_in_filters_and_bodies_are_not_found(
    jon: TestClient, maya_owns: dict[str, str]
) -> None:
    org, contact = maya_owns["organization_id"], maya_owns["contact_id"]
    assert jon.get("/api/v1/contacts", params={"organization_id": org}).status_code == 404
    assert jon.get("/api/v1/interviews", params={"contact_id": contact}).status_code == 404
    assert jon.get("/api/v1/tasks", params={"contact_id": contact}).status_code == 404
    assert jon.get("/api/v1/tasks",
                   params={"interview_id": maya_owns["interview_id"]}).status_code == 404
    assert jon.post("/api/v1/interviews", json={"contact_id": contact}).status_code == 404
    assert jon.post("/api/v1/tasks", json={"title": "x", "contact_id": contact}).status_code == 404
    assert jon.get("/api/v1/messages", params={"contact_id": contact}).status_code == 404
    for path in ["/api/v1/messages", "/api/v1/messages/preview"]:
        assert jon.post(path, json={"kind": "outreach", "contact_id": contact}).status_code == 404
        assert jon.post(path, json={"kind": "thank_you", "contact_id": mine_id(jon),
                                    "interview_id": maya_owns["interview_id"]}).status_code == 404
        assert jon.post(path, json={"kind": "outreach", "contact_id": mine_id(jon),
                                    "template_id": maya_owns["template_id"]}).status_code == 404
    for page in [f"/messages/new?contact_id={contact}",
                 f"/messages/new?contact_id={mine_id(jon)}&template_id={maya_owns['template_id']}",
                 f"/messages/templates/new?copy={maya_owns['template_id']}"]:
        response = jon.get(page)
        assert response.status_code == 404 and SECRET_WORD not in response.text, page
    for body in [{"first_name": "A", "organization_id": org},
                 {"first_name": "A", "referred_by_id": contact}]:
        response = jon.post("/api/v1/contacts", json=body)
        assert response.status_code == 404, body
    mine = jon.post("/api/v1/contacts", json={"first_name": "Mine"}).json()
    for body in [{"organization_id": org}, {"referred_by_id": contact}]:
        assert jon.patch(f"/api/v1/contacts/{mine['id']}", json=body).status_code == 404, body
    assert [c["id"] for c in jon.get("/api/v1/contacts").json()["items"]] == [mine["id"], mine_id(jon)]


def test_lists_searches_counts_and_pages_show_nothing_of_another_student(
    jon: TestClient, maya_owns: dict[str, str]
) -> None:
    assert jon.get("/api/v1/contacts", params={"q": SECRET_WORD[:4]}).json()["items"] == []
    assert jon.get("/api/v1/contacts", params={"tag": SECRET_WORD.lower()}).json()["items"] == []
    assert jon.get("/api/v1/contacts", params={"stage": "contacted"}).json()["items"] == []
    assert jon.get("/api/v1/organizations").json()["items"] == []
    assert jon.get("/api/v1/api-keys").json()["items"] == []
    assert SECRET_WORD not in jon.get("/api/v1/questions", params={"limit": 200}).text
    assert jon.get("/api/v1/interviews").json()["items"] == []
    assert jon.get("/api/v1/tasks").json()["items"] == []
    for due in ["overdue", "today", "upcoming"]:
        assert jon.get("/api/v1/tasks", params={"due": due}).json()["items"] == []
    assert jon.get("/api/v1/messages").json()["items"] == []
    assert SECRET_WORD not in jon.get("/api/v1/templates", params={"limit": 200}).text
    default = jon.get("/api/v1/questions").json()["items"][0]["id"]
    assert jon.get(f"/api/v1/questions/{default}/answers").json()["items"] == []
    for page in ["/contacts", "/contacts/board", "/organizations", "/settings/api-keys",
                 "/settings/reminders", "/", "/questions", "/interviews",
                 f"/questions/{default}/answers", "/messages",
                 "/messages/templates", "/tasks"]:
        html = jon.get(page).text
        assert SECRET_WORD not in html and SECRET_WORD.lower() not in html, page
    searched = jon.get(f"/contacts?q={SECRET_WORD}").text  # the query itself is echoed back
    assert "No contacts match" in searched and f">{SECRET_WORD}" not in searched
    board = jon.get("/contacts/board").text
    assert 'class="chip-count">1<' not in board  # Maya's contacted contact is not counted


def test_pages_with_another_students_id_are_not_found(
    jon: TestClient, maya_owns: dict[str, str]
) -> None:
    for page in [f"/contacts/{maya_owns['contact_id']}",
                 f"/organizations/{maya_owns['organization_id']}"]:
        response = jon.get(page)
        assert response.status_code == 404 and SECRET_WORD not in response.text


def test_staff_figures_count_a_student_without_showing_anything_of_theirs(
    app: FastAPI, make_client: Callable[[], TestClient], maya_owns: dict[str, str]
) -> None:
    staff = make_client()
    make_staff(app, staff)
    for url in ["/api/v1/stats/engagement", "/api/v1/stats/directory", "/api/v1/stats/templates",
                "/stats"]:
        response = staff.get(url)
        assert response.status_code == 200, url
        assert SECRET_WORD not in response.text and SECRET_WORD.lower() not in response.text, url
        for key in ("contact_id", "template_id", "message_id", "interview_id"):
            assert maya_owns[key] not in response.text, (url, key)


def test_a_password_reset_token_opens_no_one_elses_account(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    """Maya's reset link sets Maya's password and nobody else's, and logs no one in: not the
    browser that used it, and no other student's session changes."""
    maya, jon = make_client(), make_client()
    signed_in(maya)
    signed_in(jon, email="jon@uni.edu", name="Jon Park")
    with_email = app.state.settings.model_copy(update={
        "smtp_url": "smtp://127.0.0.1:25", "mail_from": "Rapport <rapport@uni.edu>"})
    with Session(app.state.engine) as db:
        msg = password_reset.request_reset(db, with_email, "maya@uni.edu", "198.51.100.7")
    assert msg is not None
    body = msg.get_body(("plain",))
    assert body is not None
    token = re.search(r"reset-password\?token=([\w-]+)", body.get_content())
    assert token is not None

    jon_elsewhere = make_client()
    login(jon_elsewhere, email="jon@uni.edu")
    response = jon.post("/api/v1/auth/password-reset/confirm", json={
        "token": token.group(1), "password": "jon took over maya"})
    assert response.status_code == 204 and "X-CSRF-Token" not in response.headers
    assert jon.cookies.get("rapport_session") is None  # no session given, his own cookie gone
    assert jon_elsewhere.get("/api/v1/me").json()["email"] == "jon@uni.edu"
    assert maya.get("/api/v1/me").status_code == 401  # Maya's sessions ended
    other = make_client()
    assert other.post("/api/v1/auth/login", json={
        "email": "jon@uni.edu", "password": "jon took over maya"}).status_code == 401
    assert other.post("/api/v1/auth/login", json={
        "email": "maya@uni.edu", "password": "jon took over maya"}).json()["email"] == \
        "maya@uni.edu"
