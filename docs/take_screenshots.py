"""Serve Rapport on a throwaway SQLite database and photograph every page in Chromium.

Run with `make screenshots`; the PNGs land in docs/screenshots/ and are shown in the README.
"""

import random
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from app import migrate
from app.config import Settings
from app.main import create_app
from app.models import Contact, ContactEvent, DirectoryEngagement, Interview, Message

OUT = Path(__file__).parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve(url: str) -> tuple[uvicorn.Server, str]:
    migrate.upgrade(url)
    app = create_app(Settings(env="development", database_url=url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=8765, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = "http://127.0.0.1:8765"
    for _ in range(100):
        try:
            httpx.get(f"{base}/api/v1/health")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return server, base


def shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/screenshots/{name}.png")


def add_contacts(page: Page, base: str) -> None:
    """A small, believable contact file, entered through the API as the logged-in student."""
    token = page.get_attribute("body", "hx-headers") or ""
    headers = {"X-CSRF-Token": token.split('"')[3], "Origin": base}

    def add(**fields: object) -> str:
        response = page.request.post(f"{base}/api/v1/contacts", data=fields, headers=headers)
        return str(response.json()["id"])

    jones = add(first_name="Dr.", last_name="Jones", title="Professor of Biology",
                organization_name="Concordia University", source="personal")
    maya = add(first_name="Maya", last_name="Okafor", title="Physician Assistant",
               organization_name="Regions Hospital", source="referral", referred_by_id=jones,
               stage="contacted", tags=["healthcare", "pa"], email="maya.okafor@example.org",
               next_action="Follow up", next_action_at="2026-12-04T15:00:00Z",
               notes="Works nights in the emergency department; prefers email.")
    add(first_name="Kim", last_name="Lee", title="PA Program Coordinator",
        organization_name="Regions Hospital", source="referral", referred_by_id=maya,
        tags=["healthcare"], email="kim.lee@example.org")
    add(first_name="Sam", last_name="Rivera", title="Clinical Research Coordinator",
        organization_name="Mayo Clinic", source="alumni", stage="scheduled")
    add(first_name="Priya", last_name="Shah", title="Physician Assistant",
        organization_name="HealthPartners", source="event", stage="interviewed",
        how_we_met="Career fair, October")


def interview_pages(page: Page, base: str, suffix: str) -> None:
    """Plan an interview with Maya, prepare it, and take notes in the conversation."""
    page.goto(f"{base}/contacts")
    page.click("#results >> text=Maya Okafor")
    page.click("text=Plan an interview")
    page.wait_for_url("**/interviews/*")
    page.click("text=Suggest questions")
    page.wait_for_selector(".question-item")
    shoot(page, f"prep{suffix}")
    if not suffix:
        page.emulate_media(media="print")
        shoot(page, "prep-sheet-print")
        page.emulate_media(media="screen")
    page.click("text=Start the conversation")
    page.fill(".answer-card textarea >> nth=0",
              "Twelve-hour shifts; rounds at seven, then patients until the evening handover.")
    page.wait_for_selector(".save-ok")
    shoot(page, f"conversation{suffix}")


def message_pages(page: Page, base: str, suffix: str) -> None:
    """Write to Kim from her page, mark it sent, and see what comes next."""
    page.goto(f"{base}/contacts")
    page.click("#results >> text=Kim Lee")
    page.click("text=Write a message")
    page.wait_for_url("**/messages/new*")
    shoot(page, f"compose{suffix}")
    page.click("text=Mark as sent")
    page.wait_for_url("**/messages/*")
    page.wait_for_selector("text=What you sent")
    shoot(page, f"message-sent{suffix}")
    page.goto(f"{base}/tasks")
    shoot(page, f"tasks{suffix}")
    page.goto(f"{base}/")
    shoot(page, f"dashboard{suffix}")
    if not suffix:
        page.goto(f"{base}/messages/templates")
        shoot(page, "templates")
        page.goto(f"{base}/messages/templates/new")
        shoot(page, "template-editor")


def import_pages(page: Page, base: str, suffix: str) -> None:
    """Bring in LinkedIn connections: check the file, import it, read the report."""
    samples = Path(__file__).resolve().parents[1] / "tests" / "data" / "samples"
    page.goto(f"{base}/imports")
    page.set_input_files("#f-file", str(samples / "linkedin-Connections.csv"))
    page.click("text=Check the file first")
    page.wait_for_selector(".report")
    page.click(".report summary")
    shoot(page, f"import-check{suffix}")
    page.click("#import-form button[value=false]")
    page.wait_for_selector("text=Imported ·")
    shoot(page, f"import-report{suffix}")


def directory_page(page: Page, base: str, url: str, email: str) -> None:
    """Make the student a staff member, load the alumni office's export, then search it."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'staff' WHERE email = :email"), {"email": email})
    engine.dispose()
    samples = Path(__file__).resolve().parents[1] / "tests" / "data" / "samples"
    page.goto(f"{base}/imports?target=directory")
    page.set_input_files("#f-file", str(samples / "alumni-export.csv"))
    page.click("#import-form button[value=false]")
    page.wait_for_selector("text=Imported ·")
    page.goto(f"{base}/directory?industry=Health")
    shoot(page, "directory")


def webhooks_page(page: Page, base: str) -> None:
    """A staff member subscribes the CRM to directory changes; a new entry queues a delivery."""
    page.goto(f"{base}/webhooks")
    page.get_by_label("Address (URL)").fill("https://93.184.215.14/rapport-events")
    page.get_by_label("Description").fill("Slate: alumni sync")
    for event in ("directory.entry.created", "directory.entry.updated", "import.completed"):
        page.get_by_label(event).check()
    page.get_by_role("button", name="Add webhook").click()
    page.wait_for_selector("#new-webhook-secret")
    csrf = page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    page.request.post(f"{base}/api/v1/directory", headers={"X-CSRF-Token": csrf}, data={
        "first_name": "Amara", "last_name": "Okeke", "title": "Physician Assistant",
        "organization_name": "Regions Hospital", "external_id": "C200311"})
    page.goto(f"{base}/webhooks")
    shoot(page, "webhooks")


STUDENTS = ["Avery Brooks", "Noah Kim", "Lena Fischer", "Omar Haddad", "Grace Liu", "Mateo Cruz",
            "Ines Duarte", "Sam Whitfield", "Ruth Mbeki", "Theo Laine", "Jade Moreau", "Kofi Asante",
            "Mina Sato", "Eli Stone"]


def student_activity(base: str, url: str) -> None:
    """A year of students working with alumni from the directory, entered through the API and
    then spread over past months (the API records every moment as now)."""
    rng = random.Random(7)  # noqa: S311 - the same made-up year on every run
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    moves: list[tuple[Any, str, dict[str, datetime]]] = []
    for n, name in enumerate(STUDENTS):
        email = f"student{n}@uni.edu"
        with httpx.Client(base_url=base) as api:
            api.post("/api/v1/auth/register",
                     json={"email": email, "password": "correct horse battery", "name": name})
            login = api.post("/api/v1/auth/login",
                             json={"email": email, "password": "correct horse battery"})
            api.headers["X-CSRF-Token"] = login.headers["X-CSRF-Token"]
            entries = api.get("/api/v1/directory", params={"limit": 40}).json()["items"]
            for _ in range(rng.randint(1, 4)):
                # Most activity in recent months, a little in the year before.
                start = now - timedelta(days=int(rng.triangular(0, 300, 20)) + 12)
                entry = rng.choice(entries[:24])
                contact = api.post(f"/api/v1/directory/{entry['id']}/add-to-contacts").json()
                sent = start + timedelta(days=rng.randint(1, 3))
                message = api.post("/api/v1/messages", json={
                    "kind": rng.choice(["outreach", "outreach", "linkedin_note"]),
                    "contact_id": contact["id"], "status": "sent"}).json()
                moves.append((Message, message["id"], {"sent_at": sent}))
                if rng.random() < 0.55:
                    api.patch(f"/api/v1/messages/{message['id']}", json={"status": "replied"})
                    moves.append((Message, message["id"],
                                  {"sent_at": sent, "replied_at": sent + timedelta(days=3)}))
                    if rng.random() < 0.75:
                        held = sent + timedelta(days=rng.randint(5, 9), hours=3)
                        interview = api.post("/api/v1/interviews", json={
                            "contact_id": contact["id"], "scheduled_at": held.isoformat(),
                            "status": "completed"}).json()
                        moves.append((Interview, interview["id"],
                                      {"completed_at": held + timedelta(minutes=35)}))
                        thanks = api.post("/api/v1/messages", json={
                            "kind": "thank_you", "contact_id": contact["id"], "status": "sent"})
                        late = timedelta(hours=rng.choice([6, 18, 20, 40, 70]))
                        moves.append((Message, thanks.json()["id"], {"sent_at": held + late}))
                moves.append((Contact, contact["id"], {"created_at": start}))
    engine = create_engine(url)
    with Session(engine) as db:
        for model, row_id, values in moves:
            db.execute(update(model).where(model.id == row_id).values(**values))
        # Timelines and directory engagements go back to when the contact was added.
        for contact_id, owner_id, marker, created in db.execute(
                select(Contact.id, Contact.owner_id, Contact.external_id, Contact.created_at)):
            db.execute(update(ContactEvent).where(ContactEvent.contact_id == contact_id)
                       .values(at=created))
            db.execute(update(DirectoryEngagement).where(
                DirectoryEngagement.student_id == owner_id,
                DirectoryEngagement.entry_id == (marker or "").removeprefix("directory:"))
                .values(at=created))
        db.commit()
    engine.dispose()


def stats_pages(page: Page, base: str, url: str) -> None:
    """Staff's landing page, and the page of student engagement, on a desktop and on a phone."""
    student_activity(base, url)
    for width, suffix in [(1280, ""), (390, "-phone")]:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}/")
        shoot(page, f"staff-home{suffix}")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base}/stats")
    page.wait_for_selector("svg.chart")
    shoot(page, "stats")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{base}/stats")
    shoot(page, "stats-phone")
    page.set_viewport_size({"width": 1280, "height": 800})


