"""A CRM's integration, written against a Python client generated from the committed
openapi.json by openapi-python-client, used as generated (no hand edits): if the contract is
vague anywhere this story touches, generation or the story fails."""

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ROOT, api_key, signed_in
from tests.imports.helpers import make_staff

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = "package_name_override: rapport_client\nproject_name_override: rapport-client\npost_hooks: []\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], ModuleType]]:
    """The generated package; ``generated("api.directory.list_entries")`` imports a module."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "config.yml").write_text(CONFIG)
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(ROOT / "openapi.json"), "--meta", "none",
         "--config", str(folder / "config.yml"), "--output-path", str(folder / "rapport_client")],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rapport_client" not in sys.modules
    sys.path.insert(0, str(folder))
    try:
        yield lambda name: importlib.import_module(f"rapport_client.{name}")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == "rapport_client"]:
            del sys.modules[name]


def _client(generated: Callable[[str], ModuleType], app: FastAPI, key: str) -> Any:
    """The generated client as a CRM would use it, talking to the app in process."""
    client = generated("client").AuthenticatedClient(base_url="http://testserver", token=key,
                                                       raise_on_unexpected_status=True)
    client.set_httpx_client(TestClient(app, base_url="http://testserver",
                                       headers={"Authorization": f"Bearer {key}"}))
    return client


@pytest.fixture
def crm_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    """The app with no settle delay on sync reads, so a change shows in the very next read."""
    app = create_app(make_settings(sync_settle_seconds=0))
    yield app
    app.state.engine.dispose()


def _changes(generated: Callable[[str], ModuleType], crm: Any, since: datetime
             ) -> tuple[list[Any], datetime]:
    """Every change since ``since`` (tombstones too), page by page, and where to start next."""
    listing = generated("api.directory.list_entries")
    items, cursor = [], None
    while True:
        page = listing.sync(client=crm, updated_since=since, include_deleted=True, limit=200,
                            cursor=cursor if cursor else generated("types").UNSET)
        items += page.items
        if not page.next_cursor:
            return items, page.next_updated_since
        cursor = page.next_cursor


def test_a_crm_keeps_the_directory_in_step_and_reads_the_engagement_figures(
    generated: Callable[[str], ModuleType], crm_app: FastAPI,
) -> None:
    staff, student = TestClient(crm_app), TestClient(crm_app)
    make_staff(crm_app, staff)
    signed_in(student, email="maya@uni.edu", name="Maya Okafor")
    crm = _client(generated, crm_app, api_key(staff, [
        "directory:read", "directory:write", "stats:read"]))
    models = generated("models")
    batch = generated("api.directory.upsert_batch")
    start = datetime(2000, 1, 1, tzinfo=UTC)

    # Push 1,000 alumni in one request; the same request again changes nothing.
    alumni = [models.BatchItem(external_id=f"C{n:04}", first_name=f"Alum{n}", last_name="Lindqvist",
                               email=f"alum{n}@example.org", graduation_year=1990 + n % 30,
                               major="Biology" if n % 2 else "Chemistry")
              for n in range(1000)]
    pushed = batch.sync(client=crm, body=models.BatchIn(items=alumni))
    assert (pushed.created, pushed.updated, pushed.unchanged) == (1000, 0, 0)
    again = batch.sync(client=crm, body=models.BatchIn(items=alumni))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1000)
    everything, since = _changes(generated, crm, start)
    assert len(everything) == 1000 and len({e.id for e in everything}) == 1000

    # Change 10, delete 2: the next sync reads exactly those 12.
    changed = [models.BatchItem(external_id=f"C{n:04}", title="Physician Assistant")
               for n in range(10)]
    assert batch.sync(client=crm, body=models.BatchIn(items=changed)).updated == 10
    remove = generated("api.directory.delete_by_external_id")
    for external_id in ("C0500", "C0501"):
        assert remove.sync_detailed(client=crm, external_id=external_id).status_code == 204
    changes, _ = _changes(generated, crm, since)
    assert sorted(e.external_id for e in changes) == [f"C{n:04}" for n in (*range(10), 500, 501)]
    assert {e.title for e in changes if e.deleted_at is None} == {"Physician Assistant"}
    assert [e.external_id for e in changes if e.deleted_at is not None] == ["C0500", "C0501"]

    # A student finds one, adds them to their contacts and writes to them.
    entry = next(e for e in everything if e.external_id == "C0007")
    contact = student.post(f"/api/v1/directory/{entry.id}/add-to-contacts").json()
    draft = student.post("/api/v1/messages", json={"kind": "outreach",
                                                   "contact_id": contact["id"]}).json()
    assert student.patch(f"/api/v1/messages/{draft['id']}",
                         json={"status": "sent"}).status_code == 200

    # The figures: counts only, nobody named.
    month = datetime.now(UTC).strftime("%Y-%m")
    figures = generated("api.stats.engagement_figures").sync(client=crm, from_=month, to=month)
    assert [(m.month, m.outreach_sent, m.students_active) for m in figures.months] == [
        (month, 1, 1)]
    engaged = generated("api.stats.directory_engagement").sync(client=crm)
    assert [(r.external_id, r.added, r.contacted, r.interviewed) for r in engaged.items] == [
        ("C0007", 1, 1, 0)]
    assert "maya" not in str(figures.to_dict()).lower() + str(engaged.to_dict()).lower()
