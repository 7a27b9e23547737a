"""A student's file is checked a row at a time, and a plain row (the usual one) without the
contact model, which is several times faster. Every row must get exactly what the model gives
it: the same values, the same fields given, the same problems and warnings."""

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.imports import rows
from app.models import Source

TEXTS = ["", "Ana", " José ", "Zoë", "O'Brien", "'=cmd", "'Quoted", "-", "n/a", "李", "a\x00b",
         "\ud800", "Ann  Lee", "x" * 50, "x" * 51, "x" * 100, "x" * 101, "y" * 200, "y" * 201,
         "tab\there", "end\x1f", "\u00a0nbsp", "Ingénieur"]
EMAILS = ["ana@example.org", "Ana.Lee@Example.ORG", " b@uni.edu ", "not-an-email", "a@b",
          "a@b.c", "ann@host.test", "ann@mail.local", "x@localhost", "ann@xn--bcher-kva.example",
          "ann@ab--cd.example", "a" * 64 + "@example.org", "a" * 65 + "@example.org",
          "a." + "b" * 62 + "@example.org", "a..b@example.org", ".a@example.org",
          "a+tag@uni.edu", "a_b-c@uni-x.edu", '"quoted"@example.org', "Ann <ann@example.org>",
          "é@exämple.org", "chloé-okafor@example.com", "chloe\u0301@example.com", "\u0301a@x.org",
          "ü" * 64 + "@example.org", "ü" * 120 + "@example.org", "名字@example.org", "a٣@x.org",
          "ǅ@x.org", "ⅻ@x.org", "a\u200b@x.org", "ann@exämple.org", "ann@example.123", "ann@-bad.org",
          "ann@" + "d" * 64 + ".org", "ann@example.org.", "'=x@y.org", "ANN@EXAMPLE.ORG",
          "a@" + ("d" * 60 + ".") * 4 + "org"]
ADDRESSES = ["https://www.linkedin.com/in/ana", "linkedin.com/in/ana", "www.example.org",
             "http://x", "HTTPS://example.org", "https://example.org:8443/a", "https://[::1]/",
             "https://exämple.org", "https://example.org/a b", "https://example.org/ä?q=1#f",
             "ftp://example.org", "https://plus.google.com/123", "example.org/path",
             "https://uk.linkedin.com/in/ana/", "https://www.linkedin.com/company/acme",
             "mailto:ann@example.org", "https://" + "e" * 500 + ".org"]
PHONES = ["+1 555 0100", "(555) 010-0199", "ext", "call me", "\uff15\uff15\uff15", "٣٣٣"]
TAGS = ["alumni", "a, b", "a\\, b", "x" * 51, "a,a", ", ,", "Ünï"]
STAGES = ["identified", "contacted", "Identified", "nope"]
SOURCES = ["personal", "alumni", "cold", "Personal", "nope"]
WHEN = ["2026-12-24T10:00", "tomorrow", "2026-12-24"]

