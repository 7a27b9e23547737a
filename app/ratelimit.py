"""Rate limits on the JSON API: each API key, and each user's browser sessions together, may make
a number of requests in any ``rate_limit_window_seconds`` (a moving window: the requests of the
last 60 seconds, whenever the minute began). 0 turns a limit off.

The counts are kept by the ``limits`` library, never in the database, so counting a request
costs no write and no lock: in this process's memory by default (exact for one process), or in
Redis when ``redis_url`` is set, so that every process and instance shares one budget. When
Redis cannot be reached the request is not failed: this process counts in its own memory, says
so in the log, and tries Redis again after a while (the limits then hold per process only).
Requests without credentials are not counted here (logging in and registering are throttled on
their own); a route may count its own events by key with ``Limiter.count_for`` (the sign-ins
begun from one network, app/accounts/oidc.py).

Every counted answer, an error too, carries ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` (seconds until the oldest request counted leaves the window, giving one
back) and ``RateLimit-Policy`` (``600;w=60``). Over the budget the request is refused with 429
and ``Retry-After`` before the route runs; a refused request is not counted.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis
from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.service import Principal
from app.config import Settings
from app.errors import TooManyRequests
from app.middleware import add_headers

# Where counting leaves the headers for the middleware (in the request's ASGI state).
STATE_KEY = "rate_limit_headers"

REDIS_KEY_PREFIX = "rapport:ratelimit"
# Redis answers in well under a millisecond; one that takes a second is treated as down.
REDIS_TIMEOUT_SECONDS = 1.0
# After Redis failed, how long this process counts in memory before it tries Redis again.
REDIS_RETRY_SECONDS = 30.0

log = logging.getLogger("rapport.ratelimit")


def clock() -> float:
    """Seconds since the epoch, as the ``limits`` library reads them (the tests move both)."""
    return time.time()


@dataclass(frozen=True)
class Budget:
    """One caller's budget, after counting (or refusing) this request."""

    limit: int
    window: int
    remaining: int
    reset: int  # seconds until the oldest request counted leaves the window
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }


def _item(limit: int, window: int) -> RateLimitItem | None:
    return RateLimitItemPerSecond(limit, window) if limit else None


def _redis_storage(url: str) -> RedisStorage:
    # One immediate retry (a pooled connection that a Redis restart closed), no backoff: while
    # Redis is down, a request must not wait for it.
    pool = redis.ConnectionPool.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
    )
    return RedisStorage(url, connection_pool=pool, key_prefix=REDIS_KEY_PREFIX)


def _where(url: str) -> str:
    """The Redis address for the log, without a password."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))


class Limiter:
    """The app's rate limits and where they are counted (one per app, in ``app.state``)."""

    def __init__(self, settings: Settings) -> None:
        self.window = settings.rate_limit_window_seconds
        self.per_key = _item(settings.rate_limit_per_key, self.window)
        self.per_user = _item(settings.rate_limit_per_user, self.window)
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared = (MovingWindowRateLimiter(_redis_storage(settings.redis_url))
                       if settings.redis_url else None)
        self.redis_address = _where(settings.redis_url)
        self._lock = threading.Lock()
        self._redis_down_until: float | None = None  # while Redis is unreachable

    def count(self, principal: Principal) -> Budget | None:
        """Count one request against its caller's budget; None when that limit is turned off."""
        if principal.api_key is not None:
            item, who = self.per_key, ("key", principal.api_key.id)
        else:
            item, who = self.per_user, ("user", principal.user.id)
        if item is None:
            return None
        return self._budget(item, self.window, who)

    def count_for(self, kind: str, key: str, most: int, window: int) -> Budget:
        """Count one event of ``kind`` under ``key`` against ``most`` in any ``window`` seconds
        (``key`` a digest, not an address: nothing personal goes to Redis)."""
        return self._budget(RateLimitItemPerSecond(most, window), window, (kind, key))

    def _budget(self, item: RateLimitItem, window: int, who: tuple[str, str]) -> Budget:
        allowed, (reset_at, remaining) = self._hit(item, who)
        return Budget(limit=item.amount, window=window, remaining=max(0, remaining),
                      reset=max(1, math.ceil(reset_at - clock())), allowed=allowed)

    def _hit(self, item: RateLimitItem, who: tuple[str, str]) -> tuple[bool, tuple[float, int]]:
        if self.shared is not None and self._redis_worth_trying():
            try:
                counted = self.shared.hit(item, *who), self.shared.get_window_stats(item, *who)
            except redis.RedisError as error:
                self._redis_failed(error)
            else:
                self._redis_answered()
                return counted
        return self.local.hit(item, *who), self.local.get_window_stats(item, *who)

    def _redis_worth_trying(self) -> bool:
        down_until = self._redis_down_until
        return down_until is None or clock() >= down_until

    def _redis_failed(self, error: redis.RedisError) -> None:
        with self._lock:
            first = self._redis_down_until is None
            self._redis_down_until = clock() + REDIS_RETRY_SECONDS
        if first:
            log.warning("Rate limits: Redis at %s cannot be reached (%s). This process counts "
                        "in its own memory, and tries Redis again every %d seconds.",
                        self.redis_address, error, REDIS_RETRY_SECONDS)

    def _redis_answered(self) -> None:
        if self._redis_down_until is None:
            return
        with self._lock:
            was_down = self._redis_down_until is not None
            self._redis_down_until = None
        if was_down:
            log.info("Rate limits: Redis at %s answers again; counting there.", self.redis_address)


def _seconds(n: int) -> str:
    return "1 second" if n == 1 else f"{n:,} seconds"


def enforce(request: Request, principal: Principal) -> None:
    """Count an API request, leave its headers for the answer, and refuse it over the budget."""
    limiter: Limiter = request.app.state.rate_limiter
    budget = limiter.count(principal)
    if budget is None:
        return
    setattr(request.state, STATE_KEY, budget.headers())
    if not budget.allowed:
        who = "This API key has" if principal.api_key is not None else "You have"
        raise TooManyRequests(
            f"{who} made more than {budget.limit:,} requests in {_seconds(budget.window)}. "
            f"Wait {_seconds(budget.reset)}, then try again.",
            code="rate_limited",
            headers={"Retry-After": str(budget.reset)},
        )


class RateLimitHeaders:
    """ASGI middleware: puts the headers that counting left in the request's state on the
    answer, whatever produced it (the route, or an error handler)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            extra = state.get(STATE_KEY)
            if message["type"] == "http.response.start" and extra:
                add_headers(message, {name.lower().encode(): value.encode()
                                      for name, value in extra.items()})
            await send(message)

        await self.app(scope, receive, send_with_headers)
