"""Signing what is sent, and checking it as a receiver does.

``Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``. The
timestamp is signed with the body, so a captured request cannot be replayed later than the
receiver's tolerance; the receiver drops a ``Rapport-Delivery`` id it has already handled.

``verify`` is written to be copied into a receiver: it needs nothing but the standard library.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Rapport-Signature"
EVENT_HEADER = "Rapport-Event"
DELIVERY_HEADER = "Rapport-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of ``Rapport-Signature`` for ``body``, signed now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300,
           now: float | None = None) -> bool:
    """True when ``header`` (the ``Rapport-Signature`` value) signs exactly ``body`` (the raw
    request body, before any JSON parsing) with ``secret``, at most ``tolerance`` seconds
    from now."""
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
