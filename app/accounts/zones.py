"""The time zones a person chooses from: one per place in the current tz database, named by
country (zone.tab), without the legacy aliases such as US/Eastern or Asia/Calcutta."""

from functools import cache
from importlib.resources import files
from zoneinfo import available_timezones


def _data(name: str) -> list[list[str]]:
    text = files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def choices() -> dict[str, str]:
    """Zone name → what it is called where it is, such as "Europe/Oslo" → "Norway", sorted by
    name; UTC last."""
    countries = {row[0]: row[1] for row in _data("iso3166.tab")}
    zones = {}
    for row in _data("zone.tab"):
        code, name = row[0], row[2]
        place = countries.get(code, code)
        zones[name] = f"{place} · {row[3]}" if len(row) > 3 and row[3] else place
    return {**dict(sorted(zones.items())), "UTC": "Coordinated Universal Time"}


@cache
def _links() -> dict[str, str]:
    """Legacy name → the zone it now is (the tz database's "L target name" lines)."""
    text = files("tzdata").joinpath("zoneinfo", "tzdata.zi").read_text(encoding="utf-8")
    return {parts[2]: parts[1] for parts in (line.split() for line in text.splitlines())
            if len(parts) == 3 and parts[0] == "L"}


def canonical(name: str | None) -> str | None:
    """The zone a browser reported, as the list names it: Asia/Calcutta becomes Asia/Kolkata.
    None for a name the tz database does not know."""
    if not name or name not in available_timezones():
        return None
    if name in choices():
        return name
    target = _links().get(name, name)
    return target if target in choices() else name
