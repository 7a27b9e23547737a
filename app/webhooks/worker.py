"""The worker that sends deliveries: any number of them, in any number of processes.

A delivery is claimed before it is sent, with a lease (``claimed_by``, ``claimed_until``) that
only one worker can take: on PostgreSQL the row is picked with ``FOR UPDATE SKIP LOCKED``, on
SQLite by an ``UPDATE`` that names the lease it expects and counts the rows it changed. No
transaction is open while a request is on the wire. A worker that dies mid-send leaves its
lease to run out; the delivery is then sent again, with the same ``Rapport-Delivery`` id for
the receiver to drop (delivery is at least once, never twice at the same time).

A 2xx answer is delivered; anything else (an error, a timeout, a redirect, an address that
became private) is retried after a delay that doubles each time, with jitter, until the last
attempt fails."""

import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import leases
from app.config import Settings
from app.db import make_engine, make_sessionmaker, new_token, utcnow
from app.models import DeliveryStatus, Webhook, WebhookDelivery
from app.webhooks import addresses, signing

log = logging.getLogger("rapport.webhooks")
LONGEST_DELAY = timedelta(hours=6)
PRUNE_EVERY = timedelta(hours=1)
USER_AGENT = "Rapport-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff(settings: Settings, attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed tries: doubling, with up to half again."""
    delay = settings.webhooks_retry_seconds * 2 ** (attempts - 1)
    seconds = min(delay * random.uniform(1.0, 1.5), LONGEST_DELAY.total_seconds())  # noqa: S311
    return timedelta(seconds=seconds)


