"""A student's file never merges two people, never costs a row for one bad value, and a dry run
writes nothing: matching, conflicts, warnings and limits, as the report shows them."""

import csv
import io
import threading
import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.models import Contact, DirectoryEntry, ImportRowError
from tests.conftest import signed_in
from tests.imports.helpers import (
    assert_error,
    count,
    csv_bytes,
    make_staff,
    my_contacts,
    rows,
    upload,
)

GOOGLE = ("First Name,Last Name,Organization Name,E-mail 1 - Value,Website 1 - Label,"
          "Website 1 - Value")


def _import(client: TestClient, name: str, content: bytes, **options: Any) -> dict[str, Any]:
    response = upload(client, name, content, **options)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_colleagues_who_share_their_company_website_stay_three_people(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "contacts.csv", csv_bytes([
        GOOGLE,
        "Ana,Lima,Acme Health,ana@acme.example,Work,https://www.acme.example",
        "Ben,Okafor,Acme Health,ben@acme.example,Work,https://www.acme.example",
        "Chloé,Dubois,Acme Health,,Work,https://www.acme.example",
    ]))
    assert (report["created"], report["updated"], report["conflicts_total"]) == (3, 0, 0)
    mine = my_contacts(client)
    assert set(mine) == {"Ana Lima", "Ben Okafor", "Chloé Dubois"}
    for person in mine.values():
        assert person["website"] == "https://www.acme.example"
        assert person["linkedin_url"] == ""


def test_a_google_profile_is_a_website_and_a_linkedin_profile_is_linkedin(client: TestClient) -> None:
    signed_in(client)
    _import(client, "contacts.csv", csv_bytes([
        "First Name,Last Name,URL",
        "Ana,Lima,https://profiles.google.com/1234567890",
        "Ben,Okafor,www.linkedin.com/in/ben-okafor-example/",
        "Cy,Moss,https://www.linkedin.com/company/acme-example",
    ]))
    mine = my_contacts(client)
    assert (mine["Ana Lima"]["website"], mine["Ana Lima"]["linkedin_url"]) == (
        "https://profiles.google.com/1234567890", "")
    assert mine["Ben Okafor"]["linkedin_url"] == "https://www.linkedin.com/in/ben-okafor-example/"
    # A company page is LinkedIn's, but it is nobody's profile: a website, which identifies no one.
    assert mine["Cy Moss"]["website"] == "https://www.linkedin.com/company/acme-example"
    assert mine["Cy Moss"]["linkedin_url"] == ""


def test_a_key_that_names_someone_else_is_a_conflict_and_changes_nothing(client: TestClient) -> None:
    signed_in(client)
    sam = client.post("/api/v1/contacts", json={
        "first_name": "Sam", "last_name": "Rivera", "email": "sam@example.org", "title": "Nurse",
        "linkedin_url": "https://www.linkedin.com/in/sam-rivera-example"}).json()
    report = _import(client, "people.csv", csv_bytes([
        "First Name,Last Name,Email,Title,LinkedIn",
        "Alex,Chen,SAM@example.org,Surgeon,",
        "Priya,Patel,,Dentist,https://linkedin.com/in/Sam-Rivera-Example/",
        "Samuel,Rivera,sam@example.org,Charge Nurse,",
    ]))
    assert (report["created"], report["updated"], report["skipped"]) == (0, 1, 0)
    assert report["conflicts_total"] == 2
    first, second = report["conflicts"]
    assert (first["row"], first["field"], first["value"]) == (2, "email", "SAM@example.org")
    assert (first["contact_id"], first["contact_name"], first["row_name"]) == (
        sam["id"], "Sam Rivera", "Alex Chen")
    assert "Sam Rivera" in first["message"] and "Alex Chen" in first["message"]
    assert (second["row"], second["field"], second["row_name"]) == (3, "linkedin_url", "Priya Patel")
    # "Samuel Rivera" with Sam's email is Sam: the one update. Nobody became Alex or Priya.
    mine = my_contacts(client)
    assert set(mine) == {"Samuel Rivera"}
    assert mine["Samuel Rivera"]["title"] == "Charge Nurse"
    # The rows in conflict are in the failed rows' file, to correct and send again.
    failed = list(csv.reader(io.StringIO(client.get(report["errors_csv"]).text.lstrip("\ufeff"))))
    assert [row[0] for row in failed[1:]] == ["Alex", "Priya"]
    assert "Sam Rivera" in failed[1][-1]


