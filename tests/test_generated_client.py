"""A CRM's integration, written against a Python client generated from the committed
openapi.json by openapi-python-client, used as generated (no hand edits): if the contract is
vague anywhere this story touches, generation or the story fails."""

import importlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import ROOT, api_key
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
    """The generated client, talking to the app in process with an API key."""
    client = generated("client").AuthenticatedClient(base_url="http://testserver", token=key,
                                                       raise_on_unexpected_status=True)
    client.set_httpx_client(TestClient(app, base_url="http://testserver",
                                       headers={"Authorization": f"Bearer {key}"}))
    return client


def test_a_crm_pushes_changes_and_reads_back_the_alumni_directory(
    generated: Callable[[str], ModuleType], app: FastAPI, make_client: Callable[[], TestClient],
) -> None:
    staff = make_client()
    make_staff(app, staff)
    crm = _client(generated, app, api_key(staff, ["directory:read", "directory:write"]))
    models = generated("models")
    create = generated("api.directory.create_entry")
    listing = generated("api.directory.list_entries")

    made = create.sync(client=crm, body=models.EntryIn(first_name="Ana", last_name="Lopez",
                                                         external_id="C1", graduation_year=2012))
    assert isinstance(made, models.EntryOut) and made.external_id == "C1"
    page = listing.sync(client=crm, limit=200)
    assert [e.external_id for e in page.items] == ["C1"]

    refused = create.sync_detailed(client=crm, body=models.EntryIn(first_name="Bo",
                                                                  email="not an address"))
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.ErrorOut)
    assert [f.field for f in refused.parsed.fields] == ["email"]
