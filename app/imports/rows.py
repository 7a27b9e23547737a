"""One record of a file, checked as the API would check it: the values to write, or what is
wrong with it, field by field."""

from typing import Any

from pydantic import ValidationError

from app.contacts.export import revive
from app.contacts.schemas import ContactIn
from app.directory import rules
from app.errors import field_message, field_name

# The fields each target takes from a file (a column mapped elsewhere is ignored).
TARGET_FIELDS = {
    "directory": set(rules.FIELDS),
    "contacts": set(ContactIn.model_fields) - {"organization_id", "referred_by_id"},
}


def destination(name: str, target: str) -> str:
    """Where a column recognised as ``name`` ends up in the target ("" when nowhere)."""
    if name in {"city", "state"}:
        return "location"
    if name == "name":
        return "first_name last_name"
    return name if name in TARGET_FIELDS[target] else ""


def mapped(record: dict[str, str], target: str,
           defaults: dict[str, str] | None = None) -> dict[str, Any]:
    """The record's text under the target's field names (names split, city and state joined)."""
    values: dict[str, Any] = dict(defaults) if defaults else {}
    for name, text in record.items():
        text = text.strip()
        if text:  # a cell an export made inert, as it was
            values[name] = revive(text) if text[0] == "'" else text
    if "first_name" not in values and "name" in values:
        first, _, last = values["name"].rpartition(" ")
        values["first_name"], values["last_name"] = (first, last) if first else (last, "")
    if "location" not in values and ("city" in values or "state" in values):
        values["location"] = ", ".join(values[k] for k in ("city", "state") if k in values)
    if target == "contacts" and "tags" in values:
        values["tags"] = values["tags"].split(",")
    fields = TARGET_FIELDS[target]
    return values if values.keys() <= fields else {k: v for k, v in values.items() if k in fields}


def check(record: dict[str, str], target: str,
          defaults: dict[str, str]) -> tuple[Any, list[tuple[str, str, str]]]:
    """The checked row (a directory entry's values, or a ContactIn), or its problems as
    (field, value, message)."""
    if "__problem__" in record:
        return None, [("", "", record["__problem__"])]
    values = mapped(record, target, defaults)
    if "first_name" not in values:
        about = "" if values else " (the row is empty)"
        return None, [("first_name", "", f"A name is needed: this row has none{about}.")]
    if target == "directory":
        entry, problems = rules.clean(values)
        return (None, problems) if problems else (entry, [])
    try:
        return ContactIn.model_validate(values), []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = field_name(error["loc"])
            value = values.get(name.split(".")[0], "")
            problems.append((name, str(value)[:200], field_message(error)))
        return None, problems


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
    for name in names & {*rules.FIELDS, "name", "city", "state"}:
        column: list[Any] = [r.get(name) for r in records]
        if "'" in "".join(filter(None, column)):  # maybe a cell an export made inert
            doubtful.update(i for i, x in enumerate(column) if x and x.lstrip()[:1] == "'")
        columns[name] = [x.strip() or None if x else None for x in column]
    if "name" in columns:  # a whole name to split: the row's own check does it
        first = columns.get("first_name", blank)
        doubtful.update(i for i, (a, b) in enumerate(zip(first, columns.pop("name"), strict=True))
                        if b and not a)
    if "city" in columns or "state" in columns:
        places = zip(columns.get("location", blank), columns.pop("city", blank),
                     columns.pop("state", blank), strict=True)
        columns["location"] = [x or ", ".join([p for p in (c, s) if p]) or None
                               for x, c, s in places]
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
