"""Registration, login, sessions, the profile and passwords, through the JSON API."""

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, api_key, login, register, signed_in


def test_health_needs_no_login(client: TestClient) -> None:
    assert client.get("/api/v1/health").json() == {"status": "ok"}


def test_register_returns_the_new_student_without_secrets(client: TestClient) -> None:
    user = register(client, email="Maya@Uni.edu")
    assert user["email"] == "maya@uni.edu"
    assert user["role"] == "student"
    assert user["name"] == "Maya Okafor"
    assert "password" not in str(user) and "hash" not in str(user)
    assert user["created_at"].endswith(("Z", "+00:00"))


def test_register_logs_the_new_student_in_as_login_does(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register",
                           json={"email": "maya@uni.edu", "password": PASSWORD, "name": "Maya"})
    assert response.status_code == 201
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("rapport_session=") and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert client.get("/api/v1/me").json()["email"] == "maya@uni.edu"
    # The CSRF token comes with it: the new session can write at once.
    client.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    assert client.patch("/api/v1/me", json={"major": "biology"}).json()["major"] == "biology"


def test_register_takes_the_time_zone_the_browser_reports(client: TestClient) -> None:
    assert register(client)["timezone"] == "UTC"
    response = client.post("/api/v1/auth/register", json={
        "email": "sam@uni.edu", "password": PASSWORD, "name": "Sam", "timezone": "Europe/Kiev"})
    assert response.json()["timezone"] == "Europe/Kyiv"
    response = client.post("/api/v1/auth/register", json={
        "email": "eve@uni.edu", "password": PASSWORD, "name": "Eve", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "timezone"
    response = client.post("/api/v1/auth/register", json={
        "email": "ann@uni.edu", "password": PASSWORD, "name": "Ann", "timezone": None})
    assert response.status_code == 201 and response.json()["timezone"] == "UTC"


def test_registering_in_a_browser_that_was_logged_in_ends_that_session(
    client: TestClient,
) -> None:
    signed_in(client, email="first@uni.edu")
    old = client.cookies["rapport_session"]
    register(client, email="second@uni.edu")
    assert client.get("/api/v1/me").json()["email"] == "second@uni.edu"
    client.cookies.set("rapport_session", old)
    assert client.get("/api/v1/me").status_code == 401


def test_register_twice_with_the_same_email_in_other_case_is_a_conflict(
    client: TestClient,
) -> None:
    register(client)
    response = client.post("/api/v1/auth/register",
                           json={"email": "MAYA@uni.edu", "password": PASSWORD, "name": "M"})
    assert response.status_code == 409
    assert response.json()["error"] == "email_taken"


def test_register_names_each_bad_field(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register",
                           json={"email": "not-an-email", "password": "short", "name": ""})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert {f["field"] for f in body["fields"]} == {"email", "password", "name"}


def test_register_cannot_choose_a_role(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register", json={
        "email": "eve@uni.edu", "password": PASSWORD, "name": "Eve", "role": "admin"})
    assert response.status_code == 422
    assert response.json()["fields"] == [{"field": "role", "message": "Extra inputs are not permitted"}]


def test_closed_registration_refuses_everyone(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(registration="closed"))) as c:
        response = c.post("/api/v1/auth/register",
                          json={"email": "a@uni.edu", "password": PASSWORD, "name": "A"})
    assert response.status_code == 403
    assert response.json()["error"] == "registration_closed"


def test_registration_limited_to_domains(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(registration="uni.edu, alumni.uni.edu"))) as c:
        refused = c.post("/api/v1/auth/register",
                         json={"email": "a@gmail.com", "password": PASSWORD, "name": "A"})
        accepted = c.post("/api/v1/auth/register",
                          json={"email": "b@alumni.uni.edu", "password": PASSWORD, "name": "B"})
    assert refused.status_code == 422
    assert refused.json()["fields"][0]["field"] == "email"
    assert "@uni.edu" in refused.json()["fields"][0]["message"]
    assert accepted.status_code == 201


