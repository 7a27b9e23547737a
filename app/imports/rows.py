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
