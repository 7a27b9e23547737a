"""Rate limits on the JSON API: each API key, and each user's browser sessions together, get a
budget of requests per fixed window (the ``rate_limit_*`` settings; 0 turns one off).

The counts live in the database, so every app process behind the load balancer shares them:
one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` per request, and each process deletes the
windows that have ended once per window. Requests without credentials are not counted here
(logging in and registering are throttled on their own).

Every counted answer, an error too, carries ``RateLimit-Limit``, ``RateLimit-Remaining``,
``RateLimit-Reset`` (seconds until the window ends) and ``RateLimit-Policy`` (``600;w=60``).
Over the budget the request is refused with 429 and ``Retry-After`` before the route runs.
"""

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts.service import Principal
from app.config import Settings
from app.errors import TooManyRequests
from app.models import RateLimitCounter

# Where counting leaves the headers for the middleware (in the request's ASGI state).
STATE_KEY = "rate_limit_headers"


def clock() -> float:
    """Seconds since the epoch (the tests move it)."""
    return time.time()


# The window this process last deleted ended windows for: only an economy, so it may live in
# memory (another process merely sweeps once more).
_swept_window: int | None = None


@dataclass(frozen=True)
class Budget:
    """One caller's budget in the current window, after counting this request."""

    limit: int
    window: int
    used: int
    reset: int  # seconds until the window ends

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - self.used)),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }


def _caller(settings: Settings, principal: Principal) -> tuple[str, int]:
    if principal.api_key is not None:
        return f"key:{principal.api_key.id}", settings.rate_limit_per_key
    return f"user:{principal.user.id}", settings.rate_limit_per_user


def count(db: Session, settings: Settings, principal: Principal) -> Budget | None:
    """Count one request against its caller's budget; None when that limit is turned off.

    This commits ``db`` (it is called before the route has done anything, so only the caller's
    bookkeeping, such as a key's last use, goes with it): the count must stand whatever the
    request does next, and neither PostgreSQL's row lock nor SQLite's write lock may be held
    for the rest of the request. The request's own connection is used, never a second one, so
    a busy process cannot run its connection pool dry.
    """
    key, limit = _caller(settings, principal)
    if limit == 0:
        return None
    window = settings.rate_limit_window_seconds
    now = clock()
    start = int(now) // window * window
    started = datetime.fromtimestamp(start, UTC)
    on_postgresql = db.get_bind().dialect.name == "postgresql"
    if on_postgresql:
        # A count lost in a crash costs nothing; waiting for the disk on every request would.
        db.execute(text("SET LOCAL synchronous_commit = off"))
    insert = postgresql.insert if on_postgresql else sqlite.insert
    upsert = insert(RateLimitCounter).values(key=key, window_start=started, count=1)
    used = db.execute(
        upsert.on_conflict_do_update(
            index_elements=[RateLimitCounter.key, RateLimitCounter.window_start],
            set_={"count": RateLimitCounter.count + 1},
        ).returning(RateLimitCounter.count)
    ).scalar_one()
    global _swept_window
    if _swept_window != start:
        _swept_window = start
        db.execute(delete(RateLimitCounter).where(RateLimitCounter.window_start < started))
    db.commit()
    return Budget(limit=limit, window=window, used=used,
                  reset=max(1, math.ceil(start + window - now)))


def _seconds(n: int) -> str:
    return "1 second" if n == 1 else f"{n:,} seconds"


def enforce(request: Request, db: Session, settings: Settings, principal: Principal) -> None:
    """Count an API request, leave its headers for the answer, and refuse it over the budget."""
    budget = count(db, settings, principal)
    if budget is None:
        return
    setattr(request.state, STATE_KEY, budget.headers())
    if budget.exceeded:
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
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name.lower().encode(), value.encode())
                               for name, value in extra.items()
                               if name.lower().encode() not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
