r"""Reading vCard files (2.1, 3.0 and 4.0) as the programs that write them really do.

The file is read as bytes, card by card and property by property, so that one thing that cannot
be read costs only that thing:

- a property that does not decode (an unknown or wrong ``CHARSET``, broken base64) is left out
  with a warning naming the field; the rest of the card goes in;
- a card that yields nothing readable is a row error naming its line; the cards before and after
  still go in; a last card cut short (no ``END:VCARD``) gives what it holds, with a warning;
- a nested ``AGENT`` card (2.1) is skipped whole, and ``PHOTO``, ``LOGO``, ``SOUND`` and ``KEY``
  values are never decoded (we do not use them, and their base64 is often broken);
- properties we have no use for (``PROFILE:VCard`` from Lotus Notes, ``X-MS-…``…) are ignored;
- a contact group (``KIND:group``) is not a person: it is a row error, not a contact.

What the writers do that a strict reader refuses:

- vCard 2.1 quoted-printable with soft line breaks (``=`` at the end of a line), even inside a
  multi-byte UTF-8 character: the quoted-printable is undone to bytes first, then the bytes are
  decoded in the property's ``CHARSET`` (else the file's encoding);
- unescaped commas and semicolons in single-value text (``TITLE:Vice President, Global
  Markets``): only the structured properties (N, ADR, ORG) are split, on unescaped ``;``;
- 2.1 base64 lines that go on without the folding space, up to a blank line;
- 2.1 bare parameters (``TEL;CELL;PREF:``), ``TYPE=a,b``, quoted parameter values, lower-case
  names, grouped properties (``item1.EMAIL``) labelled by ``item1.X-ABLabel``.

A card becomes one record (see app/imports/rows.py): the preferred email and phone (``PREF=1``,
``TYPE=pref`` or a bare ``PREF``, else the first) are the contact's, the others are kept as notes
(``note:Mobile phone``…); a LinkedIn profile address goes to linkedin_url, other web addresses to
website; an Apple company card (``X-ABShowAs:COMPANY``) or a 4.0 ``KIND:org`` is named after its
organization. What our own export writes as ``X-RAPPORT-…`` comes back into its field.
"""

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.imports import reading
from app.imports.rows import is_linkedin_profile

Record = tuple[int, dict[str, Any], list[str]]

_PHYSICAL_LINE = re.compile(rb"\r\n|\n|\r")
# In a property's name and parameters: quoted-printable, or base64 (whose 2.1 lines may go on
# without the space that folds them).
_QUOTED_PRINTABLE = re.compile(rb";\s*(?:ENCODING\s*=\s*(?:QUOTED-PRINTABLE|QP)|QUOTED-PRINTABLE)\s*[;:]",
                               re.I)
_BASE64 = re.compile(rb";\s*(?:ENCODING\s*=\s*(?:BASE64|B)|BASE64)\s*[;:]", re.I)
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/=]+")
_BOUNDARIES = {b"BEGIN:VCARD", b"END:VCARD"}
_ESCAPE = re.compile(r"\\(.)", re.S)
# The properties a record is made of; any other (PHOTO, LOGO, SOUND, KEY among them) is ignored
# without being decoded.
USED = {"FN", "N", "NICKNAME", "ORG", "TITLE", "ROLE", "NOTE", "EMAIL", "TEL", "URL", "ADR",
        "LABEL", "CATEGORIES", "BDAY", "X-SOCIALPROFILE", "X-ABLABEL", "X-ABSHOWAS", "KIND",
        "X-ADDRESSBOOKSERVER-KIND"}
# What our own vCard export writes as X-RAPPORT-… (X-RAPPORT-HOW-WE-MET: how_we_met), read back.
RAPPORT_FIELDS = {"source", "stage", "how_we_met", "referrer_name", "next_action", "next_action_at",
                  "external_id", "industry"}
