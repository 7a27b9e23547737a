"""What the directory's tests share."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI


@pytest.fixture
def no_settle_delay(app: FastAPI) -> Iterator[None]:
    """Sync reads see rows the moment they are written (the tests commit before reading)."""
    settings = app.state.settings
    before = settings.sync_settle_seconds
    settings.sync_settle_seconds = 0
    yield
    settings.sync_settle_seconds = before
