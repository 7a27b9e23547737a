"""Two `rapport worker --once` processes draining the same database at the same time (a SQLite
file, or the PostgreSQL database of the suite) send each delivery exactly once."""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.models import DeliveryStatus, WebhookDelivery
from tests.imports.helpers import rows
from tests.webhooks.conftest import Receiver, alumna, subscribe

RAPPORT = Path(sys.executable).parent / "rapport"


def test_two_worker_processes_never_send_a_delivery_twice(
    private_app: FastAPI, staff: TestClient, receiver: Receiver, database_url: str,
    tmp_path: Path,
) -> None:
    subscribe(staff, receiver.url, ["directory.entry.created"])
    subscribe(staff, receiver.url + "/second", ["directory.entry.created"])
    for n in range(20):
        alumna(staff, first_name=f"Alum{n}", external_id=f"CRM-{n}", email=None)
    queued = {d.id for d in rows(private_app, WebhookDelivery)}
    assert len(queued) == 40
    receiver.delay = 0.05  # each send takes a while, so the two workers overlap

    env = {**os.environ, "RAPPORT_DATABASE_URL": database_url, "RAPPORT_ENV": "development",
           "RAPPORT_WEBHOOKS_ALLOW_PRIVATE": "true"}
    workers = [subprocess.Popen([str(RAPPORT), "worker", "--once"], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    for process, (_, err) in zip(workers, outputs, strict=True):
        assert process.returncode == 0, err
    tried = [int(match.group(1)) for out, _ in outputs
             if (match := re.search(r"(\d+) webhook deliver", out))]

    received = Counter(r.delivery for r in receiver.requests)
    assert set(received) == queued
    assert set(received.values()) == {1}, [d for d, n in received.items() if n > 1]
    assert len(tried) == 2 and sum(tried) == 40
    assert {d.status for d in rows(private_app, WebhookDelivery)} == {DeliveryStatus.delivered}