FIELDS: dict[str, Any] = {
    **{name: st.sampled_from(TEXTS) for name in (
        "first_name", "last_name", "name", "middle_name", "title", "organization_name",
        "industry", "location", "city", "state", "country", "referrer_name", "how_we_met",
        "notes", "next_action", "external_id", "note:Connected on", "note:Department")},
    "email": st.sampled_from(EMAILS), "linkedin_url": st.sampled_from(ADDRESSES),
    "website": st.sampled_from(ADDRESSES), "phone": st.sampled_from(PHONES + TEXTS),
    "tags": st.one_of(st.sampled_from(TAGS), st.lists(st.sampled_from(TAGS), max_size=4)),
    "stage": st.sampled_from(STAGES), "source": st.sampled_from(SOURCES),
    "next_action_at": st.sampled_from(WHEN),
}
# Values a file usually gives (each one the model takes), boundaries included.
USUAL: dict[str, Any] = {
    **{name: st.sampled_from(["Ana", "Zoë", "O'Brien", "李", "x" * 50, "y" * 100])
       for name in FIELDS if name not in {"email", "linkedin_url", "website", "phone", "tags",
                                          "stage", "source", "next_action_at"}},
    "email": st.sampled_from(["ana@example.org", "Ana.Lee@Example.ORG", "a+b@uni-x.edu",
                              "José.García@Uni.edu", "a" * 64 + "@example.org", "a_b@x.co"]),
    "linkedin_url": st.sampled_from(["https://www.linkedin.com/in/ana", "linkedin.com/in/ana",
                                     "https://uk.linkedin.com/in/ana/?x=1"]),
    "website": st.sampled_from(["https://example.org", "www.example.org/a", "http://a.b/c#d"]),
    "phone": st.sampled_from(["+1 555 0100", "(555) 010-0199 ext. 12"]),
    "tags": st.one_of(st.sampled_from(["alumni", "a, b, a"]),
                      st.lists(st.sampled_from(["alumni", " mentor ", "Ünï"]), max_size=3)),
    "stage": st.sampled_from(["identified", "contacted"]),
    "source": st.sampled_from(["personal", "alumni"]),
    "next_action_at": st.sampled_from(WHEN),
}
DEFAULTS = st.sampled_from([{}, {"source": Source.personal}, {"source": Source.other}])


@st.composite
def records(draw: Callable[..., Any]) -> dict[str, Any]:
    names = draw(st.sets(st.sampled_from(sorted(FIELDS)), min_size=1))
    usual = draw(st.booleans())  # half the rows as files usually give them, named
    names |= {"first_name"} if usual else set()
    record = {name: draw(USUAL[name] if usual and draw(st.integers(0, 9)) else FIELDS[name])
              for name in names}
    if draw(st.integers(0, 20)) == 0:  # what the reader says of a value it left out
        record["__warnings__"] = [("phone", "fax", "Not a phone number.")]
    return record


def expected(record: dict[str, Any], defaults: dict[str, str],
             guarded: bool) -> tuple[Any, ...]:
    """What the contact model gives the row."""
    contact, problems, warnings = rows.check_contact(dict(record), defaults, guarded)
    if contact is None:
        return None, [], problems, warnings
    given = sorted(f for f in contact.model_fields_set if f not in defaults or f in record)
    return contact.model_dump(mode="json"), given, problems, warnings


LINKEDIN_ROW = {"first_name": "Sofia", "last_name": "Rossi", "email": "Sofia.Rossi@Example.com",
                "linkedin_url": "https://www.linkedin.com/in/sofia-rossi-2",
                "organization_name": "Startup 36", "title": "UX Researcher",
                "note:Connected on": "14 Jan 2025"}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records(), DEFAULTS, st.booleans())
@example(LINKEDIN_ROW, {"source": Source.personal}, True)
@example({"first_name": "Ann", "tags": ["b", "a", "b"], "stage": "contacted"}, {}, False)
def test_every_row_gets_what_the_contact_model_gives_it(record: dict[str, Any],
                                                        defaults: dict[str, str],
                                                        guarded: bool) -> None:
    assert rows.contact_values(dict(record), defaults, guarded) == expected(record, defaults,
                                                                            guarded)


@pytest.mark.parametrize("record", [
    LINKEDIN_ROW,
    {"first_name": "Ann", "phone": "+1 555 0100", "website": "www.example.org",
     "city": "Saint Paul", "state": "MN", "tags": "alumni, mentor", "source": "alumni"},
    {"name": "Ana Lee", "email": "ana@uni.edu", "note:Department": "Physics"},
])
def test_a_plain_row_is_checked_without_the_model(record: dict[str, Any]) -> None:
    values = rows.mapped(record, "contacts", {"source": Source.personal})
    plain = rows._plain(values)
    assert plain is not None
    assert plain["email"] == (values["email"].split("@")[0] + "@" + values["email"].split("@")[1]
                              .lower() if "email" in values else None)
