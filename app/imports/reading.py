"""Reading the files people really have: detecting the encoding and the format, mapping the
columns, and yielding each record with the line number a spreadsheet user sees.

Nothing here touches the database. A record is a dict of our field names to the text found, and
the raw cells (for the CSV of failed rows)."""

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from charset_normalizer import from_bytes

SAMPLE_BYTES = 64 * 1024
MAX_COLUMNS = 500
MAX_FIELD = 131_072  # characters in one cell
FORMATS = ("csv", "linkedin", "google", "vcard", "json")

csv.field_size_limit(MAX_FIELD)


class FileProblem(Exception):
    """The file as a whole cannot be read; ``line`` says where, when it is known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# Our fields, and the column names people use for them (compared without case, spaces or
# punctuation). Our own field names always match.
ALIASES: dict[str, list[str]] = {
    "first_name": ["first name", "firstname", "given name", "first", "forename"],
    "last_name": ["last name", "lastname", "surname", "family name", "last"],
    "name": ["name", "full name", "display name", "fn"],
    "email": ["email", "e-mail", "email address", "e-mail address", "preferred email",
              "primary email", "work email", "e-mail 1 - value", "email 1 - value", "mail"],
    "phone": ["phone", "phone number", "mobile", "cell", "telephone", "tel", "phone 1 - value"],
    "title": ["title", "job title", "position", "organization title", "role", "job"],
    "organization_name": ["organization", "organisation", "company", "employer", "company name",
                          "organization name", "organisation name", "org"],
    "industry": ["industry", "sector"],
    "location": ["location", "address", "based in"],
    "city": ["city", "town"],
    "state": ["state", "region", "province", "country"],
    "linkedin_url": ["linkedin", "linkedin url", "linkedin profile", "profile url", "url",
                     "website 1 - value"],
    "graduation_year": ["class year", "graduation year", "grad year", "class of", "year"],
    "degree": ["degree"],
    "major": ["major", "program", "field of study", "programme"],
    "external_id": ["constituent id", "external id", "alumni id", "record id", "id"],
    "accepts_requests": ["contact opt-in", "accepts requests", "opt in", "opt-in",
                         "accepting requests"],
    "notes": ["notes", "note", "comments", "comment"],
    "tags": ["tags", "labels", "categories", "groups", "group membership"],
    "source": ["source"],
    "stage": ["stage"],
    "how_we_met": ["how we met", "how_we_met", "met"],
    "referrer_name": ["referrer name", "referred by", "referrer"],
    "next_action": ["next action", "next step"],
    "next_action_at": ["next action at", "next step date"],
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_LOOKUP = {_key(alias): name for name, aliases in ALIASES.items()
           for alias in [name, *aliases]}


def auto_mapping(header: list[str]) -> dict[int, str]:
    """Column index → our field, for the columns we recognise (the first of each wins)."""
    mapping: dict[int, str] = {}
    for index, column in enumerate(header):
        name = _LOOKUP.get(_key(column))
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


@dataclass
class Source:
    """An opened file: its detected format and encoding, the header and the mapping."""

    format: str
    encoding: str
    header: list[str] = field(default_factory=list)
    mapping: dict[int, str] = field(default_factory=dict)
    records: Iterator[tuple[int, dict[str, Any], list[str]]] = field(default_factory=lambda: iter(()))
    # Kept while the source lives: a text wrapper that is let go closes the file under it.
    stream: io.TextIOWrapper | None = None

    def release(self) -> None:
        """Let go of the file without closing it (the caller opened it)."""
        if self.stream is not None:
            self.stream.detach()
            self.stream = None


def detect_encoding(sample: bytes) -> str:
    if not sample.strip():
        raise FileProblem("The file is empty.")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        # UTF-16 without a byte-order mark has a NUL in every other byte; anything else with
        # NULs is not text.
        zeros = sample[1::2].count(0) / max(len(sample) // 2, 1)
        if zeros > 0.9:
            return "utf-16-le"
        zeros = sample[0::2].count(0) / max(len(sample) // 2, 1)
        if zeros > 0.9:
            return "utf-16-be"
        raise FileProblem("This is not a text file (it contains binary data). Export a CSV, "
                          "vCard or JSON file and upload that.")
    try:
        # A sample may end inside a character: decode what is whole.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_8", "cp1250", "mac_roman"]).best()
    if best is None:
        raise FileProblem("This is not a text file we can read. Save it as UTF-8 CSV and try "
                          "again.")
    return "cp1252" if best.encoding in {"latin_1", "iso8859_1", "ascii"} else best.encoding


def detect_format(text_start: str, filename: str = "") -> str:
    start = text_start.lstrip("\ufeff \t\r\n")
    lowered = filename.lower()
    if start[:11].upper() == "BEGIN:VCARD" or lowered.endswith((".vcf", ".vcard")):
        return "vcard"
    if start[:1] in {"[", "{"} or lowered.endswith((".json", ".jsonl", ".ndjson")):
        return "json"
    first_lines = start[:4096].splitlines()
    if first_lines and first_lines[0].strip().lower().startswith("notes:"):
        return "linkedin"
    header = first_lines[0] if first_lines else ""
    if "E-mail 1 - Value" in header or ("Given Name" in header and "Group Membership" in header):
        return "google"
    if header.startswith("First Name,Last Name,URL,Email Address"):
        return "linkedin"
    return "csv"


def open_source(binary: IO[bytes], fmt: str = "auto", filename: str = "",
                mapping: dict[str, str] | None = None,
                utf8_throughout: bool | None = None) -> Source:
    """Open an uploaded file. ``mapping`` (column name → our field) overrides the guesses;
    ``utf8_throughout`` says whether the whole file was found to be UTF-8."""
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    encoding = detect_encoding(sample)
    if encoding == "utf-8" and utf8_throughout is False:
        encoding = "cp1252"  # plain text at first, then a Windows "é" further down
    text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
    try:
        start = sample.decode(encoding, errors="ignore")
    except LookupError:  # pragma: no cover - encodings come from the list above
        start = ""
    if fmt == "auto":
        fmt = detect_format(start, filename)
    if fmt not in FORMATS:
        raise FileProblem(f"Unknown format “{fmt}”. Use one of: auto, {', '.join(FORMATS)}.")
    source = Source(format=fmt, encoding=encoding, stream=text)
    if fmt in {"csv", "linkedin", "google"}:
        _open_csv(source, text, mapping)
    elif fmt == "vcard":
        from app.imports.vcard import read_vcards  # imported here: vcard.py imports this module

        source.records = read_vcards(binary.read(), encoding)
    else:
        source.records = _json_records(text)
    return source


def _delimiter(header_line: str) -> str:
    """The header's separator: the most frequent of comma, semicolon, tab and bar."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(source: Source, text: IO[str], mapping: dict[str, str] | None) -> None:
    skipped = 0
    try:
        if source.format == "linkedin":
            # LinkedIn puts a few lines of notes before the header: skip to "First Name,…".
            while True:
                line = text.readline()
                if not line:
                    raise FileProblem("This LinkedIn file has no header line (First Name, …).")
                if line.lstrip("\ufeff").startswith("First Name"):
                    break
                skipped += 1
            text.seek(0)
            for _ in range(skipped):
                text.readline()
        position = text.tell()
        delimiter = _delimiter(text.readline())
        text.seek(position)
    except UnicodeDecodeError:
        raise FileProblem("The file is not valid text in its encoding.") from None
    reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _unreadable(exc, skipped + 1) from None
    if len(header) > MAX_COLUMNS:
        raise FileProblem(f"The file has {len(header):,} columns; at most {MAX_COLUMNS} can be "
                          "read. Is the first line the header?", skipped + 1)
    header = [h.strip().lstrip("\ufeff") for h in header]
    source.header = header
    if mapping:
        unknown = sorted(set(mapping) - set(header))
        if unknown:
            raise FileProblem(f"The mapping names columns the file does not have: "
                              f"{', '.join(unknown)}.")
        wanted = {header.index(column): name for column, name in mapping.items() if name}
        source.mapping = {**{i: n for i, n in auto_mapping(header).items()
                             if header[i] not in mapping and n not in wanted.values()}, **wanted}
    else:
        source.mapping = auto_mapping(header)
    if not any(n in source.mapping.values() for n in ("first_name", "name", "email")):
        raise FileProblem("No column holds names or email addresses. Name the columns in the "
                          "first line (First Name, Last Name, Email…), or map them.", skipped + 1)
    google = source.format == "google"
    pairs = list(source.mapping.items())
    width = len(header)

    def records() -> Iterator[tuple[int, dict[str, Any], list[str]]]:
        # Rows are numbered as a spreadsheet shows them: the header is row 1 (after LinkedIn's
        # notes), a value over several lines is still one row, a blank line is a row.
        number = skipped + 1
        try:
            for row in reader:
                number += 1
                start = number
                if "\x00" in "".join(row):
                    raise FileProblem(f"Row {number} cannot be read: it contains a NUL character "
                                      "(is this a spreadsheet file?).", number)
                if len(row) != width:
                    if not "".join(row).strip():
                        continue  # a blank line
                    if len(row) > width and "".join(row[width:]).strip():
                        yield start, {"__problem__": f"this row has {len(row)} values but the "
                                                     f"header has {width} columns"}, row
                        continue
                    row = row + [""] * (width - len(row))
                record = {name: row[i] for i, name in pairs if row[i]}
                if not record and not "".join(row).strip():
                    continue
                if google:
                    _google(record, header, row)
                yield start, record, row
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _unreadable(exc, number + 1) from None

    source.records = records()


