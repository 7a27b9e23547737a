"""One record of a file, checked as the API would check it: the values to write, or what is
wrong with it, field by field."""

import re
import unicodedata
from typing import Any

from pydantic import ValidationError

from app.contacts.export import revive
from app.contacts.schemas import ContactIn, split_tags, tag_list
from app.directory import rules
from app.errors import field_message, field_name
from app.models import Source, Stage

# The fields each target takes from a file (a column mapped elsewhere is ignored).
TARGET_FIELDS = {
    "directory": set(rules.FIELDS),
    "contacts": set(ContactIn.model_fields) - {"organization_id", "referred_by_id"},
}


def destination(name: str, target: str) -> str:
    """Where a column recognised as ``name`` ends up in the target ("" when nowhere)."""
    if name in {"city", "state", "country"}:
        return "location"
    if target == "contacts" and name.startswith("note:"):
        return "notes"
    if target == "contacts" and name == "middle_name":
        return "first_name"
    if name == "name":
        return "first_name last_name"
    return name if name in TARGET_FIELDS[target] else ""


GUARDED_FORMATS = {"csv", "linkedin", "google", "xlsx"}  # where our CSV export's guard can be
# Cells that mean "nothing here", as exports and people write them.
PLACEHOLDERS = {"-", "--", "\u2014", "\u2013", "n/a", "na", "none", "null", "nil", "?", "."}
PROFILE = re.compile(r"(?:[a-z0-9-]+\.)?(linkedin\.com/(?:in|pub)/[^/\s].*)")


def web_address(text: str) -> str:
    """An address as a browser takes it: one written without its scheme gets https://."""
    if text and "://" not in text and re.match(r"(www\.|[a-z0-9-]+\.[a-z]{2,}/)", text, re.I):
        return "https://" + text
    return text


def profile_key(url: str | None) -> str | None:
    """A LinkedIn profile's address without what varies (scheme, www or a country, case, a
    trailing slash, a query); None for any other address, which identifies no one."""
    if not url:
        return None
    match = PROFILE.fullmatch(url.lower().split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
                              .rstrip("/"))
    return match.group(1) if match else None


def is_linkedin_profile(url: str) -> bool:
    """Only a person's profile (linkedin.com/in/…) identifies them; a company page does not."""
    return profile_key(url) is not None


def mapped(record: dict[str, Any], target: str, defaults: dict[str, str] | None = None,
           guarded: bool = True) -> dict[str, Any]:
    """The record's values under the target's field names: names split or joined, city, state
    and country joined, tags split, web addresses sorted into LinkedIn and website, and the
    values with no field of their own added to the notes. ``guarded``: cells may carry the CSV
    export's formula guard (an apostrophe), which is taken off."""
    if target != "contacts":
        return _directory_mapped(record)
    values: dict[str, Any] = dict(defaults) if defaults else {}
    extra: list[str] = []
    for name, raw in record.items():
        if name.startswith("__"):
            continue
        if isinstance(raw, list):
            if name == "tags":
                values["tags"] = [str(t).strip() for t in raw if str(t).strip()]
            continue
        text = str(raw).strip()
        if not text or text.lower() in PLACEHOLDERS:
            continue
        if guarded and text[0] == "'":  # a cell an export made inert, as it was
            text = revive(text)
        if name.startswith("note:"):
            extra.append(f"{name[5:]}: {text}")
        else:
            values[name] = text
    if "first_name" not in values and "name" in values:
        first, _, last = values["name"].rpartition(" ")
        values["first_name"], values["last_name"] = (first, last) if first else (last, "")
    if "middle_name" in values:
        middle = values.pop("middle_name")
        values["first_name"] = f"{values['first_name']} {middle}" if "first_name" in values else middle
    if "location" not in values:
        place = [values[k] for k in ("city", "state", "country") if k in values]
        if place:
            values["location"] = ", ".join(place)
    if isinstance(values.get("tags"), str):
        values["tags"] = split_tags(values["tags"])
    for name in ("linkedin_url", "website"):
        if name in values:
            values[name] = web_address(values[name])
    link = values.get("linkedin_url", "")
    if "://" in link and "linkedin.com" not in link.lower():  # a Google profile, a home page
        values.setdefault("website", values.pop("linkedin_url"))
    if "website" in values and "linkedin_url" not in values and is_linkedin_profile(values["website"]):
        values["linkedin_url"] = values.pop("website")
    if extra:
        values["notes"] = "\n".join([values["notes"], *extra] if "notes" in values else extra)
    fields = TARGET_FIELDS[target]
    return values if values.keys() <= fields else {k: v for k, v in values.items() if k in fields}


