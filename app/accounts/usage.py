"""When each API key was last used, kept without a write in the request that used it.

Finding a key by its secret only reads. The use is noted in this process's memory, and a
background step writes the uses noted since its last turn to ``api_keys.last_used_at`` once a
minute, in a transaction of its own, and once more when the app stops. A written time never
goes back (another process may have written a later one).

The keys list shows the later of the stored time and this process's note: exact for a use
this process served, and at most about a minute behind for one another process served.
"""

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import anyio
from fastapi import FastAPI
from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import ApiKey

WRITE_EVERY_SECONDS = 60.0

log = logging.getLogger("rapport.accounts")

_lock = threading.Lock()
_noted: dict[str, datetime] = {}


def note(key_id: str, at: datetime) -> None:
    """Remember that the key was used at ``at`` (the latest use wins)."""
    with _lock:
        if key_id not in _noted or _noted[key_id] < at:
            _noted[key_id] = at


def noted(key_id: str) -> datetime | None:
    """This process's latest use of the key that is not written yet."""
    with _lock:
        return _noted.get(key_id)


_WRITE = (
    update(ApiKey)
    .where(ApiKey.id == bindparam("key_id"),
           or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < bindparam("at")))
    .values(last_used_at=bindparam("at"))
)


def write_noted(sessions: sessionmaker[Session]) -> int:
    """Write the noted uses in one transaction; how many there were. A use is forgotten only
    once written, and only if no later one was noted meanwhile."""
    with _lock:
        pending = dict(_noted)
    if not pending:
        return 0
    with sessions.begin() as db:
        # On the connection: one plain UPDATE sent for every key, not the ORM's bulk form.
        db.connection().execute(_WRITE, [{"key_id": key_id, "at": at}
                                         for key_id, at in pending.items()])
    with _lock:
        for key_id, at in pending.items():
            if _noted.get(key_id) == at:
                del _noted[key_id]
    return len(pending)


class Writer:
    """Writes the noted uses every ``every`` seconds in a daemon thread, and the rest when
    stopped. A failed turn is logged and its uses are kept for the next one."""

    def __init__(self, sessions: sessionmaker[Session], every: float = WRITE_EVERY_SECONDS) -> None:
        self.sessions = sessions
        self.every = every
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="api-key-uses", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.write()

    def write(self) -> None:
        try:
            write_noted(self.sessions)
        except Exception:
            log.exception("The API keys' last uses could not be written; trying again later.")

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self.write()


@asynccontextmanager
async def writing_uses(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: the writer runs while the app serves."""
    writer = Writer(app.state.sessionmaker)
    writer.start()
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(writer.stop)