def test_two_rows_of_one_file_with_one_email_and_two_names_are_not_merged(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "people.csv", csv_bytes([
        "First Name,Last Name,Email", "Ana,Lima,shared@example.org", "Ben,Okafor,shared@example.org"]))
    assert (report["created"], report["conflicts_total"]) == (1, 1)
    assert report["conflicts"][0]["row"] == 3
    assert set(my_contacts(client)) == {"Ana Lima"}


def test_a_bad_optional_value_costs_that_value_only(client: TestClient) -> None:
    """LinkedIn's 2018 export holds member ids where emails were hidden, and people type "-"."""
    signed_in(client)
    report = _import(client, "Connections.csv", csv_bytes([
        "First Name,Last Name,Email Address,Company,Position,Connected On,LinkedIn",
        "Ana,Lima,urn:li:member:664293716,Medtronic,Engineer,12 Mar 2018,"
        "https://www.linkedin.com/in/ana-lima-example",
        "Ben,Okafor,-,3M,Chemist,01 Feb 2018,",
        "Cy,Moss,cy@example.org,Target,Buyer,02 Feb 2018,not a web address",
    ]))
    assert (report["created"], report["skipped"], report["errors"]) == (3, 0, [])
    assert [(w["row"], w["field"], w["value"]) for w in report["warnings"]] == [
        (2, "email", "urn:li:member:664293716"), (4, "linkedin_url", "not a web address")]
    assert "left out" in report["warnings"][0]["message"]
    mine = my_contacts(client)
    ana = mine["Ana Lima"]
    assert (ana["email"], ana["organization_name"], ana["title"]) == (None, "Medtronic", "Engineer")
    assert ana["linkedin_url"] == "https://www.linkedin.com/in/ana-lima-example"
    assert mine["Ben Okafor"]["email"] is None
    assert mine["Cy Moss"]["email"] == "cy@example.org"


def test_only_a_row_with_nothing_to_know_someone_by_is_skipped(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "people.csv", csv_bytes([
        "First Name,Last Name,Email,Company,Notes",
        ",,,,Just a note",
        ",,pat@example.org,,",
        ",,,Acme Health,The front desk",
    ]))
    assert (report["created"], report["skipped"]) == (2, 1)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "first_name")]
    assert set(my_contacts(client)) == {"pat@example.org", "Acme Health"}
    assert {w["row"] for w in report["warnings"]} == {3, 4}


def test_middle_names_and_values_without_a_field_of_their_own_are_kept(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "people.json", b'[{"first_name": "Marcus", "middle_name": "A.", '
                                            b'"last_name": "Feldman", "city": "Lyon", '
                                            b'"country": "France", "tags": ["a, b", "c"]}]')
    assert report["created"] == 1
    marcus = my_contacts(client)["Marcus A. Feldman"]
    assert marcus["location"] == "Lyon, France"
    assert marcus["tags"] == ["a, b", "c"]


def test_the_formula_guard_is_undone_only_in_spreadsheet_files(client: TestClient) -> None:
    signed_in(client)
    _import(client, "people.csv", csv_bytes(["First Name,Last Name,Notes", "Ana,Lima,'=1+1"]))
    _import(client, "people.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Okafor;Ben;;;\r\nFN:Ben Okafor\r\n"
                                  b"NOTE:'=1+1\r\nEND:VCARD\r\n")
    mine = my_contacts(client)
    assert mine["Ana Lima"]["notes"] == "=1+1"
    assert mine["Ben Okafor"]["notes"] == "'=1+1"


def test_the_report_names_the_encoding(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "people.csv", csv_bytes(["First Name,Last Name", "Zoë,Müller"], "cp1252"))
    assert "1252" in report["encoding"]
    assert set(my_contacts(client)) == {"Zoë Müller"}