class Worker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, *,
                 clock: Callable[[], datetime] = utcnow, name: str | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{new_token(4)}"
        # Long enough for a whole try (connecting, sending, the answer's headers).
        self.lease = timedelta(seconds=4 * settings.webhooks_timeout_seconds + 30)
        self.pruned_at: datetime | None = None

    # --- claiming ---

    def _due(self, now: datetime) -> Select[str]:
        return (select(WebhookDelivery.id).join(Webhook)
                .where(WebhookDelivery.status == DeliveryStatus.pending,
                       WebhookDelivery.next_attempt_at <= now, Webhook.active.is_(True),
                       leases.unclaimed(WebhookDelivery, now))
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id))

    def claim(self) -> str | None:
        """Take the lease of one delivery that is due; its id, or None when none is."""
        now = self.clock()
        return leases.claim(self.sessions, WebhookDelivery, self._due(now), now, self.name, self.lease)

    # --- sending ---

    def prune(self) -> int:
        """Delete deliveries that are done with and older than ``webhooks_keep_days``."""
        cutoff = self.clock() - timedelta(days=self.settings.webhooks_keep_days)
        with self.sessions() as db, db.begin():
            gone = db.execute(delete(WebhookDelivery).where(
                WebhookDelivery.status.in_([DeliveryStatus.delivered, DeliveryStatus.failed]),
                WebhookDelivery.created_at < cutoff))
        return int(gone.rowcount)  # type: ignore[attr-defined]

    def drain(self) -> int:
        """Send every delivery that is due now, one after another; how many were tried."""
        # Hourly at most: on SQLite even a delete of nothing waits for the write lock.
        if self.pruned_at is None or self.clock() - self.pruned_at > PRUNE_EVERY:
            self.prune()
            self.pruned_at = self.clock()
        tried = 0
        with httpx.Client(timeout=self.settings.webhooks_timeout_seconds,
                          follow_redirects=False, trust_env=False) as client:
            while (delivery_id := self.claim()) is not None:
                self.send(client, delivery_id)
                tried += 1
        return tried

    def send(self, client: httpx.Client, delivery_id: str) -> Outcome:
        with self.sessions() as db:
            delivery = db.get(WebhookDelivery, delivery_id)
            if delivery is None:  # its webhook was deleted meanwhile
                return Outcome(None, "deleted")
            url, secret = delivery.webhook.url, delivery.webhook.secret
            body, event, attempts = delivery.body.encode(), delivery.event, delivery.attempts
        outcome = self.post(client, url, secret, body, event, delivery_id)
        self.record(delivery_id, attempts, outcome)
        return outcome

    def post(self, client: httpx.Client, url: str, secret: str, body: bytes, event: str,
             delivery_id: str) -> Outcome:
        try:
            target = addresses.check(url, self.settings.webhooks_allow_private)
        except addresses.UnsafeAddress as exc:
            return Outcome(None, str(exc))
        # To the address just checked, not to whatever a second DNS lookup would say; the
        # certificate is still checked against the host name.
        parts = urlsplit(url)
        ip = target.addresses[0]
        netloc = f"[{ip}]:{target.port}" if ip.version == 6 else f"{ip}:{target.port}"
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        try:  # an international name goes as its ASCII form; an address literal as it is
            host = f"[{target.host}]" if ":" in target.host \
                else target.host.encode("idna").decode("ascii")
        except UnicodeError:
            return Outcome(None, "The host name cannot be written in ASCII.")
        default_port = 443 if parts.scheme == "https" else 80
        headers = {
            "Host": host if target.port == default_port else f"{host}:{target.port}",
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            signing.SIGNATURE_HEADER: signing.header(secret, body),
            signing.EVENT_HEADER: event, signing.DELIVERY_HEADER: delivery_id,
        }
        extensions = {"sni_hostname": target.host} if parts.scheme == "https" else {}
        try:
            # The answer's body is never read: its status is all that counts.
            with client.stream("POST", pinned, content=body, headers=headers,
                               extensions=extensions) as response:
                code = response.status_code
        except httpx.TimeoutException:
            return Outcome(None, f"No answer within {self.settings.webhooks_timeout_seconds:g} s.")
        except Exception as exc:  # refused, reset, a bad certificate, a name httpx cannot send
            return Outcome(None, (f"Could not send: {exc}" if str(exc)
                                  else f"Could not send ({type(exc).__name__})."))
        if 300 <= code < 400:
            return Outcome(code, f"Answered {code}: redirects are not followed.")
        if not 200 <= code < 300:
            return Outcome(code, f"Answered {code}.")
        return Outcome(code)

    def record(self, delivery_id: str, attempts: int, outcome: Outcome) -> None:
        now = self.clock()
        tries = attempts + 1
        values: dict[str, object] = {
            "attempts": tries, "last_attempt_at": now, "last_status_code": outcome.status_code,
            "last_error": outcome.error[:300], "claimed_by": None, "claimed_until": None}
        if outcome.delivered:
            values |= {"status": DeliveryStatus.delivered, "delivered_at": now,
                       "next_attempt_at": None}
        elif tries >= self.settings.webhooks_max_attempts:
            values |= {"status": DeliveryStatus.failed, "next_attempt_at": None}
        else:
            values |= {"status": DeliveryStatus.pending,
                       "next_attempt_at": now + backoff(self.settings, tries)}
        with self.sessions() as db, db.begin():
            kept = db.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_by == self.name
            ).values(**values))
        if kept.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("delivery %s: the lease ran out before its outcome was recorded",
                        delivery_id)

    # --- running ---

    def run(self, stop: threading.Event) -> None:
        """Drain, wait a little, again, until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.drain()
            except Exception:  # the database away for a moment: try again at the next turn
                log.exception("webhook worker %s: draining failed", self.name)
            stop.wait(self.settings.webhooks_poll_seconds)


def start_in_background(settings: Settings) -> threading.Event:
    """The worker in a daemon thread of this process; set the event it gives back to stop it."""
    stop = threading.Event()
    worker = Worker(make_sessionmaker(make_engine(settings.database_url)), settings)
    threading.Thread(target=worker.run, args=(stop,), name="webhook-worker", daemon=True).start()
    return stop