# Where a property's value goes, to name the field in a warning.
FIELD_OF = {"FN": "name", "N": "name", "ORG": "organization_name", "TITLE": "title",
            "ROLE": "title", "NOTE": "notes", "EMAIL": "email", "TEL": "phone", "URL": "website",
            "ADR": "location", "LABEL": "location", "CATEGORIES": "tags",
            "X-SOCIALPROFILE": "linkedin_url"}
NO_PREFERENCE = 100


class Unreadable(Exception):
    """A property whose value cannot be decoded; the message says why."""


@dataclass
class Property:
    line: int
    group: str
    name: str  # upper case, without the group
    value: bytes  # as written: still escaped, quoted-printable or base64
    types: set[str] = field(default_factory=set)  # lower case
    rank: int = NO_PREFERENCE  # 1 is the most preferred
    charset: str = ""
    encoding: str = ""  # upper case: QUOTED-PRINTABLE, QP, BASE64, B, 8BIT…


@dataclass
class Card:
    line: int  # the line of its BEGIN:VCARD
    lines: list[tuple[int, bytes]] = field(default_factory=list)
    ended: bool = False


def read_vcards(data: bytes, encoding: str) -> Iterator[Record]:
    """One (line, record, cells) per card of the file; ``encoding`` (the file's detected
    encoding) decodes every property that names no ``CHARSET`` of its own."""
    data, encoding, own_charsets = _as_bytes_per_line(data, encoding)
    found = False
    for card in _cards(_logical_lines(data)):
        found = True
        yield _read_card(card, encoding, own_charsets)
    if not found:
        raise reading.FileProblem("No vCard was found in this file (each starts with BEGIN:VCARD).")


