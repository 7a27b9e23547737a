"""Requests counted per API key and per user in fixed windows, for the API's rate limits."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class RateLimitCounter(Base):
    """How many requests one caller (``key:<api key id>`` or ``user:<user id>``) made in the
    window that began at ``window_start``. One row per caller and window; ended windows are
    deleted as new ones begin."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int]
