"""The app served by uvicorn on 127.0.0.1, for tests that need a real server's concurrency (its
thread pool and the database's connection pool), and many requests sent at once."""

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy
import uvicorn

import app.db
from app.config import Settings
from app.main import create_app

T = TypeVar("T")


@pytest.fixture
def serve(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., str]]:
    """``serve(pool=3, **settings)`` serves an app made with those settings and returns its
    base URL. The server believes X-Forwarded-For from 127.0.0.1, as behind a load balancer,
    so a test can speak from many addresses. ``pool`` makes the app's connection pool that
    many connections (and no overflow), waited for at most ``pool_timeout`` seconds."""
    stops: list[Callable[[], None]] = []

    def serve(pool: int | None = None, pool_timeout: float = 30, **overrides: Any) -> str:
        def small_pool(url: str, **kwargs: Any) -> sqlalchemy.Engine:
            return sqlalchemy.create_engine(url, **{**kwargs, "pool_size": pool,
                                                    "pool_timeout": pool_timeout})

        with pytest.MonkeyPatch.context() as patch:
            if pool is not None:
                patch.setattr(app.db, "create_engine", small_pool)
            application = create_app(make_settings(**overrides))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(
            application, log_level="warning", proxy_headers=True,
            forwarded_allow_ips="127.0.0.1", backlog=512))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()

        def stop() -> None:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()
            application.state.engine.dispose()

        stops.append(stop)
        base_url = f"http://127.0.0.1:{port}"
        # The socket listens already: this waits in the backlog until uvicorn accepts it.
        assert httpx.get(f"{base_url}/api/v1/health", timeout=30).status_code == 200
        return base_url

    yield serve
    for stop in stops:
        stop()


def at_once(count: int, send: Callable[[int], T]) -> list[T]:
    """Call ``send(0)`` … ``send(count - 1)``, each in its own thread, all released together."""
    start = threading.Barrier(count)

    def go(i: int) -> T:
        start.wait()
        return send(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(go, range(count)))


def from_address(address: str) -> dict[str, str]:
    """Headers that make the served app see the request as coming from ``address``."""
    return {"X-Forwarded-For": address}
