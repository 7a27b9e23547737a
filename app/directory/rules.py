"""The rules of a directory entry, in plain Python: an import checks a million rows with them,
and the API checks each body with them too.

``clean`` takes text as files give it (or values as JSON gives them) and returns the values to
store, or what is wrong, field by field."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

EMAIL = re.compile(r"[^@\s;,<>()\[\]\"]+@[^@\s;,<>()\[\]\"]+\.[^@\s;,<>()\[\]\".]{2,}")
WEB_ADDRESS = re.compile(r"https?://[^\s/]+\.\S+")
SHORT_YEAR = re.compile(r"[\u2019']\d{2}")
THIS_YEAR = datetime.now(UTC).year
FIRST_YEAR = 1900

# Text fields and their longest value.
LIMITS = {"first_name": 100, "last_name": 100, "email": 320, "title": 200,
          "organization_name": 200, "industry": 200, "location": 200, "degree": 100,
          "major": 200, "linkedin_url": 500, "external_id": 200}
FIELDS = (*LIMITS, "graduation_year", "accepts_requests")
NULLABLE = {"email", "external_id", "graduation_year"}
# Set by staff through the API, never by an import file: not one of FIELDS.
CAPACITY = "monthly_capacity"
MAX_CAPACITY = 10_000
YES = {"y", "yes", "true", "t", "1", "on", "x"}
NO = {"n", "no", "false", "f", "0", "off"}

Problem = tuple[str, str, str]  # field, value, message


def year(value: Any) -> int | None:
    """Class years as people write them: 2019, "2019", "2019.0", "'19". None when unreadable."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isascii() and text.isdigit() and len(text) <= 4:
        return int(text)
    if SHORT_YEAR.fullmatch(text):
        short = 2000 + int(text[1:])
        return short if short <= THIS_YEAR + 6 else short - 100
    return None


def clean(values: Mapping[str, Any], partial: bool = False) -> tuple[dict[str, Any], list[Problem]]:
    """Checked values (text trimmed), and the problems found. ``partial``: only the fields
    given are checked, as for a PATCH."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    texts = [v for v in values.values() if isinstance(v, str)]
    joined = "".join(texts)
    if "\x00" in joined:
        return out, [("", "", "Text may not contain the NUL character.")]
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return out, [("", "", "Text must be valid Unicode.")]
    for name, value in values.items():
        if name in LIMITS:
            text = "" if value is None else str(value).strip()
            if len(text) > LIMITS[name]:
                problems.append((name, text[:200], f"Use at most {LIMITS[name]:,} characters."))
                continue
            if not text:
                out[name] = None if name in NULLABLE else ""
                continue
            if name == "email" and not EMAIL.fullmatch(text):
                problems.append((name, text, "Enter an email address such as name@example.org."))
                continue
            if name == "linkedin_url" and not WEB_ADDRESS.fullmatch(text):
                problems.append((name, text, "Enter a web address starting with https://"))
                continue
            out[name] = text
        elif name == "graduation_year":
            if value is None or value == "":
                out[name] = None
                continue
            number = year(value)
            if number is None or not FIRST_YEAR <= number <= THIS_YEAR + 10:
                problems.append((name, str(value), f"Enter a year from {FIRST_YEAR} to "
                                                   f"{THIS_YEAR + 10}."))
                continue
            out[name] = number
        elif name == "accepts_requests":
            if isinstance(value, bool):
                out[name] = value
                continue
            word = str(value).strip().lower()
            if word in YES or not word:
                out[name] = True
            elif word in NO:
                out[name] = False
            else:
                problems.append((name, str(value), "Use yes or no."))
        elif name == CAPACITY:
            if value is None or value == "":
                out[name] = None
                continue
            number = value if isinstance(value, int) and not isinstance(value, bool) else (
                int(value) if isinstance(value, str) and value.strip().isascii()
                and value.strip().isdigit() and len(value.strip()) < 9 else None)
            if number is None or not 1 <= number <= MAX_CAPACITY:
                problems.append((name, str(value)[:200],
                                 f"Enter a whole number from 1 to {MAX_CAPACITY:,}, or nothing "
                                 "for no limit."))
                continue
            out[name] = number
        else:
            problems.append((name, str(value)[:200], "This is not a field of a directory entry."))
    if not partial and not out.get("first_name") and not any(p[0] == "first_name" for p in problems):
        problems.append(("first_name", "", "A first name is needed."))
    elif partial and "first_name" in out and not out["first_name"]:
        problems.append(("first_name", "", "A first name cannot be emptied."))
    return out, problems
