"""Every file of tests/data/real/csv, xlsx and zip (written by other programs, or built from a
program's documented header with made-up people: see each folder's SOURCES.md) imported into a
student's contacts gives what its folder's expected.json says the student must see."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, signed_in
from tests.imports.helpers import my_contacts, upload

FOLDERS = ("csv", "xlsx", "zip")


def _manifest(folder: str) -> dict[str, Any]:
    text = (ROOT / "tests" / "data" / "real" / folder / "expected.json").read_text("utf-8")
    return {name: wanted for name, wanted in json.loads(text).items() if not name.startswith("_")}


CASES = [pytest.param(folder, name, wanted, id=f"{folder}/{name}")
         for folder in FOLDERS for name, wanted in _manifest(folder).items()]


def test_every_file_of_the_corpus_is_in_a_manifest() -> None:
    for folder in FOLDERS:
        files = {p.name for p in (ROOT / "tests" / "data" / "real" / folder).iterdir()
                 if p.suffix in {".csv", ".xlsx", ".zip"}}
        assert files == set(_manifest(folder)), folder


@pytest.mark.parametrize(("folder", "name", "wanted"), CASES)
def test_a_real_file_imports_as_a_student_must_see_it(folder: str, name: str, wanted: dict[str, Any],
                                                      client: TestClient) -> None:
    signed_in(client)
    content = (ROOT / "tests" / "data" / "real" / folder / name).read_bytes()
    response = upload(client, name, content)
    if wanted.get("status") == 422:
        assert response.status_code == 422, response.text
        for words in wanted["problem_contains"]:
            assert words in response.json()["detail"]
        assert my_contacts(client) == {}
        return
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["format"], report["encoding"]) == (wanted["format"], wanted["encoding"])
    assert (report["created"], report["skipped"]) == (wanted["created"], wanted["skipped"]), report
    if "warnings" in wanted:
        assert [[w["row"], w["field"]] for w in report["warnings"]] == wanted["warnings"]
    mine = {_name(contact): contact for contact in my_contacts(client).values()}
    assert set(mine) == set(wanted["contacts"])
    for person, values in wanted["contacts"].items():
        seen = mine[person]
        for key, value in values.items():
            if key == "tags":
                assert sorted(seen["tags"]) == sorted(value), (person, key)
            else:
                assert seen[key] == value, (person, key)


def _name(contact: dict[str, Any]) -> str:
    """A contact as the manifest names it: by full name, or by email when it came without one."""
    full = f"{contact['first_name']} {contact['last_name']}".strip()
    return contact["email"] if contact["email"] and full == contact["email"] else full
