"""Rows and requests at the edges: each gets a clear answer, never a 500, and nothing is lost or
doubled."""

import csv
import io
import json
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.imports.service import _worker
from app.models import Contact, DirectoryEntry, Import, User
from tests.conftest import api_key, signed_in
from tests.imports.helpers import count, make_staff, rows, upload

ALUMNI = "Constituent ID,First Name,Last Name,Preferred Email,Class Year"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_a_second_import_while_one_is_writing_is_refused(app: FastAPI, client: TestClient) -> None:
    me = signed_in(client)
    with Session(app.state.engine) as db:
        owner = db.get(User, me["id"])
        assert owner is not None
        db.add(Import(owner_id=owner.id, target="contacts", format="csv", file_sha256="x" * 64,
                      status="running", worker=_worker(), mapping={},
                      updated_at=datetime.now(UTC)))
        db.commit()
    response = upload(client, "people.csv", csv_bytes("First Name", "Ada"))
    assert response.status_code == 409 and response.json()["error"] == "import_running"
    assert count(app, Contact) == 0
    # A dry run may still look at a file meanwhile.
    assert upload(client, "people.csv", csv_bytes("First Name", "Ada"), dry_run=True).status_code == 201


def test_odd_years_are_row_errors(app: FastAPI, client: TestClient) -> None:
    make_staff(app, client)
    report = upload(client, "alumni.csv", csv_bytes(
        ALUMNI, "C1,Ada,Okafor,ada@example.org,²", "C2,Bo,Lee,bo@example.org," + "9" * 5000,
        "C3,Cy,Ng,cy@example.org,'19"), "directory").json()
    assert report["created"] == 1 and report["skipped"] == 2
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "graduation_year"),
                                                                  (3, "graduation_year")]
    assert rows(app, DirectoryEntry)[0].graduation_year == 2019
    assert client.get("/directory?graduated_from=²&graduated_to=").status_code == 200


def test_a_json_number_too_long_to_read_is_refused(client: TestClient) -> None:
    signed_in(client)
    response = upload(client, "people.json", b'[{"first_name": "Ada", "phone": ' + b"9" * 5000 + b"}]")
    assert response.status_code == 422 and response.json()["error"] == "file_unreadable"


def test_vcards_with_lists_and_with_only_a_full_name(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    cards = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Okafor;Maya,Ada;;;\r\nFN:Maya Ada Okafor\r\n"
             "ADR:;;1 Main St;Saint Paul,Minneapolis;MN;;\r\nEND:VCARD\r\n"
             "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Acme Clinic;;;;\r\nFN:Acme Clinic\r\nEND:VCARD\r\n")
    report = upload(client, "cards.vcf", cards.encode()).json()
    assert report["created"] == 2, report
    names = sorted(f"{c.first_name} {c.last_name}".strip() for c in rows(app, Contact))
    assert names == ["Acme Clinic", "Maya Ada Okafor"]


def test_keys_that_move_within_a_batch_stay_unique(app: FastAPI, client: TestClient) -> None:
    make_staff(app, client)
    upload(client, "first.csv", csv_bytes(ALUMNI, "C1,Ada,Okafor,ada@example.org,2010"),
           "directory")
    # The first row finds C1 by its email and gives it a new id; the second finds it by that id.
    report = upload(client, "second.csv", csv_bytes(
        ALUMNI, "C2,Ada,Okafor,ada@example.org,2010", "C2,Ada,Okafor,ada@new.example,2010"),
        "directory").json()
    assert (report["created"], report["updated"], report["skipped"]) == (0, 2, 0), report
    [entry] = rows(app, DirectoryEntry)
    assert (entry.external_id, entry.email) == ("C2", "ada@new.example")


def test_the_failed_rows_file_is_safe_to_open(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    report = upload(client, "people.csv", csv_bytes('=HYPERLINK("http://x"),Email',
                                                    "Ada,not-an-email")).json()
    header = next(csv.reader(io.StringIO(client.get(report["errors_csv"]).text.lstrip("\ufeff"))))
    assert header[0] == "'=HYPERLINK(\"http://x\")" and header[-2:] == ["line", "reason"]


def test_reading_imports_needs_a_reading_scope(client: TestClient) -> None:
    signed_in(client)
    report = upload(client, "people.csv", csv_bytes("First Name,Email", "Ada,bad")).json()
    key = api_key(client, ["messages:read"])
    with TestClient(client.app) as script:
        bearer = {"Authorization": f"Bearer {key}"}
        for path in ["/api/v1/imports", f"/api/v1/imports/{report['id']}", report["errors_csv"]]:
            response = script.get(path, headers=bearer)
            assert response.status_code == 403 and "contacts:read" in response.json()["detail"]


def test_a_windows_file_with_its_first_accent_far_down(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    plain = [f"Person{n},Family{n}" for n in range(2, 5000)]
    content = csv_bytes("First Name,Last Name", *plain, "José,Martínez", encoding="cp1252")
    assert content.index("é".encode("cp1252")) > 64 * 1024
    report = upload(client, "people.csv", content).json()
    assert report["created"] == len(plain) + 1 and report["skipped"] == 0, report
    assert count(app, Contact, Contact.first_name == "José") == 1


def test_an_entry_contacts_would_refuse_still_goes_into_contacts(
    app: FastAPI, client: TestClient
) -> None:
    make_staff(app, client)
    entry = client.post("/api/v1/directory", json={
        "first_name": "Ada", "linkedin_url": "https://[a.b", "email": "ada@example.org"}).json()
    added = client.post(f"/api/v1/directory/{entry['id']}/add-to-contacts")
    assert added.status_code == 201, added.text
    assert added.json()["linkedin_url"] == "" and added.json()["email"] == "ada@example.org"


def test_a_mapping_that_cannot_be_read(client: TestClient) -> None:
    signed_in(client)
    response = upload(client, "people.csv", csv_bytes("First Name", "Ada"), mapping="[" * 100_000)
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "mapping"
    assert json.loads(upload(client, "people.csv", csv_bytes("First Name", "Ada")).text)["created"] == 1