def test_login_sets_an_httponly_lax_session_cookie(client: TestClient) -> None:
    register(client)
    response = client.post("/api/v1/auth/login",
                           json={"email": "MAYA@uni.edu", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["email"] == "maya@uni.edu"
    cookie = response.headers["set-cookie"].lower()
    assert "rapport_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in tests
    assert client.get("/api/v1/me").json()["email"] == "maya@uni.edu"


def test_session_cookie_is_secure_behind_https(app: object) -> None:
    with TestClient(app, base_url="https://rapport.test") as c:  # type: ignore[arg-type]
        register(c)
        response = c.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient) -> None:
    register(client)
    wrong = client.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "no@uni.edu", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_credentials"


def test_each_login_gets_a_new_session_and_the_old_one_stops_working(
    client: TestClient,
) -> None:
    register(client)
    login(client)
    first = client.cookies["rapport_session"]
    login(client)
    second = client.cookies["rapport_session"]
    assert first != second
    client.cookies.clear()
    client.cookies["rapport_session"] = first
    assert client.get("/api/v1/me").status_code == 401


def test_logout_ends_the_session(client: TestClient) -> None:
    signed_in(client)
    token = client.cookies["rapport_session"]
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies["rapport_session"] = token  # a copy kept by an attacker is worthless too
    assert client.get("/api/v1/me").status_code == 401


def test_login_is_throttled_per_account_with_retry_after(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(login_max_failures_per_account=3))) as c:
        register(c)
        for _ in range(3):
            assert c.post("/api/v1/auth/login",
                          json={"email": "maya@uni.edu", "password": "bad"}).status_code == 401
        blocked = c.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "login_throttled"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 900


def test_login_throttle_per_address_is_shared_by_every_app_process(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(login_max_failures_per_address=4)
    with TestClient(create_app(settings)) as one, TestClient(create_app(settings)) as two:
        register(one)
        for i in range(2):
            one.post("/api/v1/auth/login", json={"email": f"x{i}@uni.edu", "password": "bad"})
            two.post("/api/v1/auth/login", json={"email": f"y{i}@uni.edu", "password": "bad"})
        blocked = one.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


def test_a_successful_login_clears_the_account_failures(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(login_max_failures_per_account=3))) as c:
        register(c)
        for _ in range(2):
            c.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": "bad"})
        login(c)
        for _ in range(2):
            c.post("/api/v1/auth/login", json={"email": "maya@uni.edu", "password": "bad"})
        assert c.post("/api/v1/auth/login",
                      json={"email": "maya@uni.edu", "password": PASSWORD}).status_code == 200


def test_me_needs_authentication(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_profile_update_keeps_what_was_sent(client: TestClient) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", json={
        "school": "Concordia University, St. Paul", "major": "biology",
        "career_goal": "a career in medicine", "graduation_year": 2027,
        "signature": "Maya Okafor\nBiology, class of 2027", "timezone": "America/Chicago",
    })
    assert response.status_code == 200
    me = client.get("/api/v1/me").json()
    assert me["school"] == "Concordia University, St. Paul"
    assert me["graduation_year"] == 2027
    assert me["timezone"] == "America/Chicago"
    assert me["signature"].endswith("class of 2027")


def test_profile_blank_year_from_a_form_clears_it(client: TestClient) -> None:
    signed_in(client)
    client.patch("/api/v1/me", json={"graduation_year": 2027})
    assert client.patch("/api/v1/me", json={"graduation_year": ""}).json()["graduation_year"] is None


def test_profile_validation_names_the_fields(client: TestClient) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", json={
        "graduation_year": 1800, "timezone": "Mars/Olympus", "name": ""})
    assert response.status_code == 422
    assert {f["field"] for f in response.json()["fields"]} == {
        "graduation_year", "timezone", "name"}
    assert client.get("/api/v1/me").json()["name"] == "Maya Okafor"