def _directory_mapped(record: dict[str, Any]) -> dict[str, Any]:
    """A directory row's values: what ``check_directory`` reads a column at a time, row by row."""
    values: dict[str, Any] = {}
    for name, text in record.items():
        text = str(text).strip()
        if text and not name.startswith(("__", "note:")):
            values[name] = revive(text) if text[0] == "'" else text
    if "first_name" not in values and "name" in values:
        first, _, last = values["name"].rpartition(" ")
        values["first_name"], values["last_name"] = (first, last) if first else (last, "")
    place = [values[k] for k in ("city", "state", "country") if k in values]
    if "location" not in values and place:
        values["location"] = ", ".join(place)
    fields = TARGET_FIELDS["directory"]
    return values if values.keys() <= fields else {k: v for k, v in values.items() if k in fields}


def check(record: dict[str, Any], target: str,
          defaults: dict[str, str]) -> tuple[Any, list[tuple[str, str, str]]]:
    """The checked row (a directory entry's values, or a ContactIn), or its problems as
    (field, value, message)."""
    if target == "contacts":
        contact, problems, _ = check_contact(record, defaults)
        return contact, problems
    if "__problem__" in record:
        return None, [("", "", record["__problem__"])]
    values = mapped(record, target, defaults)
    if "first_name" not in values:
        about = "" if values else " (the row is empty)"
        return None, [("first_name", "", f"A name is needed: this row has none{about}.")]
    entry, problems = rules.clean(values)
    return (None, problems) if problems else (entry, [])


# A row keeps what is good: a value in one of these that cannot be used is left out (with a
# warning), and the rest of the row goes in.
REQUIRED = {"first_name"}
Problem = tuple[str, str, str]  # field, value, message


def check_contact(record: dict[str, Any], defaults: dict[str, str], guarded: bool = True
                  ) -> tuple[ContactIn | None, list[Problem], list[Problem]]:
    """A row for a student's contacts: the contact, or why the row cannot be one; and the
    warnings (values left out, the row still goes in)."""
    if "__problem__" in record:
        return None, [("", "", str(record["__problem__"]))], []
    warnings: list[Problem] = [(str(f), str(v), str(m)) for f, v, m in record.get("__warnings__", ())]
    values = mapped(record, "contacts", defaults, guarded)
    if values.get("phone") and not any(c.isdigit() for c in values["phone"]):
        warnings.append(("phone", values.pop("phone")[:200], "This is not a phone number: left out."))
    unnamed = "first_name" not in values
    values.setdefault("first_name", "?")  # named below, from what is usable in the row
    contact, problems = _usable(values, warnings)
    if contact is None or not unnamed:
        return contact, problems, warnings
    named = _named_by_key(values)
    if named is None:  # what was left out is said here: the row does not go in
        about = "; ".join(f"{f.replace('_', ' ')} “{v}” is not usable" for f, v, _ in warnings)
        about = f" ({about})" if about else "" if values.keys() - {*defaults, "first_name"} \
            else " (the row is empty)"
        return None, [("first_name", "", "A name, an email address or a LinkedIn address is "
                                         f"needed: this row has none{about}.")], []
    values["first_name"] = named
    warnings.append(("first_name", "", f"No name in this row: the contact is called “{named}” "
                                       "until you name them."))
    return ContactIn.model_validate(values), [], warnings


def _usable(values: dict[str, Any], warnings: list[Problem]) -> tuple[ContactIn | None, list[Problem]]:
    """The contact from ``values``, leaving out (with a warning) each optional value that cannot
    be used; or, when a required one cannot, the problems."""
    for _ in range(len(TARGET_FIELDS["contacts"])):  # each round leaves out at least one field
        try:
            return ContactIn.model_validate(values), []
        except ValidationError as exc:
            problems: list[Problem] = []
            for error in exc.errors():
                name = field_name(error["loc"])
                top = name.split(".")[0]
                value = values.get(top, "")
                shown = str(value[error["loc"][1]] if top == "tags" and len(error["loc"]) > 1
                            and isinstance(error["loc"][1], int) else value)[:200]
                problems.append((name, shown, field_message(error)))
            if any(p[0].split(".")[0] in REQUIRED for p in problems):
                return None, problems
            for name, shown, message in problems:
                top = name.split(".")[0]
                if top == "tags" and isinstance(values.get("tags"), list):
                    values["tags"] = [t for t in values["tags"] if t != shown and len(t) <= 50][:30]
                else:
                    values.pop(top, None)
                warnings.append((top, shown, f"{message} This value was left out; the rest of "
                                             "the row went in."))
    return None, [("", "", "This row could not be checked.")]  # pragma: no cover


