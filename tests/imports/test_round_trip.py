"""Each of the three exports, imported into an empty account, gives every field of every contact
back: tags with commas and backslashes, values a spreadsheet would run as a formula, accents
and other scripts, notes over several lines, every source and stage.

What cannot come back is left out of the comparison: ids and timestamps, and the referring
contact, which comes back as the referrer's name (or as a link to the copy of that contact)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.models import Source, Stage
from tests.conftest import signed_in
from tests.imports.helpers import my_contacts, upload

EXPORTS = {  # format: (where it is exported, the name it is imported as)
    "csv": ("/api/v1/contacts/export.csv", "contacts.csv"),
    "vcard": ("/api/v1/contacts/export.vcf", "contacts.vcf"),
    "json": ("/api/v1/export.json", "rapport-export.json"),
}
NOT_COMPARED = {"id", "created_at", "updated_at", "organization_id", "referred_by_id",
                "referrer_name", "next_action_at"}

GRACE: dict[str, Any] = {
    "first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example",
    "title": "Rear Admiral", "organization_name": "US Navy", "location": "St. Paul, MN",
    "source": "personal", "stage": "following_up"}
PEOPLE: list[dict[str, Any]] = [
    {   # commas, semicolons, backslashes and accents everywhere
        "first_name": "José", "last_name": "Núñez-Ölçer", "email": "Jose.Nunez@example.org",
        "phone": "+33 4 72 00 00 00", "title": "Director, Research & Development",
        "organization_name": "Smith, Jones; Partners", "industry": "Health care; research",
        "location": "Lyon, Auvergne-Rhône-Alpes, France",
        "linkedin_url": "https://www.linkedin.com/in/jose-nunez",
        "website": "https://nunez-lab.example.org/team?id=4&lang=fr", "source": "referral",
        "how_we_met": 'At the fair, "booth 12"; then coffee',
        "tags": ["data, science", "C:\\temp\\", "é-tag", "pa"],
        "notes": "Line one, with commas, and; semicolons\nLine two: café \\ crème\n"
                 "-dash line\n=not a formula\n\nThe last line, after an empty one.",
        "stage": "contacted", "external_id": "crm-42", "next_action": "Email, then call",
        "next_action_at": "2026-12-01T15:00:00Z"},
    {   # every value a spreadsheet would run, and an apostrophe already in front
        "first_name": "'Apostrophe", "last_name": "@Handle", "email": "formula@example.org",
        "phone": "+1 651 555 0100", "title": '=Chief "Data" Officer',
        "organization_name": "+Plus; Minus, Inc.", "industry": "-minus industry",
        "location": "'Twas the Loop", "website": "http://formula.example/",
        "source": "event", "referrer_name": "=Dr. Jones", "how_we_met": "'=already text",
        "tags": ["-x", "@y", "'=z", "+w", "=sum,1"], "notes": "@mention me\n+1, -1; =1",
        "stage": "closed", "external_id": "-7", "next_action": "+1 call",
        "next_action_at": "2027-01-15T09:30:00-05:00"},
    {   # other scripts
        "first_name": "Анна", "last_name": "Петрова", "email": "anna@example.ru",
        "title": "研究员, 数据", "organization_name": "株式会社テスト", "industry": "Наука",
        "location": "Москва", "source": "alumni", "tags": ["日本", "Ελλάδα"],
        "notes": "Привет, мир;\nこんにちは、世界", "how_we_met": "مؤتمر, القاهرة",
        "stage": "scheduled", "next_action": "Написать"},
    {
        "first_name": "Γιώργος", "last_name": "Παπαδόπουλος", "phone": "-5",
        "website": "https://example.gr/παπαδόπουλος", "source": "cold", "stage": "interviewed",
        "linkedin_url": "https://www.linkedin.com/in/giorgos-p", "external_id": "=42"},
    {   # referred by another of the contacts below, a free-text referrer of their own too
        "first_name": "Kim", "last_name": "Lee", "source": "other", "stage": "thanked",
        "referrer_name": "Someone at the fair", "location": "Remote", "tags": ["\\"]},
    {"first_name": "Solo"},  # nothing but a name: empty fields stay empty
]


def test_the_people_cover_every_source_and_stage() -> None:
    everyone = [GRACE, *PEOPLE]
    assert {p.get("source", "other") for p in everyone} == set(Source)
    assert {p.get("stage", "identified") for p in everyone} == set(Stage)


def add(client: TestClient, fields: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/contacts", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def mine(client: TestClient) -> TestClient:
    """An account holding every kind of value, in a time zone other than UTC."""
    signed_in(client)
    assert client.patch("/api/v1/me", json={"timezone": "Europe/Paris"}).status_code == 200
    grace = add(client, GRACE)
    added: dict[str, dict[str, Any]] = {}
    for person in PEOPLE:
        referred = {"referred_by_id": grace["id"]} if person["first_name"] == "José" else {}
        added[person["first_name"]] = add(client, {**person, **referred})
    patched = client.patch(f"/api/v1/contacts/{added['Kim']['id']}",
                           json={"referred_by_id": added["José"]["id"]})
    assert patched.status_code == 200, patched.text
    return client


def referrer(contact: dict[str, Any], contacts: dict[str, dict[str, Any]]) -> str:
    """Who referred the contact, as a name: the referring contact's, else the free text."""
    if contact["referred_by_id"]:
        [name] = [n for n, c in contacts.items() if c["id"] == contact["referred_by_id"]]
        return name
    return str(contact["referrer_name"])


def differences(original: dict[str, Any], copy: dict[str, Any],
                originals: dict[str, dict[str, Any]], copies: dict[str, dict[str, Any]],
                ) -> list[str]:
    found = [f"{field}: {original[field]!r} came back as {copy[field]!r}"
             for field in original if field not in NOT_COMPARED and copy[field] != original[field]]
    moments = [None if c["next_action_at"] is None else datetime.fromisoformat(c["next_action_at"])
               for c in (original, copy)]
    if moments[0] != moments[1]:
        found.append(f"next_action_at: {moments[0]} came back as {moments[1]}")
    if referrer(copy, copies) != referrer(original, originals):
        found.append(f"referrer: {referrer(original, originals)!r} came back as "
                     f"{referrer(copy, copies)!r}")
    return found


@pytest.mark.parametrize("fmt", EXPORTS)
def test_an_export_imported_into_an_empty_account_gives_every_field_back(
    mine: TestClient, make_client: Callable[[], TestClient], fmt: str
) -> None:
    url, filename = EXPORTS[fmt]
    exported = mine.get(url)
    assert exported.status_code == 200, exported.text
    originals = my_contacts(mine)
    assert len(originals) == len(PEOPLE) + 1

    theirs = make_client()
    signed_in(theirs, email="jon@uni.edu", name="Jon Park")  # in UTC
    response = upload(theirs, filename, exported.content)
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["format"] == fmt, report
    assert (report["created"], report["updated"], report["skipped"]) == (len(originals), 0, 0), report
    assert report["errors"] == report["conflicts"] == report["warnings"] == [], report

    copies = my_contacts(theirs)
    assert sorted(copies) == sorted(originals)
    lost = {name: differences(original, copies[name], originals, copies)
            for name, original in originals.items()}
    assert {name: found for name, found in lost.items() if found} == {}

    again = upload(theirs, filename, exported.content).json()  # the same file twice: no change
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(originals)), again
    assert again["errors"] == again["conflicts"] == [], again
