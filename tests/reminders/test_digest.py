"""The morning digest through a real SMTP server: at 08:00 in each student's own zone, once a
day, only on days with something to say, with a link that turns it off in one click."""

import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import EmailStatus, ReminderEmail
from app.reminders import mail
from tests.reminders.conftest import (
    SITE,
    Clock,
    Mailbox,
    add_interview,
    add_task,
    contact,
    student,
    worker,
)

# Monday 4 March 2030: Paris is at UTC+1, Los Angeles at UTC-8.
PARIS_8AM = datetime(2030, 3, 4, 7, 0, tzinfo=UTC)
LA_8AM = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def two_students(app: FastAPI, make: object) -> tuple[dict[str, str], dict[str, str]]:
    paris, la = make(), make()  # type: ignore[operator]
    amelie = student(paris, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    laura = contact(paris, "Laura", "Haddad")
    add_task(app, amelie["id"], "Thank Laura Haddad", PARIS_8AM - timedelta(days=1),
             kind="thank_you", contact_id=laura["id"])
    add_task(app, amelie["id"], "Call the alumni office", PARIS_8AM + timedelta(hours=8))
    add_interview(app, amelie["id"], laura["id"], PARIS_8AM + timedelta(days=1, hours=2))
    jo = student(la, "jo@uni.edu", "Jo Park", "America/Los_Angeles")
    add_task(app, jo["id"], "Follow up with Sam Rivera", LA_8AM + timedelta(hours=3))
    return amelie, jo


def test_each_student_gets_the_digest_at_eight_in_their_own_zone(
        mail_app: FastAPI, make_mail_client: object, mailbox: Mailbox) -> None:
    two_students(mail_app, make_mail_client)
    clock = Clock(PARIS_8AM - timedelta(minutes=1))
    sender = worker(mail_app, mailbox, clock)

    assert sender.drain().sent == 0
    assert mailbox.messages == []

    clock.now = PARIS_8AM
    assert sender.drain().sent == 1
    [digest] = mailbox.to("amelie@uni.edu")
    assert mailbox.to("jo@uni.edu") == []
    assert digest["Subject"] == ("Your day in Rapport: 1 overdue, 1 due today, "
                                 "1 interview tomorrow")
    assert digest["From"] == "Rapport <reminders@uni.edu>"
    assert "Amélie Durand" in str(digest["To"])
    text, html = parts(digest)
    assert "Good morning, Amélie Durand." in text
    assert "Call the alumni office" in text and "Thank Laura Haddad" in html
    assert "Write the thank-you: " + SITE + "/messages/new?contact_id=" in text
    assert "kind=thank_you" in text
    assert "Informational interview with Laura Haddad" in text
    assert "Sam Rivera" not in text + html  # another student's task
    unsubscribe = str(digest["List-Unsubscribe"])
    assert unsubscribe.startswith(f"<{SITE}/reminders/unsubscribe/")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    clock.now = LA_8AM
    assert sender.drain().sent == 1
    [jo] = mailbox.to("jo@uni.edu")
    assert "Follow up with Sam Rivera" in parts(jo)[0]
    assert "Laura" not in "".join(parts(jo))


def test_one_digest_a_day_even_for_a_worker_started_late(
        mail_app: FastAPI, make_mail_client: object, mailbox: Mailbox) -> None:
    two_students(mail_app, make_mail_client)
    clock = Clock(PARIS_8AM + timedelta(hours=3))  # 11:00 in Paris: the day's digest, at once
    worker(mail_app, mailbox, clock).drain()
    assert len(mailbox.to("amelie@uni.edu")) == 1

    clock.now += timedelta(hours=4)
    worker(mail_app, mailbox, clock).drain()  # a second worker, later the same day
    assert len(mailbox.to("amelie@uni.edu")) == 1

    clock.now = PARIS_8AM + timedelta(days=1)
    worker(mail_app, mailbox, clock).drain()
    assert len(mailbox.to("amelie@uni.edu")) == 2


def test_a_day_with_nothing_to_say_sends_nothing(
        mail_app: FastAPI, mail_client: TestClient, mailbox: Mailbox) -> None:
    user = student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    add_task(mail_app, user["id"], "Next week's thing", PARIS_8AM + timedelta(days=7))
    clock = Clock(PARIS_8AM)
    assert worker(mail_app, mailbox, clock).drain().sent == 0
    assert mailbox.messages == []
    # The task falls due later that day: the day was decided at eight, and stays so.
    add_task(mail_app, user["id"], "Added at noon", PARIS_8AM + timedelta(hours=5))
    clock.now += timedelta(hours=4)
    assert worker(mail_app, mailbox, clock).drain().sent == 0


def test_the_one_click_link_turns_the_digest_off(
        mail_app: FastAPI, make_mail_client: object, mailbox: Mailbox) -> None:
    two_students(mail_app, make_mail_client)
    clock = Clock(PARIS_8AM)
    worker(mail_app, mailbox, clock).drain()
    [digest] = mailbox.to("amelie@uni.edu")
    link = urlsplit(str(digest["List-Unsubscribe"]).strip("<>")).path

    with TestClient(mail_app) as mail_app_client:  # a mail app: no cookie, no CSRF token
        page = mail_app_client.get(link)
        assert page.status_code == 200 and "Stop the daily email" in page.text
        # Opening the link (as a mail scanner does) turns nothing off.
        clock.now += timedelta(days=1)
        worker(mail_app, mailbox, clock).drain()
        assert len(mailbox.to("amelie@uni.edu")) == 2

        done = mail_app_client.post(link, content=b"List-Unsubscribe=One-Click",
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200 and "no more the daily email" in done.text

    clock.now += timedelta(days=1)
    worker(mail_app, mailbox, clock).drain()
    assert len(mailbox.to("amelie@uni.edu")) == 2
    assert mailbox.to("jo@uni.edu")  # still on for the other student


def test_a_refusing_server_is_tried_again_later_and_staff_see_it(
        mail_app: FastAPI, make_mail_client: object, mailbox: Mailbox) -> None:
    from tests.imports.helpers import make_staff

    two_students(mail_app, make_mail_client)
    mailbox.answers = ["451 4.7.1 Greylisted, try again later"]
    clock = Clock(PARIS_8AM)
    sender = worker(mail_app, mailbox, clock)
    result = sender.drain()
    assert (result.sent, result.failed) == (0, 1)
    assert mailbox.messages == []

    office = make_mail_client()  # type: ignore[operator]
    make_staff(mail_app, office)
    page = office.get("/settings/reminders")
    assert "to be tried again after an error" in page.text
    assert "Greylisted" in page.text
    assert "amelie@uni.edu" not in page.text  # counts and errors, never who

    assert sender.drain().sent == 0  # not before its back-off
    clock.now += timedelta(hours=1)
    assert sender.drain().sent == 1
    assert sender.drain().sent == 0
    assert len(mailbox.to("amelie@uni.edu")) == 1
    with Session(mail_app.state.engine) as db:
        [email] = db.scalars(select(ReminderEmail).where(ReminderEmail.kind == "digest",
                                                         ReminderEmail.status != "skipped"))
        assert (email.status, email.attempts) == (EmailStatus.sent, 2)


def test_a_permanent_refusal_fails_at_once(
        mail_app: FastAPI, make_mail_client: object, mailbox: Mailbox) -> None:
    two_students(mail_app, make_mail_client)
    mailbox.answers = ["550 5.1.1 No such mailbox"]
    clock = Clock(PARIS_8AM)
    sender = worker(mail_app, mailbox, clock)
    assert sender.drain().failed == 1
    clock.now += timedelta(hours=12)
    sender.drain()
    assert mailbox.to("amelie@uni.edu") == []
    with Session(mail_app.state.engine) as db:
        [email] = db.scalars(select(ReminderEmail).where(ReminderEmail.status == "failed"))
        assert "550" in email.last_error


def test_without_smtp_settings_nothing_is_sent_and_the_page_says_so(
        client: TestClient, app: FastAPI, mailbox: Mailbox) -> None:
    user = student(client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    add_task(app, user["id"], "Due today", PARIS_8AM + timedelta(hours=2))
    assert worker(app, mailbox, Clock(PARIS_8AM), smtp_url="").drain().sent == 0
    assert mailbox.messages == []
    assert "Email is not set up on this Rapport" in client.get("/settings/reminders").text
    assert client.get("/api/v1/me/reminders").json()["email_available"] is False


def test_line_breaks_in_a_name_or_a_title_do_not_stop_the_email(
        mail_app: FastAPI, mail_client: TestClient, mailbox: Mailbox) -> None:
    """Headers cannot hold a line break; the API lets names and titles have one."""
    user = student(mail_client, "amelie@uni.edu", "Amélie Durand", "Europe/Paris")
    assert mail_client.patch("/api/v1/me", json={"name": "Amélie\nDurand"}).status_code == 200
    laura = contact(mail_client, "Laura", "Haddad")
    add_task(mail_app, user["id"], "Thank Laura\nHaddad", PARIS_8AM + timedelta(hours=20),
             kind="thank_you", contact_id=laura["id"])
    add_task(mail_app, user["id"], "Call\r\nthe alumni office", PARIS_8AM + timedelta(hours=8))
    worker(mail_app, mailbox, Clock(PARIS_8AM)).drain()
    sent = mailbox.to("amelie@uni.edu")
    assert sent and all("\n" not in str(m["Subject"]) for m in sent)
    assert "Amélie Durand" in str(sent[0]["To"])
    with Session(mail_app.state.engine) as db:
        assert {e.status for e in db.scalars(select(ReminderEmail))} == {EmailStatus.sent}


def test_staff_never_read_a_students_address_in_an_smtp_error() -> None:
    refused = smtplib.SMTPRecipientsRefused({"amelie@uni.edu": (450, b"4.2.1 Mailbox busy")})
    said = mail.describe(refused)
    assert "amelie" not in said and "450 4.2.1 Mailbox busy" in said