def _named_by_key(values: dict[str, Any]) -> str | None:
    """What to call a contact the file gives no first name for: their one name, the
    organization (a company's own card), their email address or LinkedIn profile's name."""
    if values.get("last_name"):  # someone known by one name
        return str(values.pop("last_name"))
    if values.get("organization_name"):
        return str(values["organization_name"])[:100]
    if values.get("email"):
        return str(values["email"])[:100]
    link = values.get("linkedin_url", "")
    if is_linkedin_profile(link):
        return str(link).rstrip("/").rsplit("/", 1)[-1][:100]
    return None


def contact_values(record: dict[str, Any], defaults: dict[str, str], guarded: bool = True
                   ) -> tuple[dict[str, Any] | None, list[str], list[Problem], list[Problem]]:
    """``check_contact`` for the importer: the contact as plain values (what
    ``model_dump(mode="json")`` gives), the fields the row gave (a default is not the row's
    word), the problems and the warnings. A plain row (the usual one) is checked here without
    the model; any other goes through ``check_contact``, and both give the same."""
    if "__problem__" not in record and "__warnings__" not in record:
        values = mapped(record, "contacts", defaults, guarded)
        plain = _plain(values)
        if plain is not None:
            return plain, sorted(f for f in values if f not in defaults or f in record), [], []
    contact, problems, warnings = check_contact(record, defaults, guarded)
    if contact is None:
        return None, [], problems, warnings
    given = sorted(f for f in contact.model_fields_set if f not in defaults or f in record)
    return contact.model_dump(mode="json"), given, problems, warnings


def _max_length(schema: dict[str, Any]) -> int | None:
    return schema.get("maxLength") or next(
        (s["maxLength"] for s in schema.get("anyOf", ()) if "maxLength" in s), None)


# What ContactIn gives for the fields a row leaves out, and the longest text of each field.
DEFAULTS: dict[str, Any] = ContactIn(first_name="-").model_dump(mode="json")
LIMITS = {name: limit for name, schema in ContactIn.model_json_schema()["properties"].items()
          if (limit := _max_length(schema)) and name != "tags"}
# An address ContactIn takes as it is (anything else is left to it): letters, digits and
# "_+-" before the @, NFC-normalized; no quoting, no special-use or internationalized domain.
# The domain is written in lower case.
PLAIN_EMAIL = re.compile(r"(?P<local>[\w+-]+(?:\.[\w+-]+)*)@(?P<domain>"
                         r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})")
SPECIAL_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
PLAIN_ADDRESS = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#]\S*)?")
STAGES = {stage.value for stage in Stage}
SOURCES = {source.value for source in Source}


def _plain(values: dict[str, Any]) -> dict[str, Any] | None:
    """What ``ContactIn.model_validate(values).model_dump(mode="json")`` gives, for values it
    takes as they are; None for any other (a value it would change, refuse or read)."""
    if not values.get("first_name") or not values.keys() <= PLAIN_FIELDS:
        return None
    for name, value in values.items():
        if name == "tags":
            if type(value) is not list or not all(type(t) is str for t in value):
                return None
            continue
        if not isinstance(value, str) or len(value) > LIMITS.get(name, 320) or "\x00" in value \
                or value != value.strip() or not (value.isascii() or _encodes(value)):
            return None
    plain = {**DEFAULTS, **values, "tags": []}
    if "tags" in values:
        tags = tag_list(values["tags"])
        if len(tags) > 30 or any(len(t) > 50 or not _encodes(t) or "\x00" in t for t in tags):
            return None
        plain["tags"] = tags
    if "email" in values:
        found = PLAIN_EMAIL.fullmatch(values["email"])
        if found is None or len(values["email"].encode()) > 254 or len(found["local"]) > 64 \
                or "--" in found["domain"] \
                or not (found["local"].isascii() or unicodedata.is_normalized("NFC", found["local"])) \
                or found["domain"].lower().rsplit(".", 1)[-1] in SPECIAL_DOMAINS:
            return None
        plain["email"] = f"{found['local']}@{found['domain'].lower()}"
    if "phone" in values and not any(c.isdigit() for c in values["phone"]):
        return None
    for name in ("linkedin_url", "website"):
        if values.get(name) and not PLAIN_ADDRESS.fullmatch(values[name]):
            return None
    if plain["stage"] not in STAGES or plain["source"] not in SOURCES:
        return None
    plain["stage"], plain["source"] = str(plain["stage"]), str(plain["source"])
    return plain


