"""The users page in Chromium: an administrator finds a student, makes them staff, and
deactivates them after confirming; the student's browser is logged out at once."""

import httpx
from playwright.sync_api import BrowserContext, Dialog, Page, expect
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from app.models import Role, User
from tests.e2e.conftest import sign_up


def test_an_administrator_searches_changes_a_role_and_deactivates(
    page: Page, context: BrowserContext, base_url: str, database_url: str
) -> None:
    student = context.browser.new_context()  # type: ignore[union-attr]
    student_page = student.new_page()
    sign_up(student_page, base_url, "jon@uni.edu", "Jon Park")
    sign_up(page, base_url, "ada@uni.edu", "Ada Admin")
    engine = create_engine(database_url)
    with Session(engine) as db:
        db.execute(update(User).where(User.email == "ada@uni.edu").values(role=Role.admin))
        db.commit()
    engine.dispose()
    httpx.post(f"{base_url}/api/v1/auth/register", json={
        "email": "bea@uni.edu", "password": "a long password", "name": "Bea Lind"})

    page.goto(f"{base_url}/admin/users")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("Search names and emails").fill("jon")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("jon@uni.edu")

    row.get_by_label("Role of Jon Park").select_option("staff")
    expect(row.get_by_role("status")).to_have_text("✓ Role saved")
    expect(row.get_by_label("Role of Jon Park")).to_have_value("staff")

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name="Deactivate Jon Park").click()
    expect(row.locator(".stage")).to_have_text("Deactivated")
    expect(row.get_by_role("button", name="Reactivate Jon Park")).to_be_visible()
    assert asked and asked[0].startswith("Deactivate Jon Park?")

    response = student_page.request.get(f"{base_url}/api/v1/me")
    assert response.status == 401
    student.close()

    page.reload()
    page.get_by_label("Status").select_option("deactivated")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_label("Role of Jon Park")).to_have_value("staff")
