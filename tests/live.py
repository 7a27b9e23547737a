"""An ASGI app served by uvicorn in a thread on a free port of 127.0.0.1."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


@contextmanager
def serve(app: Any, ready_path: str) -> Iterator[str]:
    """Yields the base URL, such as http://127.0.0.1:4711, once ``ready_path`` answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        # The socket is listening before the server starts, so this request waits in the
        # backlog until uvicorn accepts it: no polling, no sleeping.
        response = httpx.get(base_url + ready_path, timeout=30)
        assert response.status_code == 200, response.text
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
