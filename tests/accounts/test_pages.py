"""The account pages, and the htmx answers of the same API routes."""

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, api_key, register, signed_in

HX = {"HX-Request": "true"}


def test_a_page_that_needs_a_login_sends_the_browser_to_it(client: TestClient) -> None:
    response = client.get("/settings", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Fsettings"


def test_login_via_htmx_redirects_to_the_page_asked_for(client: TestClient) -> None:
    register(client)
    response = client.post("/api/v1/auth/login?next=/settings/api-keys", headers=HX,
                           json={"email": "maya@uni.edu", "password": PASSWORD})
    assert response.headers["HX-Redirect"] == "/settings/api-keys"
    for next_url in ["//evil.example", "/%09/evil.example", "/%5Cevil.example",
                     "/\\evil.example", "https://evil.example"]:
        offsite = client.post(f"/api/v1/auth/login?next={next_url}", headers=HX,
                              json={"email": "maya@uni.edu", "password": PASSWORD})
        assert offsite.headers["HX-Redirect"] == "/", next_url


def test_failed_login_re_renders_the_form_with_the_email_kept(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login", headers=HX,
                           json={"email": "maya@uni.edu", "password": "wrong"})
    assert response.status_code == 401
    assert 'id="login-form"' in response.text
    assert 'value="maya@uni.edu"' in response.text
    assert "The email or password is not right." in response.text
    assert "wrong" not in response.text  # a password is never echoed


def test_register_via_htmx_signs_the_student_in_and_opens_the_guided_start(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/auth/register", headers=HX,
                           json={"email": "maya@uni.edu", "password": PASSWORD, "name": "Maya",
                                 "timezone": "Asia/Calcutta"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/"
    home = client.get("/")
    assert "Getting started" in home.text
    assert client.get("/api/v1/me").json()["timezone"] == "Asia/Kolkata"


def test_the_register_page_offers_current_zones_to_search_not_legacy_names(
    client: TestClient,
) -> None:
    page = client.get("/register").text
    assert 'list="timezone-list"' in page and "data-browser-zone" in page
    assert '<option value="Europe/Oslo">Norway</option>' in page
    assert '<option value="America/Chicago">United States · Central (most areas)</option>' in page
    for legacy in ("US/Eastern", "Asia/Calcutta", "EST5EDT", "Etc/GMT+5"):
        assert f'value="{legacy}"' not in page


def test_a_signed_in_visitor_to_register_or_login_goes_home(client: TestClient) -> None:
    signed_in(client)
    for path in ("/register", "/login"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_student_is_offered_only_the_scopes_a_student_can_use(client: TestClient) -> None:
    signed_in(client)
    page = client.get("/settings/api-keys").text
    assert 'value="contacts:write"' in page and 'value="directory:read"' in page
    for staff_only in ("directory:write", "stats:read", "webhooks:manage"):
        assert f'value="{staff_only}"' not in page


def test_profile_errors_appear_beside_the_fields_and_keep_what_was_typed(
    client: TestClient,
) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", headers=HX, json={
        "name": "Maya Okafor", "school": "Concordia University", "graduation_year": "1800"})
    assert response.status_code == 422
    html = response.text
    assert 'id="profile-form"' in html and "<html" not in html
    assert 'value="Concordia University"' in html
    assert 'value="1800"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="e-graduation_year"' in html
    assert client.get("/api/v1/me").json()["school"] == ""


def test_profile_saved_via_htmx_says_saved(client: TestClient) -> None:
    signed_in(client)
    response = client.patch("/api/v1/me", headers=HX, json={"major": "biology"})
    assert response.status_code == 200
    assert "Saved" in response.text and 'value="biology"' in response.text


def test_settings_page_shows_the_profile(client: TestClient) -> None:
    signed_in(client)
    client.patch("/api/v1/me", json={"school": "Concordia University, St. Paul"})
    html = client.get("/settings").text
    assert 'value="Concordia University, St. Paul"' in html
    assert client.headers["X-CSRF-Token"] in html  # htmx sends it from <body hx-headers>


def test_the_new_key_is_shown_once_in_the_page(client: TestClient) -> None:
    signed_in(client)
    response = client.post("/api/v1/api-keys", headers=HX,
                           json={"name": "Laptop", "scopes": "profile:read"})
    assert response.status_code == 201
    secret = response.text.split('id="new-key-secret" class="secret-value">')[1].split("<")[0]
    assert secret.startswith("rpk_")
    assert 'hx-swap-oob="true"' in response.text and "Laptop" in response.text
    assert secret not in client.get("/settings/api-keys").text


def test_api_key_form_errors_keep_the_name(client: TestClient) -> None:
    signed_in(client)
    response = client.post("/api/v1/api-keys", headers=HX, json={"name": "Laptop"})
    assert response.status_code == 422
    assert 'value="Laptop"' in response.text and 'id="e-scopes"' in response.text


def test_revoking_in_the_page_redraws_the_list(client: TestClient) -> None:
    signed_in(client)
    api_key(client)
    key_id = client.get("/api/v1/api-keys").json()["items"][0]["id"]
    response = client.delete(f"/api/v1/api-keys/{key_id}", headers=HX)
    assert response.status_code == 200
    assert "You have no API keys" in response.text


def test_home_asks_for_the_missing_profile_details(client: TestClient) -> None:
    assert "Create your account" in client.get("/").text
    signed_in(client)
    html = client.get("/").text
    assert "Hello, Maya" in html and "your school" in html
    client.patch("/api/v1/me", json={"school": "S", "major": "M", "career_goal": "G"})
    assert "Finish your profile" not in client.get("/").text


def test_the_api_reference_is_served_without_a_cdn(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in html and "http" not in html.split("<body>")[1]
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "Rapport"


def test_the_password_form_offers_to_revoke_the_api_keys_ticked(client: TestClient) -> None:
    signed_in(client)
    html = client.get("/settings").text
    form = html.split('id="password-form"')[1].split("</form>")[0]
    checkbox = form.split('id="f-revoke_api_keys"')[1].split(">")[0]
    assert 'name="revoke_api_keys"' in checkbox and "checked" in checkbox
    assert "Also revoke all my API keys" in form
    section = html.split('id="password-heading"')[1].split("</section>")[0]
    assert "signs you out of Rapport in every other browser" in section
    assert "API keys" in section and "keep working unless" in section


def test_a_password_form_sent_back_with_an_error_keeps_the_box_as_it_was(
    client: TestClient,
) -> None:
    signed_in(client)
    unticked = client.post("/api/v1/me/password", headers=HX,
                           json={"current_password": "wrong", "new_password": "a new password"})
    assert unticked.status_code == 422
    checkbox = unticked.text.split('id="f-revoke_api_keys"')[1].split(">")[0]
    assert "checked" not in checkbox
    ticked = client.post("/api/v1/me/password", headers=HX, json={
        "current_password": "wrong", "new_password": "a new password", "revoke_api_keys": "true"})
    assert "checked" in ticked.text.split('id="f-revoke_api_keys"')[1].split(">")[0]


def test_a_password_changed_in_the_page_says_what_it_ended(client: TestClient) -> None:
    signed_in(client)
    api_key(client)
    api_key(client)
    response = client.post("/api/v1/me/password", headers=HX, json={
        "current_password": PASSWORD, "new_password": "a new password", "revoke_api_keys": "true"})
    assert response.headers["HX-Redirect"] == "/settings?password_changed=1&keys_revoked=2"
    html = client.get(response.headers["HX-Redirect"]).text
    assert "You were signed out everywhere else; 2 API keys were revoked." in html

    response = client.post("/api/v1/me/password", headers={
        **HX, "X-CSRF-Token": response.headers["X-CSRF-Token"]},
        json={"current_password": "a new password", "new_password": "another password"})
    assert response.headers["HX-Redirect"] == "/settings?password_changed=1"
    html = client.get(response.headers["HX-Redirect"]).text
    assert "Password changed. You were signed out everywhere else." in html