def admin_pages(page: Page, base: str, url: str, email: str) -> None:
    """Make the staff member an administrator, deactivate a student, then read the users and
    the audit log, on a desktop and on a phone."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'admin' WHERE email = :email"), {"email": email})
    engine.dispose()
    page.goto(f"{base}/admin/users")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Deactivate {STUDENTS[1]}").click()
    page.wait_for_selector("text=Reactivate")
    page.get_by_label(f"Role of {STUDENTS[0]}").select_option("staff")
    page.wait_for_load_state("networkidle")
    for width, suffix in [(1280, ""), (390, "-phone")]:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}/admin/users")
        shoot(page, f"admin-users{suffix}")
        page.goto(f"{base}/admin/audit")
        shoot(page, f"admin-audit{suffix}")
    page.set_viewport_size({"width": 1280, "height": 800})


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/shots.db"
        server, base = serve(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for width, suffix in [(1280, ""), (390, "-phone")]:
                page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
                page.goto(f"{base}/")
                shoot(page, f"welcome{suffix}")
                page.goto(f"{base}/register")
                page.fill("#f-name", "Jordan Ellis")
                page.fill("#f-email", "not-an-email")
                page.fill("#f-password", "correct horse battery")
                page.click("button[type=submit]")
                page.wait_for_selector(".field-error")
                shoot(page, f"register-error{suffix}")
                page.fill("#f-email", f"jordan{suffix}@uni.edu")
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")  # registered, signed in: the guided start
                shoot(page, f"home{suffix}")
                csrf = page.evaluate(
                    "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
                page.request.post(f"{base}/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
                page.goto(f"{base}/login")
                shoot(page, f"login{suffix}")
                page.fill("#f-email", f"jordan{suffix}@uni.edu")
                page.fill("#f-password", "correct horse battery")
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                page.goto(f"{base}/settings")
                page.fill("#f-school", "Concordia University, St. Paul")
                page.fill("#f-major", "biology")
                page.fill("#f-career_goal", "physician assistant")
                page.fill("#f-graduation_year", "1800")
                page.click("#profile-form button[type=submit]")
                page.wait_for_selector("#profile-form .field-error")
                shoot(page, f"settings-error{suffix}")
                page.fill("#f-graduation_year", "2027")
                page.click("#profile-form button[type=submit]")
                page.wait_for_selector("#profile-form .status-ok")
                shoot(page, f"settings{suffix}")
                page.goto(f"{base}/settings/api-keys")
                page.fill("#f-name", "Slate sync")
                page.check("input[value='profile:read']")
                page.click("#key-form button[type=submit]")
                page.wait_for_selector("#new-key-secret")
                shoot(page, f"api-keys{suffix}")
                page.goto(f"{base}/settings/reminders")
                page.click("text=Turn the calendar feed on")
                page.wait_for_selector("#feed-url")
                shoot(page, f"reminders{suffix}")
                add_contacts(page, base)
                page.goto(f"{base}/contacts")
                shoot(page, f"contacts{suffix}")
                page.goto(f"{base}/contacts/board")
                shoot(page, f"board{suffix}")
                page.goto(f"{base}/contacts")
                page.click("#results >> text=Maya Okafor")
                page.wait_for_selector("#next-actions")
                shoot(page, f"contact{suffix}")
                page.click("#section-progress >> text=Edit")
                page.wait_for_selector("#section-progress form")
                shoot(page, f"contact-edit{suffix}")
                page.goto(f"{base}/questions")
                page.get_by_role("textbox", name="Question").fill(
                    "What do you wish you had known in your first year?")
                page.click("#question-form button[type=submit]")
                page.wait_for_selector("#question-form .status-ok")
                shoot(page, f"questions{suffix}")
                interview_pages(page, base, suffix)
                message_pages(page, base, suffix)
                import_pages(page, base, suffix)
                if not suffix:
                    directory_page(page, base, url, "jordan@uni.edu")
                    webhooks_page(page, base)
                    stats_pages(page, base, url)
                    admin_pages(page, base, url, "jordan@uni.edu")
                if not suffix:
                    page.goto(f"{base}/docs")
                    page.wait_for_selector(".swagger-ui .opblock")
                    shoot(page, "api-docs")
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main()