def _unreadable(exc: Exception, line: int) -> FileProblem:
    """A broken file stops with the row named."""
    if isinstance(exc, UnicodeDecodeError):
        return FileProblem(f"Row {line} is not valid text in the file's encoding.", line)
    message = str(exc)
    if "field larger" in message:
        message = f"a value is longer than {MAX_FIELD:,} characters"
    elif "unexpected end of data" in message or "EOF" in message:
        message = "a quotation mark is never closed"
    return FileProblem(f"Row {line} cannot be read: {message}.", line)


def _google(record: dict[str, Any], header: list[str], row: list[str]) -> None:
    """Google's labels are ' ::: '-joined groups ("* myContacts" is every contact: not a tag)."""
    for index, column in enumerate(header):
        if column == "Labels" and index < len(row):
            tags = [t.strip().lstrip("* ").strip() for t in row[index].split(":::")]
            record["tags"] = ",".join(t for t in tags if t and t.lower() != "mycontacts")
        elif (column.startswith("Website") and column.endswith("Value") and index < len(row)
              and "linkedin.com" in row[index] and "linkedin_url" not in record):
            record["linkedin_url"] = row[index]


def _json_records(text: IO[str]) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    try:
        content = text.read()
    except UnicodeDecodeError:
        raise FileProblem("The file is not valid text in its encoding.") from None
    stripped = content.lstrip("\ufeff \t\r\n")
    items: list[tuple[int, Any]]
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise FileProblem(f"Line {exc.lineno} is not valid JSON: {exc.msg}.", exc.lineno) from None
        except ValueError as exc:  # e.g. a number too long to read
            raise FileProblem(f"The JSON cannot be read: {exc}.") from None
        except RecursionError:
            raise FileProblem("Line 1: the JSON nests too deeply to be read.", 1) from None
        items = [(number, item) for number, item in enumerate(data, start=1)]
    else:  # one object per line
        items = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise FileProblem(f"Line {number} is not valid JSON: {exc.msg}.", number) from None
            except ValueError as exc:
                raise FileProblem(f"Line {number} cannot be read: {exc}.", number) from None
            except RecursionError:
                raise FileProblem(f"Line {number} nests too deeply to be read.", number) from None
    for number, item in items:
        if not isinstance(item, dict):
            yield number, {"__problem__": "each item must be an object with named fields"}, [
                json.dumps(item)[:200]]
            continue
        record: dict[str, Any] = {}
        for key, value in item.items():
            name = _LOOKUP.get(_key(str(key)))
            if name is None or value is None:
                continue
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            record[name] = str(value)
        yield number, record, [json.dumps(item, ensure_ascii=False)[:10_000]]