PLAIN_FIELDS = set(LIMITS) - {"organization_id", "referred_by_id"} | {"email", "tags", "stage",
                                                                      "source"}

# --- a batch of directory rows at once ---

UNREAD = object()  # a value the column pass does not read: its row is checked on its own
YEARS: dict[str, Any] = {str(y): y for y in range(rules.FIRST_YEAR, rules.THIS_YEAR + 11)}
ANSWERS: dict[str, Any] = {
    variant: answer for words, answer in ((rules.YES, True), (rules.NO, False))
    for word in words for variant in (word, word.upper(), word.capitalize())}
PATTERNS = {"email": rules.EMAIL, "linkedin_url": rules.WEB_ADDRESS}
# Refused: (line, field, value, message, cells).
Refusal = tuple[int, str, str, str, list[str]]


def check_directory(items: list[tuple[int, dict[str, str], list[str]]]) -> tuple[
        dict[str, list[Any]], list[Refusal]]:
    """``check`` for many directory rows: the values of the rows that pass, a column per field
    (None where a row gives nothing), and the rows refused. The rules are applied a column at a
    time; a row that any rule has a doubt about goes through ``check`` itself, so every row gets
    exactly what ``check`` gives it."""
    records = [record for _, record, _ in items]
    names = set().union(*records)
    doubtful = {i for i, record in enumerate(records) if "__problem__" in record}
    columns: dict[str, list[Any]] = {}
    blank: list[Any] = [None] * len(items)
    for name in names & {*rules.FIELDS, "name", "city", "state", "country"}:
        column: list[Any] = [r.get(name) for r in records]
        if "'" in "".join(filter(None, column)):  # maybe a cell an export made inert
            doubtful.update(i for i, x in enumerate(column) if x and x.lstrip()[:1] == "'")
        columns[name] = [x.strip() or None if x else None for x in column]
    if "name" in columns:  # a whole name to split: the row's own check does it
        first = columns.get("first_name", blank)
        doubtful.update(i for i, (a, b) in enumerate(zip(first, columns.pop("name"), strict=True))
                        if b and not a)
    if {"city", "state", "country"} & columns.keys():
        places = zip(columns.get("location", blank), columns.pop("city", blank),
                     columns.pop("state", blank), columns.pop("country", blank), strict=True)
        columns["location"] = [x or ", ".join([p for p in (c, s, n) if p]) or None
                               for x, c, s, n in places]
    for name in rules.FIELDS:
        column = columns.setdefault(name, blank.copy())
        if name == "graduation_year":
            column[:] = [YEARS.get(x, UNREAD) if x else None for x in column]
            doubtful.update(i for i, x in enumerate(column) if x is UNREAD)
        elif name == "accepts_requests":
            column[:] = [ANSWERS.get(x, UNREAD) if x else None for x in column]
            doubtful.update(i for i, x in enumerate(column) if x is UNREAD)
        else:
            given = [x for x in column if x]
            text = "".join(given)
            limit = rules.LIMITS[name]
            pattern = PATTERNS.get(name)
            if ("\x00" in text or not (text.isascii() or _encodes(text))
                    or max(map(len, given), default=0) > limit
                    or (pattern and not all(map(pattern.fullmatch, given)))):
                doubtful.update(i for i, x in enumerate(column) if x and (
                    "\x00" in x or len(x) > limit or not _encodes(x)
                    or (pattern and not pattern.fullmatch(x))))
            if name == "first_name":
                doubtful.update(i for i, x in enumerate(column) if not x)
    refused: list[Refusal] = []
    dropped = []
    for i in sorted(doubtful):
        line, record, cells = items[i]
        entry, problems = check(record, "directory", {})
        if problems:
            refused.extend((line, f, v, m, cells) for f, v, m in problems)
            dropped.append(i)
            continue
        for name, column in columns.items():
            value = entry.get(name)
            column[i] = None if value == "" else value
    if dropped:
        gone = set(dropped)
        keep = [i for i in range(len(items)) if i not in gone]
        columns = {name: [column[i] for i in keep] for name, column in columns.items()}
    return columns, refused


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
