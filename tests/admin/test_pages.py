"""The /admin pages: administrators change accounts from the list, staff read the students,
students see neither page nor link; the page's htmx calls get the fragments they swap."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.admin.helpers import Person
from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}
USERS = "/api/v1/admin/users"


def test_administrators_get_the_list_with_a_role_select_and_actions_per_account(
    admin: Person, staff: Person, student: Person
) -> None:
    page = admin.client.get("/admin/users")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/admin/users" aria-current="page">Users</a>' in html
    assert 'href="/admin/audit"' in html
    assert f'aria-label="Role of {student.name}"' in html
    assert f'hx-post="/api/v1/admin/users/{student.id}/deactivate"' in html
    assert f'hx-delete="/api/v1/admin/users/{student.id}"' in html
    assert "hx-confirm=" in html
    # Their own row has nothing to press.
    assert f'aria-label="Role of {admin.name}"' not in html
    assert f"/api/v1/admin/users/{admin.id}/deactivate" not in html
    filtered = admin.client.get("/admin/users", params={"role": "staff", "status": ""})
    assert "sam@uni.edu" in filtered.text and "maya@uni.edu" not in filtered.text


def test_staff_get_a_read_only_list_of_the_active_students(
    admin: Person, staff: Person, student: Person
) -> None:
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    html = staff.client.get("/admin/users").text
    assert ">Students</a>" in html and "<h1>Students</h1>" in html
    assert "Audit log" not in html and "<select" not in html and "Deactivate" not in html
    assert "maya@uni.edu" not in html and "ada@uni.edu" not in html  # not a student
    admin.client.post(f"{USERS}/{student.id}/reactivate")
    html = staff.client.get("/admin/users").text
    assert "maya@uni.edu" in html and "Last active" in html
    assert staff.client.get("/admin/users", params={"role": "admin"}).status_code == 403
    assert staff.client.get("/admin/audit").status_code == 403


def test_students_have_neither_the_pages_nor_the_link(student: Person) -> None:
    assert student.client.get("/admin/users").status_code == 403
    assert student.client.get("/admin/audit").status_code == 403
    home = student.client.get("/").text
    assert "/admin/users" not in home


def test_the_search_box_and_filters_redraw_the_results(
    admin: Person, staff: Person, student: Person
) -> None:
    found = admin.client.get(USERS, params={"q": "okaf", "role": "", "status": ""},
                             headers=HTMX)
    assert found.status_code == 200 and found.text.lstrip().startswith('<section id="results"')
    assert "maya@uni.edu" in found.text and "sam@uni.edu" not in found.text
    none = admin.client.get(USERS, params={"q": "nobody"}, headers=HTMX)
    assert "No account matches" in none.text


def test_show_more_appends_the_next_rows(admin: Person, staff: Person, student: Person) -> None:
    first = admin.client.get(USERS, params={"limit": 2}, headers=HTMX).text
    assert 'id="more-row"' in first and "Show more" in first
    cursor = admin.client.get(USERS, params={"limit": 2}).json()["next_cursor"]
    more = admin.client.get(USERS, params={"limit": 2, "cursor": cursor},
                            headers={**HTMX, "HX-Target": "more-row"})
    assert "<section" not in more.text and "sam@uni.edu" in more.text


def test_a_role_change_answers_with_the_row(admin: Person, student: Person) -> None:
    row = admin.client.patch(f"{USERS}/{student.id}", json={"role": "staff"}, headers=HTMX)
    assert row.status_code == 200 and row.text.lstrip().startswith(f'<tr id="user-{student.id}"')
    assert "Role saved" in row.text
    assert '<option value="staff" selected>' in row.text


def test_deactivating_answers_with_the_row_and_a_refusal_stays_in_it(
    app: FastAPI, admin: Person, student: Person
) -> None:
    row = admin.client.post(f"{USERS}/{student.id}/deactivate", headers=HTMX).text
    assert "Deactivated" in row and f"/api/v1/admin/users/{student.id}/reactivate" in row
    refused = admin.client.post(f"{USERS}/{admin.id}/deactivate", headers=HTMX)
    assert refused.status_code == 409
    assert f'<tr id="user-{admin.id}"' in refused.text and "your own account" in refused.text


def test_deleting_answers_with_a_note_in_place_of_the_row(admin: Person,
                                                          student: Person) -> None:
    gone = admin.client.delete(f"{USERS}/{student.id}", headers=HTMX)
    assert gone.status_code == 200
    assert "Deleted the account of Maya Okafor" in gone.text


def test_the_audit_page_lists_and_filters_what_was_done(
    admin: Person, student: Person
) -> None:
    admin.client.patch(f"{USERS}/{student.id}", json={"role": "staff"})
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    html = admin.client.get("/admin/audit").text
    assert "Changed the role of Maya Okafor (maya@uni.edu) from student to staff" in html
    assert "Deactivated the account of Maya Okafor" in html
    assert "deleted after 365 days" in html
    only = admin.client.get("/admin/audit", params={"action": "user.deactivated", "actor": ""})
    assert "Changed the role" not in only.text and "Deactivated the account" in only.text
    fragment = admin.client.get("/api/v1/admin/audit", params={"actor": "ada@uni.edu",
                                                               "action": ""}, headers=HTMX)
    assert fragment.text.lstrip().startswith('<section id="results"')
    assert fragment.text.count("data-label=\"When\"") == 2


def test_the_api_keys_page_offers_each_role_the_scopes_its_keys_can_use(
    admin: Person, staff: Person, student: Person
) -> None:
    offered = {person.name: person.client.get("/settings/api-keys").text
               for person in (admin, staff, student)}
    assert 'value="users:write"' in offered["Ada Admin"]
    assert 'value="audit:read"' in offered["Ada Admin"]
    assert 'value="users:read"' in offered["Sam Staff"]
    assert 'value="users:write"' not in offered["Sam Staff"]
    assert 'value="audit:read"' not in offered["Sam Staff"]
    assert 'value="users:read"' not in offered["Maya Okafor"]


def test_the_login_form_says_the_account_is_deactivated(
    admin: Person, student: Person, client: TestClient
) -> None:
    admin.client.post(f"{USERS}/{student.id}/deactivate")
    refused = client.post("/api/v1/auth/login", headers=HTMX,
                          json={"email": student.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "deactivated by an administrator" in refused.text
    assert 'id="login-form"' in refused.text