def test_a_file_with_more_rows_than_allowed_is_refused_before_any_is_written(
        app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"import_max_contact_rows": 3})
    try:
        # Four line ends but three rows (a note over two lines): allowed.
        allowed = csv_bytes(["First Name,Notes", 'Ana,"one', 'two"', "Ben,", "Cy,"])
        assert _import(client, "people.csv", allowed)["created"] == 3
        too_many = csv_bytes(["First Name", "Di", "Ed", "Flo", "Gus"])
        response = upload(client, "people.csv", too_many)
    finally:
        app.state.settings = settings
    body = assert_error(response, 422, "3")
    assert body["error"] == "too_many_rows"
    assert set(my_contacts(client)) == {"Ana", "Ben", "Cy"}


def test_a_dry_run_writes_nothing_until_its_report(app: FastAPI, client: TestClient) -> None:
    """Nothing is written while the rows are checked (so another student's writes never wait
    for a dry run); the report alone is written at the end."""
    me = signed_in(client)
    client.post("/api/v1/contacts", json={"first_name": "Ana", "last_name": "Lima",
                                          "email": "ana@example.org"})
    content = csv_bytes(["First Name,Last Name,Email,Company",
                         "Ana,Lima,ana@example.org,Medtronic", "Ben,Okafor,ben@example.org,3M",
                         "Cy,Moss,cy@example.org,"])
    written: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            written.append(statement.split("(", 1)[0].strip())

    event.listen(app.state.engine, "before_cursor_execute", seen)
    try:
        report = _import(client, "people.csv", content, dry_run=True)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", seen)
    assert (report["created"], report["updated"], report["dry_run"]) == (2, 1, True)
    tables = {statement.split()[2] for statement in written}
    assert tables <= {"imports", "import_row_errors"}, written
    assert count(app, Contact, Contact.owner_id == me["id"]) == 1
    assert count(app, ImportRowError) == 0


def test_another_student_writes_while_a_large_import_runs(app: FastAPI, client: TestClient,
                                                          make_client: Any) -> None:
    """Each batch is committed on its own, so another student's write never waits for the
    whole file (on SQLite it would otherwise fail with "database is locked")."""
    signed_in(client)
    lines = ["First Name,Last Name,Email,Company"] + [
        f"P{n},Person,p{n}@example.org,Org {n % 50}" for n in range(6000)]
    other = make_client()
    signed_in(other, email="kim@uni.edu", name="Kim Lee")
    results: list[int] = []
    running = threading.Event()

    def write_meanwhile() -> None:
        running.wait()
        for n in range(5):
            results.append(other.post("/api/v1/contacts", json={"first_name": f"K{n}"}).status_code)
            time.sleep(0.01)

    writer = threading.Thread(target=write_meanwhile)
    writer.start()
    running.set()
    report = _import(client, "people.csv", csv_bytes(lines))
    writer.join()
    assert report["created"] == 6000
    assert results == [201] * 5
    assert len(my_contacts(other)) == 5


def test_a_directory_file_keeps_city_state_and_country_in_the_location(
        app: FastAPI, client: TestClient) -> None:
    make_staff(app, client)
    response = upload(client, "alumni.csv", csv_bytes([
        "Constituent ID,First Name,Last Name,City,State,Country",
        "C1,Ana,Lima,Lyon,Auvergne-Rhône-Alpes,France", "C2,Ben,Okafor,,,Canada"]), "directory")
    assert response.status_code == 201, response.text
    entries = {e.first_name: e.location for e in rows(app, DirectoryEntry)}
    assert entries == {"Ana": "Lyon, Auvergne-Rhône-Alpes, France", "Ben": "Canada"}


def test_importing_a_file_again_keeps_what_the_student_said_of_where_they_met(
        client: TestClient) -> None:
    """A LinkedIn file's people are personal contacts when they are new; a contact the student
    has since marked as a referral stays one when the file comes again."""
    signed_in(client)
    content = csv_bytes(["First Name,Last Name,URL,Email Address,Company,Position,Connected On",
                         "Ana,Lima,https://www.linkedin.com/in/ana-lima-example,,3M,Chemist,"
                         "01 Feb 2025"])
    assert _import(client, "Connections.csv", content)["created"] == 1
    ana = my_contacts(client)["Ana Lima"]
    assert ana["source"] == "personal"
    client.patch(f"/api/v1/contacts/{ana['id']}", json={"source": "referral"})
    assert _import(client, "Connections.csv", content)["unchanged"] == 1
    assert my_contacts(client)["Ana Lima"]["source"] == "referral"