def test_profile_refuses_role_id_and_timestamps(client: TestClient) -> None:
    signed_in(client)
    for field, value in [("role", "admin"), ("id", "x"), ("created_at", "2020-01-01T00:00:00Z")]:
        response = client.patch("/api/v1/me", json={field: value})
        assert response.status_code == 422, field
        assert response.json()["fields"][0]["field"] == field
    assert client.get("/api/v1/me").json()["role"] == "student"


def test_profile_email_change_to_a_taken_address_is_a_conflict(
    make_client: Callable[[], TestClient],
) -> None:
    other = make_client()
    register(other, email="jon@uni.edu", name="Jon")
    me = make_client()
    signed_in(me)
    response = me.patch("/api/v1/me", json={"email": "JON@uni.edu"})
    assert response.status_code == 409
    assert response.json()["fields"][0]["field"] == "email"


def test_password_change_needs_the_current_password(client: TestClient) -> None:
    signed_in(client)
    response = client.post("/api/v1/me/password",
                           json={"current_password": "wrong", "new_password": "a new password"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "current_password"


def test_password_change_ends_every_other_session(
    make_client: Callable[[], TestClient],
) -> None:
    laptop, phone = make_client(), make_client()
    signed_in(laptop)
    login(phone)
    response = laptop.post("/api/v1/me/password",
                           json={"current_password": PASSWORD, "new_password": "a new password"})
    assert response.status_code == 204
    laptop.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    assert laptop.get("/api/v1/me").status_code == 200
    assert phone.get("/api/v1/me").status_code == 401
    assert phone.post("/api/v1/auth/login", json={
        "email": "maya@uni.edu", "password": PASSWORD}).status_code == 401
    login(phone, password="a new password")


def test_password_change_can_revoke_every_api_key(client: TestClient) -> None:
    signed_in(client)
    keys = [api_key(client), api_key(client, ["contacts:read"])]
    response = client.post("/api/v1/me/password", json={
        "current_password": PASSWORD, "new_password": "a new password", "revoke_api_keys": True})
    assert response.status_code == 204
    client.headers["X-CSRF-Token"] = response.headers["X-CSRF-Token"]
    for key in keys:
        refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_api_key"
    assert client.get("/api/v1/api-keys").json()["items"] == []


def test_password_change_keeps_api_keys_unless_asked(client: TestClient) -> None:
    signed_in(client)
    key = api_key(client)
    response = client.post("/api/v1/me/password",
                           json={"current_password": PASSWORD, "new_password": "a new password"})
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_wrong_current_password_revokes_nothing(client: TestClient) -> None:
    signed_in(client)
    key = api_key(client)
    response = client.post("/api/v1/me/password", json={
        "current_password": "wrong", "new_password": "a new password", "revoke_api_keys": True})
    assert response.status_code == 422
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_password_change_says_in_the_contract_what_it_ends(app: object) -> None:
    schema = app.openapi()  # type: ignore[attr-defined]
    body = schema["components"]["schemas"]["PasswordIn"]["properties"]["revoke_api_keys"]
    assert body["type"] == "boolean" and body["default"] is False
    assert "browser session" in body["description"] and "calendar feed" in body["description"]
    operation = schema["paths"]["/api/v1/me/password"]["post"]
    assert "API keys and the calendar feed keep working" in operation["description"]


def test_every_status_an_account_route_can_answer_is_in_the_contract(app: object) -> None:
    paths = app.openapi()["paths"]  # type: ignore[attr-defined]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "401", "403", "422", "429", "503"} <= set(login)
    assert "Retry-After" in login["429"]["headers"] and "Retry-After" in login["503"]["headers"]
    assert "login_throttled" in login["429"]["description"]
    assert "busy" in login["503"]["description"]
    assert "409" in paths["/api/v1/auth/register"]["post"]["responses"]
    assert "503" in paths["/api/v1/auth/register"]["post"]["responses"]
    assert "email_taken" in paths["/api/v1/me"]["patch"]["responses"]["409"]["description"]
    assert "503" in paths["/api/v1/me/password"]["post"]["responses"]
    assert "too_many_keys" in paths["/api/v1/api-keys"]["post"]["responses"]["409"]["description"]