def _as_bytes_per_line(data: bytes, encoding: str) -> tuple[bytes, str, bool]:
    """The file as bytes that can be cut at line ends: a UTF-16 file is read as text and
    written again as UTF-8 (whose CHARSET parameters then no longer apply)."""
    encoding = encoding if _known(encoding) else "utf-8"
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32")):
        return data.decode(encoding, errors="replace").lstrip("\ufeff").encode(), "utf-8", False
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    return data, ("utf-8" if name == "utf-8-sig" else encoding), True


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def _logical_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Each property on one line, with the number of the line it starts on: folded lines
    (a line end then a space or tab) joined, quoted-printable soft line breaks (a line ending
    in ``=``) joined without the ``=``, and base64 lines that go on without a fold."""
    start, parts, encoding = 0, list[bytes](), ""
    for number, line in enumerate(_PHYSICAL_LINE.split(data), start=1):
        if parts and encoding == "qp" and parts[-1].endswith(b"=") \
                and line.strip().upper() not in _BOUNDARIES:
            parts[-1] = parts[-1][:-1]
            parts.append(line)  # a soft break's next line is taken as it is
        elif parts and line[:1] in (b" ", b"\t"):
            parts.append(line[1:])
        elif parts and encoding == "base64" and _BASE64_LINE.fullmatch(line):
            parts.append(line)
        else:
            if parts:
                yield start, b"".join(parts)
            start, parts = number, [line]
            colon = _colon(line)
            head = (line[:colon] if colon >= 0 else line) + b":"
            encoding = ("qp" if _QUOTED_PRINTABLE.search(head) else
                        "base64" if _BASE64.search(head) else "")
    if parts:
        yield start, b"".join(parts)


def _cards(lines: Iterable[tuple[int, bytes]]) -> Iterator[Card]:
    """The cards of the file, with their property lines; text outside cards is ignored. A card
    that a new BEGIN:VCARD interrupts (other than a 2.1 AGENT's) is taken as cut short."""
    card: Card | None = None
    nested = 0  # depth inside an AGENT's own card
    for number, text in lines:
        word = text.strip().upper()
        if card is None:
            if word == b"BEGIN:VCARD":
                card = Card(number)
            continue
        if nested:
            nested += (word == b"BEGIN:VCARD") - (word == b"END:VCARD")
            continue
        if word == b"END:VCARD":
            card.ended = True
            yield card
            card = None
        elif word == b"BEGIN:VCARD":
            if card.lines and _name_of(card.lines[-1][1]) == "AGENT":
                nested = 1
                continue
            yield card
            card = Card(number)
        else:
            card.lines.append((number, text))
            if _name_of(text) == "AGENT" and text.split(b":", 1)[-1].strip().upper() == b"BEGIN:VCARD":
                nested = 1  # AGENT:BEGIN:VCARD, the agent's card on the lines that follow
    if card is not None:
        yield card


def _name_of(text: bytes) -> str:
    head = text.split(b":", 1)[0].split(b";", 1)[0]
    return head.rsplit(b".", 1)[-1].strip().upper().decode("ascii", errors="replace")


def _split_quoted(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside double quotes."""
    if '"' not in text:
        return text.split(separator)
    parts, current, quoted = [], list[str](), False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _colon(text: bytes) -> int:
    """Where the value starts: the first colon outside a quoted parameter (-1: none)."""
    first = text.find(b":")
    if first < 0 or b'"' not in text[:first]:
        return first
    quoted = False
    for index, byte in enumerate(text):
        if byte == 0x22:  # a double quote
            quoted = not quoted
        elif byte == 0x3A and not quoted:
            return index
    return -1


def _property(number: int, text: bytes) -> Property | None:
    """A property line parsed into its name, parameters and undecoded value (None: no colon)."""
    index = _colon(text)
    if index < 0:
        return None
    head = _split_quoted(text[:index].decode("utf-8", errors="replace"), ";")
    group, _, name = head[0].strip().rpartition(".")
    prop = Property(number, group.lower(), name.upper(), text[index + 1:])
    for parameter in head[1:]:
        key, equals, value = parameter.partition("=")
        key, value = key.strip().upper(), value.strip().strip('"').strip()
        if not equals:  # 2.1: a bare type (CELL, PREF) or encoding
            key, value = ("ENCODING", key) if key in {"QUOTED-PRINTABLE", "BASE64", "8BIT", "7BIT"} \
                else ("TYPE", key)
        if key == "TYPE":
            prop.types.update(t.strip().strip('"').lower() for t in value.split(",") if t.strip())
        elif key == "PREF":
            prop.rank = int(value) if value.isdigit() and int(value) > 0 else 1
        elif key == "CHARSET":
            prop.charset = value
        elif key == "ENCODING":
            prop.encoding = value.upper()
    if "pref" in prop.types:
        prop.rank = min(prop.rank, 1)
    return prop


def _decode(prop: Property, encoding: str, own_charsets: bool) -> str:
    """The property's value as text, still escaped as the file wrote it."""
    raw = prop.value
    if prop.encoding in {"QUOTED-PRINTABLE", "QP"}:
        raw = binascii.a2b_qp(raw)
    elif prop.encoding in {"BASE64", "B"}:
        try:
            raw = base64.b64decode(b"".join(raw.split()), validate=False)
        except (binascii.Error, ValueError):
            raise Unreadable("its base64 does not decode") from None
    charsets = [prop.charset] if own_charsets and prop.charset and _known(prop.charset) else []
    for charset in [*charsets, encoding]:
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    named = f"“{prop.charset}”" if prop.charset else "the file's encoding"
    raise Unreadable(f"it is not valid text in {named}")


def _unescape(text: str, old: bool) -> str:
    r"""RFC 6350 escapes undone (``\n`` ``\,`` ``\;`` ``\\``); in 2.1 (``old``), where the
    backslash is no escape, only ``\;`` and ``\,``."""
    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if old:
            return char if char in ";," else match.group(0)
        if char in "nN":
            return "\n"
        return char if char in ",;\\:" else match.group(0)

    return _ESCAPE.sub(one, text) if "\\" in text else text


def _split(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` where no backslash escapes it (escapes are kept)."""
    if "\\" not in text:
        return text.split(separator)
    parts, current, index = [], list[str](), 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index:index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


@dataclass
class Value:
    """A property that was read: its text (still escaped) and where it came from."""

    prop: Property
    text: str


class CardReader:
    """What one card says, property by property, and what could not be read."""

    def __init__(self, card: Card, encoding: str, own_charsets: bool) -> None:
        self.card = card
        self.values: dict[str, list[Value]] = {}
        self.warnings: list[list[str]] = []
        self.read: list[Value] = []  # in file order, for the cells
        for number, text in card.lines:
            self._read_line(number, text, encoding, own_charsets)
        self.old = any(v.text.strip() == "2.1" for v in self.values.get("VERSION", []))  # vCard 2.1
        # The card as a person reads it, for the CSV of rows that did not go in.
        self.cells = [f"{v.prop.name}: {self.text(v)}"[:1000] for v in self.read]
        self.labels = {v.prop.group: _label_text(self.text(v)) for v in self.values.get("X-ABLABEL", [])
                       if v.prop.group}

    def _read_line(self, number: int, text: bytes, encoding: str, own_charsets: bool) -> None:
        prop = _property(number, text)
        if prop is None:
            if text.strip():
                self.warnings.append(["", _shown(text), f"Line {number} is not a vCard property "
                                                        "(it has no “:”): left out."])
            return
        if prop.name not in USED and prop.name != "VERSION" and _rapport_field(prop.name) is None:
            return  # PHOTO, PROFILE, X-MS-… and anything else we have no use for
        try:
            value = Value(prop, _decode(prop, encoding, own_charsets))
        except Unreadable as exc:
            field = _rapport_field(prop.name) or FIELD_OF.get(prop.name, prop.name.lower())
            self.warnings.append([field, _shown(prop.value),
                                  f"{prop.name} on line {number} cannot be read: {exc}. "
                                  "It was left out."])
            return
        self.values.setdefault(prop.name, []).append(value)
        if prop.name not in {"VERSION", "X-ABLABEL", "X-ABSHOWAS", "KIND", "X-ADDRESSBOOKSERVER-KIND"}:
            self.read.append(value)

    def plain(self, text: str) -> str:
        """Escaped text as a person reads it (line ends as ``\n``)."""
        return _unescape(text, self.old).replace("\r\n", "\n").replace("\r", "\n").strip()

    def text(self, value: Value) -> str:
        """A single-value property's text: commas and semicolons are part of it."""
        return self.plain(value.text)

    def components(self, value: Value, count: int) -> list[str]:
        """A structured property's components (at least ``count``), split on unescaped ``;``
        and still escaped."""
        parts = _split(value.text, ";")
        return parts + [""] * (count - len(parts))

    def parts(self, value: Value, count: int) -> list[str]:
        """A structured property's components as text."""
        return [self.plain(p) for p in self.components(value, count)]

    def listed(self, component: str, joiner: str) -> str:
        """A component that may list several values (``Jr.,M.D.``), joined for reading."""
        return joiner.join(t for t in (self.plain(p) for p in _split(component, ",")) if t)

    def all(self, name: str) -> list[Value]:
        return self.values.get(name, [])

    def first(self, name: str) -> str:
        texts = [t for t in map(self.text, self.all(name)) if t]
        return texts[0] if texts else ""


def _shown(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:100]


def _label_text(text: str) -> str:
    """An Apple label as a person reads it: ``_$!<HomePage>!$_`` → "Home page"."""
    inner = re.sub(r"^_\$!<(.*)>!\$_$", r"\1", text.strip())
    if inner != text.strip():
        inner = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", inner).capitalize()
    return inner


def _read_card(card: Card, encoding: str, own_charsets: bool) -> Record:
    try:
        reader = CardReader(card, encoding, own_charsets)
        record = _record(reader)
    except Exception as exc:  # a card we cannot make sense of costs that card, never the file
        problem = f"the card starting on line {card.line} cannot be read ({type(exc).__name__})"
        return card.line, {"__problem__": problem}, [_shown(t) for _, t in card.lines[:50]]
    if "group" in (reader.first("KIND").lower(), reader.first("X-ADDRESSBOOKSERVER-KIND").lower()):
        return card.line, {"__problem__": f"the card starting on line {card.line} is a contact group "
                                          f"(“{reader.first('FN')}”), not a person: it was left out"}, \
            reader.cells
    warnings = reader.warnings
    if not card.ended:
        warnings.append(["", "", "This card has no END:VCARD (the file may be cut short): "
                                 "what it holds was read."])
    if warnings and not record:
        reason = warnings[0][2]
        return card.line, {"__problem__": f"the card starting on line {card.line} cannot be read: "
                                          f"{reason}"}, reader.cells
    if warnings:
        record["__warnings__"] = warnings
    return card.line, record, reader.cells


def _record(card: CardReader) -> dict[str, Any]:
    record: dict[str, Any] = {}
    _names(card, record)
    _emails_and_phones(card, record)
    _web(card, record)
    _place(card, record)
    title, role = card.first("TITLE"), card.first("ROLE")
    if title or role:
        record["title"] = title or role
    if title and role:
        record["note:Role"] = role
    notes = [t for t in map(card.text, card.all("NOTE")) if t]
    if notes:
        record["notes"] = "\n".join(notes)
    tags = [card.plain(t) for v in card.all("CATEGORIES") for t in _split(v.text, ",")]
    if any(tags):
        record["tags"] = [t for t in tags if t]
    for name, label in (("NICKNAME", "Nickname"), ("BDAY", "Birthday")):
        if card.first(name):
            record[f"note:{label}"] = card.first(name)
    for name in card.values:
        field = _rapport_field(name)
        if field and card.first(name):
            record[field] = card.first(name)
    return record


def _names(card: CardReader, record: dict[str, Any]) -> None:
    """N (family; given; additional; prefixes; suffixes), else FN; ORG and its departments; a
    company's own card named after the company."""
    family = given = additional = prefix = suffix = ""
    for value in card.all("N"):
        raw = card.components(value, 5)
        if card.old:  # 2.1 has no lists: a comma in a name is the name's
            family, given = card.plain(raw[0]), card.plain(raw[1])
        else:
            family, given = card.listed(raw[0], " "), card.listed(raw[1], " ")
        additional, prefix = card.listed(raw[2], " "), card.listed(raw[3], " ")
        suffix = card.listed(raw[4], ", ")
        if family or given:
            break
    full = card.first("FN")
    organizations = [card.parts(v, 1) for v in card.all("ORG")]
    organizations = [parts for parts in organizations if any(parts)]
    if organizations:
        record["organization_name"] = organizations[0][0] or next(p for p in organizations[0] if p)
        departments = [p for p in organizations[0][1:] if p and p != record["organization_name"]]
        if departments:
            record["note:Department"] = ", ".join(departments)
        others = [p[0] for p in organizations[1:] if p[0]]
        if others:
            record["note:Other organization"] = ", ".join(others)
    person = " ".join(p for p in (prefix, given, additional, family, suffix) if p)
    if _is_company(card) and organizations:
        record["first_name"] = record["organization_name"]
        if person:  # Apple keeps the person's name on a company card: not lost
            record["note:Contact person"] = person
        return
    if given:
        record["first_name"] = given
        if family:
            record["last_name"] = family
        if additional:
            record["middle_name"] = additional
        if full and not _words(full) <= _words(person):  # "Maxl" for Max Mustermann
            record["note:Display name"] = full
    elif full or family:
        record["name"] = full or family
    if prefix:
        record["note:Honorific"] = prefix
    if suffix:
        record["note:Suffix"] = suffix


def _rapport_field(name: str) -> str | None:
    field = name.removeprefix("X-RAPPORT-").lower().replace("-", "_")
    return field if name.startswith("X-RAPPORT-") and field in RAPPORT_FIELDS else None


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _is_company(card: CardReader) -> bool:
    return (card.first("X-ABSHOWAS").upper() == "COMPANY"
            or card.first("KIND").lower() in {"org", "organization"})


def _preferred(values: list[Value], text: Callable[[Value], str],
               penalty: Callable[[Value], bool] = lambda v: False) -> list[tuple[Value, str]]:
    """The values that have text: the preferred one first (by PREF, then ``penalty``, then file
    order), then the others in file order."""
    found = [(v, t) for v in values if (t := text(v))]
    if not found:
        return []
    best = min(found, key=lambda item: (item[0].prop.rank, penalty(item[0])))
    return [best, *(item for item in found if item is not best)]


def _emails_and_phones(card: CardReader, record: dict[str, Any]) -> None:
    emails = _preferred(card.all("EMAIL"), lambda v: re.sub(r"(?i)^mailto:", "", card.text(v)))
    phones = _preferred(card.all("TEL"), lambda v: re.sub(r"(?i)^tel:", "", card.text(v)),
                        lambda v: bool(v.prop.types & {"fax", "pager"}))
    for key, found, label in (("email", emails, _email_label), ("phone", phones, _phone_label)):
        if not found:
            continue
        record[key] = found[0][1]
        for value, text in found[1:]:
            _add_note(record, label(value, card.labels.get(value.prop.group, "")), text)


def _add_note(record: dict[str, Any], label: str, text: str) -> None:
    key = f"note:{label}"
    record[key] = f"{record[key]}, {text}" if key in record else text


def _email_label(value: Value, label: str) -> str:
    if label:
        return label if "mail" in label.lower() else f"{label} email"
    types = value.prop.types
    return "Work email" if "work" in types else "Home email" if "home" in types else "Other email"


def _phone_label(value: Value, label: str) -> str:
    if label:
        return label if re.search(r"phone|fax|pager", label, re.I) else f"{label} phone"
    types = value.prop.types
    if types & {"cell", "mobile"}:
        return "Mobile phone"
    if "fax" in types:
        return "Work fax" if "work" in types else "Home fax" if "home" in types else "Fax"
    if "pager" in types:
        return "Pager"
    for kind in ("work", "home", "main"):
        if kind in types:
            return f"{kind.capitalize()} phone"
    return "Other phone"


def _web(card: CardReader, record: dict[str, Any]) -> None:
    """A LinkedIn profile to linkedin_url, the first other address (preferred first) to
    website, the rest to the notes."""
    addresses = [t for _, t in _preferred(card.all("URL"), card.text)]
    for value in card.all("X-SOCIALPROFILE"):
        text = card.text(value)
        if "linkedin" in value.prop.types and is_linkedin_profile(text):
            addresses.insert(0, text)
    for address in addresses:
        if is_linkedin_profile(address) and "linkedin_url" not in record:
            record["linkedin_url"] = address
        elif "website" not in record:
            record["website"] = address
        elif address not in (record["website"], record.get("linkedin_url")):
            _add_note(record, "Web page", address)


def _place(card: CardReader, record: dict[str, Any]) -> None:
    """City, region and country of the preferred address (ADR), else the LABEL's text."""
    for value, _ in _preferred(card.all("ADR"), lambda v: v.text.replace(";", "").strip()):
        _, _, _, city, region, _, country = card.parts(value, 7)[:7]
        for key, text in (("city", city), ("state", region), ("country", country)):
            if text:
                record[key] = text.replace("\n", " ")
        return
    label = card.first("LABEL")
    if label:
        record["location"] = ", ".join(p.strip() for p in label.splitlines() if p.strip())
