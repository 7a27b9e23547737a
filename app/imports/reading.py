"""Reading the files people really have: detecting the encoding and the format, mapping the
columns, and yielding each record with the line number a spreadsheet user sees.

Nothing here touches the database. A record is a dict of our field names (and ``note:<Label>``
for a value with no field of its own) to the text found, and the raw cells (for the CSV of
failed rows). What people upload: CSV from any program (the exports of Outlook, Thunderbird,
Google, Yahoo and LinkedIn are known column by column), Excel workbooks (.xlsx), LinkedIn's
data-export .zip, vCards and JSON (our own export.json among them)."""

import codecs
import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import IO, Any

from charset_normalizer import from_bytes

from app.imports.rows import is_linkedin_profile

SAMPLE_BYTES = 64 * 1024
MAX_COLUMNS = 500
MAX_FIELD = 131_072  # characters in one cell
# The most a file taken out of a .zip may hold once unpacked (the upload limit's default): a
# small zip that unpacks to gigabytes is refused rather than read.
MAX_UNZIPPED = 50 * 1024 * 1024
# A workbook's parts together, unpacked: far above any real list of contacts.
MAX_WORKBOOK_UNZIPPED = 10 * MAX_UNZIPPED
HEADER_SEARCH_ROWS = 20  # a workbook's header may sit below a title
FORMATS = ("csv", "linkedin", "google", "vcard", "json", "xlsx")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook

csv.field_size_limit(MAX_FIELD)

Record = tuple[int, dict[str, Any], list[str]]


class FileProblem(Exception):
    """The file as a whole cannot be read; ``line`` says where, when it is known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# --- Encodings -------------------------------------------------------------------------------
# A file that is not UTF-8 was written in one of these; the order is the preference when two
# read equally well (Windows code pages first: they are what spreadsheets and Outlook write).
LATIN = ("cp1252", "cp1250", "mac_roman")
OTHER_SCRIPTS = ("cp1251", "koi8_r", "iso8859_5", "cp1253", "iso8859_7", "cp1255", "iso8859_8")
# The letters of each script from the most to the least frequent (Russian, Greek, Hebrew): a
# wrong code page gives the right script but the wrong letters.
FREQUENT = {
    "CYRILLIC": "оеаинтсрвлкмдпуяызьбгчйхжшюцщэфъё",
    "GREEK": "αοιετσνηυρπκμλωδγχθφβξζψ",
    "HEBREW": "יוהלאמבשרתנעדכקחפסגזטצ",
}
# Final forms counted as their letter: Greek final sigma, Hebrew final kaf, mem, nun, pe, tsadi.
FINALS = str.maketrans("\u03c2\u05da\u05dd\u05df\u05e3\u05e5", "\u03c3\u05db\u05de\u05e0\u05e4\u05e6")
MIN_COHERENCE = 0.2  # charset-normalizer's score of a recognised language, from 0 to 1
SCORED_CHARACTERS = 16_384  # the whole sample must decode; this much of it is weighed
_NON_ASCII_WORD = re.compile(r"\S*[^\x00-\x7f]\S*")
_LETTERS = re.compile(r"[^\W\d_]+")
_ODD_MARKS = set("¿¡§¶")


def detect_encoding(sample: bytes) -> str:
    """The encoding of a file from its first bytes: a byte-order mark, UTF-16, UTF-8, else the
    code page in which the text reads as words people write (see ``_best_code_page``)."""
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
    return _best_code_page(sample)


def _best_code_page(sample: bytes) -> str:
    """The code page whose reading has the fewest oddities (a symbol inside a word, a capital
    after a small letter, two scripts in one word, a word of accented letters only). Latin text
    keeps Windows-1252 unless another reads better; among Cyrillic, Greek and Hebrew readings,
    the one whose letters are the language's frequent ones wins."""
    readings: dict[str, str] = {}
    for encoding in (*LATIN, *OTHER_SCRIPTS):
        try:
            readings[encoding] = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
    # KOI8-R and Mac Roman give every byte a character: there is always a reading.
    readings = {encoding: text[:SCORED_CHARACTERS] for encoding, text in readings.items()}
    odd = {encoding: _oddities(text) for encoding, text in readings.items()}
    fewest = min(odd.values())
    best = [encoding for encoding in readings if odd[encoding] == fewest]
    if best[0] in LATIN:
        return best[0]
    return _language_of(sample, best) or max(
        best, key=lambda encoding: _frequency(readings[encoding]) * _shape(readings[encoding]))


def _language_of(sample: bytes, candidates: list[str]) -> str | None:
    """charset-normalizer's choice among the candidates, when it recognised a language in the
    text (it cannot in a few short names: then it says nothing)."""
    if len(candidates) == 1:
        return candidates[0]
    match = from_bytes(sample, cp_isolation=candidates).best()
    if match is None or match.coherence < MIN_COHERENCE or match.encoding not in candidates:
        return None
    return str(match.encoding)


def _oddities(text: str) -> int:
    """How many things in the words with non-ASCII letters no language writes."""
    odd = 0
    for word in _NON_ASCII_WORD.findall(text):
        for index, char in enumerate(word):
            if char < "\x80":
                continue
            category = unicodedata.category(char)
            if category[0] == "C":  # a control character or an unassigned one
                odd += 2
            elif category in {"So", "Sk", "Sc", "Sm", "No", "Lm"} or char in _ODD_MARKS:
                neighbours = word[max(index - 1, 0):index] + word[index + 1:index + 2]
                odd += any(n.isalpha() for n in neighbours)
            elif category == "Lu" and index and word[index - 1].islower():
                odd += 1
        for letters in _LETTERS.findall(word):
            scripts = {_script(char) for char in letters}
            mixed = len(scripts) > 1
            accents_only = scripts == {"LATIN"} and len(letters) > 1 and min(letters) >= "\x80"
            odd += mixed or accents_only
    return odd


def _script(char: str) -> str:
    return "LATIN" if char < "\x80" else unicodedata.name(char, "OTHER").split(" ", 1)[0]


def _frequency(text: str) -> float:
    """How frequent in their language the non-ASCII letters of ``text`` are, from 0 to 1."""
    total, score = 0, 0.0
    for char in text:
        if char < "\x80" or not char.isalpha():
            continue
        total += 1
        common = FREQUENT.get(_script(char))
        if common is None:
            continue
        base = unicodedata.normalize("NFD", char.lower())[0].translate(FINALS)
        if base in common:
            score += 1 - common.index(base) / len(common)
    return score / total if total else 0.0


def _shape(text: str) -> float:
    """How much the words look like names, from 0 to 1: in a script with capitals, a capital
    then small letters is the most likely, small letters only less, capitals only less still
    (a wrong Cyrillic code page swaps the cases)."""
    total, score = 0, 0.0
    for letters in _LETTERS.findall(text):
        if letters[0] < "\x80" or len(letters) < 2 or letters.lower() == letters.upper():
            continue
        total += 1
        if letters[0].isupper() and letters[1:].islower():
            score += 1
        elif letters.islower():
            score += 0.5
        elif letters.isupper():
            score += 0.25
    return score / total if total else 1.0


def describe_encoding(codec: str) -> str:
    """A codec as people know it: "cp1252" is Windows-1252, "iso8859_7" ISO-8859-7."""
    codec = codecs.lookup(codec).name if _known_codec(codec) else codec
    if codec.startswith("utf-"):
        return codec.removesuffix("-sig").removesuffix("-le").removesuffix("-be").upper()
    if codec.startswith("cp") and codec[2:].isdigit():
        return f"Windows-{codec[2:]}"
    if codec.startswith("iso8859-"):
        return "ISO-8859-" + codec.removeprefix("iso8859-")
    return {"mac-roman": "Mac Roman", "koi8-r": "KOI8-R", "latin-1": "ISO-8859-1"}.get(codec, codec)


def _known_codec(codec: str) -> bool:
    try:
        codecs.lookup(codec)
    except LookupError:
        return False
    return True


# --- Columns ---------------------------------------------------------------------------------
# Our fields, and the column names people use for them (compared without case, accents, spaces
# or punctuation), in English, German, French and Spanish. Our own field names always match.
ALIASES: dict[str, list[str]] = {
    "first_name": ["first name", "firstname", "given name", "first", "forename", "vorname",
                   "prénom", "nombre"],
    "middle_name": ["middle name", "additional name", "middle"],
    "last_name": ["last name", "lastname", "surname", "family name", "last", "nachname",
                  "familienname", "nom", "nom de famille", "apellido", "apellidos"],
    "name": ["name", "full name", "display name", "fn", "nombre completo", "nom complet"],
    "email": ["email", "e-mail", "email address", "e-mail address", "preferred email",
              "primary email", "work email", "e-mail 1 - value", "email 1 - value", "mail",
              "e-mail-adresse", "courriel", "adresse e-mail", "adresse électronique",
              "correo electrónico", "correo"],
    "phone": ["phone", "phone number", "mobile", "cell", "telephone", "tel", "phone 1 - value",
              "mobile phone", "mobile number", "cell phone", "telefon", "telefonnummer", "handy",
              "téléphone", "portable", "teléfono", "móvil", "celular"],
    "title": ["title", "job title", "position", "organization title", "role", "job",
              "berufsbezeichnung", "poste", "fonction", "cargo", "puesto"],
    "organization_name": ["organization", "organisation", "company", "employer", "company name",
                          "organization name", "organisation name", "org", "firma",
                          "unternehmen", "entreprise", "société", "empresa", "compañía"],
    "industry": ["industry", "sector", "branche"],
    "location": ["location", "address", "based in"],
    "city": ["city", "town", "stadt", "ort", "ville", "ciudad"],
    "state": ["state", "region", "province", "bundesland", "provincia", "estado"],
    "country": ["country", "country/region", "land", "pays", "país"],
    "website": ["website", "web site", "url", "web page", "webpage", "homepage", "home page",
                "website 1 - value", "profile url", "webseite", "site web", "sitio web"],
    "linkedin_url": ["linkedin", "linkedin url", "linkedin profile", "linkedin profile url"],
    "graduation_year": ["class year", "graduation year", "grad year", "class of", "year"],
    "degree": ["degree"],
    "major": ["major", "program", "field of study", "programme"],
    "external_id": ["constituent id", "external id", "alumni id", "record id", "id"],
    "accepts_requests": ["contact opt-in", "accepts requests", "opt in", "opt-in",
                         "accepting requests"],
    "notes": ["notes", "note", "comments", "comment", "notizen", "notiz", "bemerkungen",
              "remarques", "commentaires", "notas", "comentarios"],
    "tags": ["tags", "labels", "categories", "groups", "group membership"],
    "source": ["source"],
    "stage": ["stage"],
    "how_we_met": ["how we met", "how_we_met", "met"],
    "referrer_name": ["referrer name", "referred by", "referrer", "referred by name"],
    "next_action": ["next action", "next step"],
    "next_action_at": ["next action at", "next step date"],
}


def _key(text: str) -> str:
    """A column name as compared: "E-Mail-Adresse" and "email adresse" are one."""
    plain = unicodedata.normalize("NFKD", text.lower())
    return re.sub(r"[^a-z0-9]", "", plain.encode("ascii", "ignore").decode())


_LOOKUP = {_key(alias): name for name, aliases in ALIASES.items()
           for alias in [name, *aliases]}


@dataclass(frozen=True)
class Export:
    """A program's CSV export, known column by column.

    ``fields`` maps its columns to ours in the order that decides, when several columns of a
    row fill one field (three emails, four phones), which is the contact's: the others are kept
    as notes under their column's name. Its other columns (``own``, ``numbered``) are left out
    rather than guessed: Outlook's "Title" is Mr. or Dr., its "Location" is an office."""

    name: str
    signatures: tuple[frozenset[str], ...]  # any of these sets of columns names the export
    fields: dict[str, str]
    own: frozenset[str] = frozenset()
    numbered: str = ""  # a pattern of the export's numbered columns ("Phone 3 - Type")
    multi: str = ""  # what separates several values in one cell
    tag_separator: str = ""  # what separates tags in its tags column ("": our own escaping)
    system_tags: str = ""  # tags beginning with this are the program's, not the person's

    def fits(self, keys: set[str]) -> bool:
        return any(signature <= keys for signature in self.signatures)

    def target(self, column: str) -> str | None:
        """Our field for a column of this export; "" for its columns we leave out, None for a
        column it does not have (a column someone added, guessed like any other)."""
        key = _key(column)
        if key in self.fields:
            return self.fields[key]
        if key in self.own or (self.numbered and re.fullmatch(self.numbered, key)):
            return ""
        return None


def _export(name: str, signatures: list[str], fields: list[tuple[str, str]], own: str = "",
            **options: str) -> Export:
    """An Export from column names as the program writes them."""
    return Export(name=name,
                  signatures=tuple(frozenset(_key(c) for c in s.split("|")) for s in signatures),
                  fields={_key(column): field_name for column, field_name in fields},
                  own=frozenset(_key(c) for c in own.split(",") if c), **options)


def _numbered(pattern: str, field_name: str, count: int = 9) -> list[tuple[str, str]]:
    return [(pattern.format(n), field_name) for n in range(1, count + 1)]


OUTLOOK = _export(
    "outlook", ["E-mail 2 Address", "E-mail Address|Business Phone", "E-mail Address|Job Title"],
    [("First Name", "first_name"), ("Middle Name", "middle_name"), ("Last Name", "last_name"),
     ("Title", "note:Honorific"), ("Suffix", "note:Suffix"), ("E-mail Address", "email"),
     ("E-mail 2 Address", "email"), ("E-mail 3 Address", "email"), ("Mobile Phone", "phone"),
     ("Business Phone", "phone"), ("Home Phone", "phone"), ("Primary Phone", "phone"),
     ("Business Phone 2", "phone"), ("Home Phone 2", "phone"), ("Other Phone", "phone"),
     ("Company Main Phone", "phone"), ("Job Title", "title"), ("Company", "organization_name"),
     ("Department", "note:Department"), ("Business City", "city"), ("Business State", "state"),
     ("Business Country/Region", "country"), ("Business Country", "country"),
     ("Web Page", "website"), ("Personal Web Page", "website"), ("Notes", "notes"),
     ("Categories", "tags"), ("Referred By", "referrer_name")],
    own="Nickname,Initials,Gender,Birthday,Anniversary,Location,Language,Internet Free Busy,"
        "E-mail Type,E-mail Display Name,E-mail 2 Type,E-mail 2 Display Name,E-mail 3 Type,"
        "E-mail 3 Display Name,Pager,Home Fax,Business Fax,Other Fax,Car Phone,Callback,ISDN,"
        "Radio Phone,Telex,TTY/TDD Phone,Assistant's Phone,Assistant's Name,Manager's Name,"
        "Office Location,Profession,Account,Billing Information,Children,Directory Server,"
        "Government ID Number,Hobby,Keywords,Mileage,Organizational ID Number,Priority,Private,"
        "Sensitivity,Spouse,Schools,User 1,User 2,User 3,User 4,Given Yomi,Surname Yomi,"
        "Company Yomi,IMAddress,Home Address,Business Address,Other Address,Home Street,"
        "Home Street 2,Home Street 3,Home City,Home State,Home Postal Code,Home Country/Region,"
        "Home Country,Home Address PO Box,Business Street,Business Street 2,Business Street 3,"
        "Business Postal Code,Business Address PO Box,Other Street,Other Street 2,"
        "Other Street 3,Other City,Other State,Other Postal Code,Other Country/Region,"
        "Other Address PO Box",
    tag_separator=";")
THUNDERBIRD = _export(
    "thunderbird", ["Primary Email|Display Name", "Primary Email|Secondary Email",
                    "Primary Email|Mobile Number"],
    [("First Name", "first_name"), ("Last Name", "last_name"), ("Display Name", "name"),
     ("Primary Email", "email"), ("Secondary Email", "email"), ("Mobile Number", "phone"),
     ("Work Phone", "phone"), ("Home Phone", "phone"), ("Job Title", "title"),
     ("Department", "note:Department"), ("Organization", "organization_name"),
     ("Organisation", "organization_name"), ("Web Page 1", "website"), ("Web Page 2", "website"),
     ("Work City", "city"), ("Work State", "state"), ("Work County", "state"),
     ("Work Country", "country"), ("Nickname", "note:Nickname"), ("Notes", "notes")],
    own="Screen Name,Fax Number,Pager Number,Home Address,Home Address 2,Home Address2,"
        "Home City,Home State,Home County,Home ZipCode,Home Zipcode,Home Post Code,Home Country,"
        "Work Address,Work Address 2,Work Address2,Work ZipCode,Work Zip,Work Post Code,"
        "Birth Year,Birth Month,Birth Day,Custom 1,Custom 2,Custom 3,Custom 4")
YAHOO = _export(
    "yahoo", ["First|Last|Messenger ID", "Alternate Email 1", "Yahoo Phone"],
    [("First", "first_name"), ("Middle", "middle_name"), ("Last", "last_name"),
     ("Email", "email"), ("Alternate Email 1", "email"), ("Alternate Email 2", "email"),
     ("Mobile", "phone"), ("Work", "phone"), ("Home", "phone"), ("Other", "phone"),
     ("Title", "title"), ("Company", "organization_name"), ("Work City", "city"),
     ("Work State", "state"), ("Work Country", "country"), ("Business Website", "website"),
     ("Personal Website", "website"), ("Nickname", "note:Nickname"), ("Comments", "notes"),
     ("Category", "tags")],
    own="Distribution Lists,Messenger ID,Pager,Fax,Yahoo Phone,Primary,Work Address,Work ZIP,"
        "Home Address,Home City,Home State,Home ZIP,Home Country,Birthday,Anniversary,"
        "Custom 1,Custom 2,Custom 3,Custom 4")
GOOGLE = _export(
    "google", ["E-mail 1 - Value", "Phone 1 - Value", "Given Name|Family Name",
               "Given Name|Group Membership", "Organization 1 - Name",
               "First Name|Labels|Organization Name"],
    [("First Name", "first_name"), ("Given Name", "first_name"), ("Middle Name", "middle_name"),
     ("Additional Name", "middle_name"), ("Last Name", "last_name"),
     ("Family Name", "last_name"), ("Name", "name"), ("Name Prefix", "note:Honorific"),
     ("Name Suffix", "note:Suffix"), ("Nickname", "note:Nickname"),
     *_numbered("E-mail {} - Value", "email"), *_numbered("Phone {} - Value", "phone"),
     ("Organization Name", "organization_name"), ("Organization Title", "title"),
     ("Organization Department", "note:Department"),
     *_numbered("Organization {} - Name", "organization_name", 3),
     *_numbered("Organization {} - Title", "title", 3),
     *_numbered("Organization {} - Department", "note:Department", 3),
     *_numbered("Website {} - Value", "website"), ("Address 1 - City", "city"),
     ("Address 1 - Region", "state"), ("Address 1 - Country", "country"),
     ("Birthday", "note:Birthday"), ("Notes", "notes"), ("Labels", "tags"),
     ("Group Membership", "tags")],
    own="Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,File As,Photo,Yomi Name,"
        "Given Name Yomi,Additional Name Yomi,Family Name Yomi,Initials,Short Name,"
        "Maiden Name,Gender,Location,Billing Information,Directory Server,Mileage,Occupation,"
        "Hobby,Sensitivity,Priority,Subject,Language",
    numbered=r"(email|phone|address|website|organization|relation|event|im|customfield|"
             r"externalid|calendarlink|jot)\d+[a-z]*",
    multi=":::", tag_separator=":::", system_tags="*")
LINKEDIN = _export(
    "linkedin", ["First Name|Last Name|Connected On"],
    [("First Name", "first_name"), ("Last Name", "last_name"), ("URL", "linkedin_url"),
     ("Email Address", "email"), ("Company", "organization_name"), ("Position", "title"),
     ("Connected On", "note:Connected on")])
EXPORTS = (LINKEDIN, GOOGLE, OUTLOOK, THUNDERBIRD, YAHOO)


def known_export(header: list[str]) -> Export | None:
    """The program that wrote a file with this header, when it is one we know."""
    keys = {_key(column) for column in header}
    return next((export for export in EXPORTS if export.fits(keys)), None)


def auto_mapping(header: list[str], export: Export | None = None) -> dict[int, str]:
    """Column index → our field, for the columns we recognise. A field may come from several
    columns (the first of them with a value wins; see ``_record``)."""
    mapping: dict[int, str] = {}
    for index, column in enumerate(header):
        name = export.target(column) if export else None
        if name is None:
            name = _LOOKUP.get(_key(column))
        if name:
            mapping[index] = name
    return mapping


# --- Opening a file --------------------------------------------------------------------------
@dataclass
class Source:
    """An opened file: its detected format and encoding, the header and the mapping."""

    format: str
    encoding: str
    header: list[str] = field(default_factory=list)
    mapping: dict[int, str] = field(default_factory=dict)
    records: Iterator[Record] = field(default_factory=lambda: iter(()))
    # Kept while the source lives: a text wrapper that is let go closes the file under it.
    stream: io.TextIOWrapper | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def release(self) -> None:
        """Let go of the file without closing it (the caller opened it)."""
        if self.stream is not None:
            self.stream.detach()
            self.stream = None
        for close in self.closers:
            close()
        self.closers = []


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
    line = first_lines[0] if first_lines else ""
    export = known_export(next(csv.reader([line], delimiter=_delimiter(line)), []))
    return export.name if export in (LINKEDIN, GOOGLE) else "csv"


def open_source(binary: IO[bytes], fmt: str = "auto", filename: str = "",
                mapping: dict[str, str] | None = None,
                utf8_throughout: bool | None = None) -> Source:
    """Open an uploaded file. ``mapping`` (column name → our field) overrides the guesses;
    ``utf8_throughout`` says whether the whole file was found to be UTF-8."""
    if fmt != "auto" and fmt not in FORMATS:
        raise FileProblem(f"Unknown format “{fmt}”. Use one of: auto, {', '.join(FORMATS)}.")
    magic = binary.read(8)
    binary.seek(0)
    if magic.startswith(OLE_MAGIC):
        raise _old_workbook(filename)
    if magic.startswith(ZIP_MAGIC):
        return _open_zip(binary, fmt, filename, mapping)
    if fmt == "xlsx":
        raise FileProblem("This is not an Excel workbook (.xlsx). Choose the format “auto” or "
                          "the one the file is.")
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    encoding = detect_encoding(sample)
    if encoding == "utf-8" and utf8_throughout is False:
        encoding = "cp1252"  # plain text at first, then a Windows "é" further down
    text = io.TextIOWrapper(binary, encoding=encoding, errors="strict", newline="")
    if fmt == "auto":
        fmt = detect_format(sample.decode(encoding, errors="ignore"), filename)
    source = Source(format=fmt, encoding=encoding, stream=text)
    if fmt in {"csv", "linkedin", "google"}:
        _open_csv(source, text, mapping)
    elif fmt == "vcard":
        from app.imports.vcard import read_vcards  # imported here: vcard.py imports this module

        source.records = read_vcards(binary.read(), encoding)
    else:
        source.records = _json_records(text)
    return source


def _old_workbook(filename: str) -> FileProblem:
    """Both an old .xls and a password-protected .xlsx are OLE files: say what to do with each."""
    if filename.lower().endswith(".xlsx"):
        return FileProblem("This workbook is protected with a password. Open it in Excel, remove "
                           "the password (or save a copy as CSV), and upload that.")
    return FileProblem("This is an old Excel file (.xls), which cannot be read. Open it in Excel "
                       "or LibreOffice and save it as .xlsx or CSV, then upload that.")


def _open_zip(binary: IO[bytes], fmt: str, filename: str,
              mapping: dict[str, str] | None) -> Source:
    """A zip is an Excel workbook (it holds xl/workbook.xml) or LinkedIn's data export (it
    holds Connections.csv); nothing is extracted to disk."""
    try:
        archive = zipfile.ZipFile(binary)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileProblem("This is not a text file, and as the .xlsx or .zip file it looks like it "
                          "cannot be opened: it is damaged. Save or download it again and upload "
                          "the new copy.") from None
    with archive:  # closes the archive, not the upload under it
        if "xl/workbook.xml" not in archive.namelist():
            data, name = _connections(archive, members, fmt)
            return open_source(io.BytesIO(data), "linkedin", name, mapping, _is_utf8(data))
        if sum(m.file_size for m in members) > MAX_WORKBOOK_UNZIPPED:
            raise FileProblem("This workbook unpacks to more than "
                              f"{MAX_WORKBOOK_UNZIPPED // 2**20:,} MB: save it as CSV instead.")
    binary.seek(0)
    return _open_xlsx(binary, mapping)


def _connections(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                 fmt: str) -> tuple[bytes, str]:
    """The bytes and name of LinkedIn's Connections.csv in its data export (at the top, or in
    the folder an unpacked and zipped-again export has)."""
    if fmt not in {"auto", "linkedin", "csv"}:
        raise FileProblem(f"This is a .zip file, not {fmt}. Upload the file itself.")
    connections = sorted((m for m in members if m.filename.rsplit("/", 1)[-1].lower()
                          == "connections.csv"), key=lambda m: m.filename.count("/"))
    if not connections:
        names = [m.filename for m in members]
        raise FileProblem(f"This .zip holds {_contents(names)} but no Connections.csv. Upload "
                          "LinkedIn's data export (“Get a copy of your data”, which holds "
                          "Connections.csv), or a CSV, vCard, JSON or .xlsx file itself.")
    return _unzipped(archive, connections[0]), connections[0].filename


def _contents(names: list[str]) -> str:
    files = [n for n in names if not n.endswith("/")]
    if not files:
        return "nothing"
    shown = ", ".join(n.rsplit("/", 1)[-1] for n in files[:5])
    more = f" and {len(files) - 5:,} more" if len(files) > 5 else ""
    return f"{len(files):,} file{'s' if len(files) != 1 else ''} ({shown}{more})"


def _unzipped(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    """One member's bytes, read in memory and never beyond MAX_UNZIPPED (a zip bomb stops
    there, whatever size its directory claims)."""
    too_big = FileProblem(f"{member.filename} unpacks to more than {MAX_UNZIPPED // 2**20:,} MB, "
                          "more than one import can take.")
    if member.file_size > MAX_UNZIPPED:
        raise too_big
    try:
        with archive.open(member) as unpacked:
            data = unpacked.read(MAX_UNZIPPED + 1)
    except RuntimeError:  # zipfile's word for a member protected with a password
        raise FileProblem(f"{member.filename} in this .zip is protected with a password.") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise FileProblem(f"{member.filename} in this .zip is damaged and cannot be read.") from None
    if len(data) > MAX_UNZIPPED:
        raise too_big
    return data


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _open_xlsx(binary: IO[bytes], mapping: dict[str, str] | None) -> Source:
    """The first sheet whose first rows hold a header (a row naming a name or an email column),
    its cells as a person sees them, rows numbered as the spreadsheet numbers them."""
    import openpyxl  # imported here: only workbooks need it

    try:
        book = openpyxl.load_workbook(binary, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise FileProblem("This Excel workbook is damaged and cannot be opened. Open it in Excel "
                          "or LibreOffice, save it again as .xlsx or CSV, and upload that.") from None
    source = Source(format="xlsx", encoding="utf-8", closers=[book.close])
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some writers store a wrong size: read every row
            rows = _sheet_rows(sheet)
            for number, cells in rows:
                if number > HEADER_SEARCH_ROWS:
                    break
                if any(cells) and _is_header(cells, mapping):
                    _tabulate(source, cells, rows, mapping, number)
                    return source
    except FileProblem:
        source.release()
        raise
    except Exception:  # a sheet's XML that openpyxl cannot parse
        source.release()
        raise FileProblem("A sheet of this workbook is damaged and cannot be read. Open it in "
                          "Excel or LibreOffice, save it again, and upload that.") from None
    source.release()
    raise FileProblem(f"No sheet of this workbook has, in its first {HEADER_SEARCH_ROWS} rows, a "
                      "header row naming names or email addresses (First Name, Last Name, "
                      "Email…). Add one and upload it again.")


def _sheet_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, [_cell_text(value) for value in values]


def _is_header(cells: list[str], mapping: dict[str, str] | None) -> bool:
    header = [c.strip() for c in cells]
    names = set(auto_mapping(header, known_export(header)).values())
    names |= {mapping[c] for c in header if mapping and mapping.get(c)}
    return bool(names & {"first_name", "name", "email", "linkedin_url"})


def _cell_text(value: Any) -> str:
    """A cell as Excel shows it: whole numbers without ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


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
    _tabulate(source, header, _csv_rows(reader, skipped + 1), mapping, skipped + 1)


def _csv_rows(reader: Iterator[list[str]], header_line: int) -> Iterator[tuple[int, list[str]]]:
    """Rows numbered as a spreadsheet shows them: the header is row 1 (after LinkedIn's notes),
    a value over several lines is still one row, a blank line is a row."""
    number = header_line
    try:
        for row in reader:
            number += 1
            if "\x00" in "".join(row):
                raise FileProblem(f"Row {number} cannot be read: it contains a NUL character "
                                  "(is this a spreadsheet file?).", number)
            yield number, row
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _unreadable(exc, number + 1) from None


def _tabulate(source: Source, header: list[str], rows: Iterator[tuple[int, list[str]]],
              mapping: dict[str, str] | None, header_line: int) -> None:
    """Map a table's header to our fields and make its records: the part of reading that CSV
    and Excel files share."""
    if len(header) > MAX_COLUMNS:
        raise FileProblem(f"The file has {len(header):,} columns; at most {MAX_COLUMNS} can be "
                          "read. Is the first line the header?", header_line)
    header = [h.strip().lstrip("\ufeff") for h in header]
    source.header = header
    export = known_export(header)
    if mapping:
        unknown = sorted(set(mapping) - set(header))
        if unknown:
            raise FileProblem(f"The mapping names columns the file does not have: "
                              f"{', '.join(unknown)}.")
        wanted = {header.index(column): name for column, name in mapping.items() if name}
        guessed = auto_mapping(header, export)
        source.mapping = {**{i: n for i, n in guessed.items()
                             if header[i] not in mapping and n not in wanted.values()}, **wanted}
    else:
        source.mapping = auto_mapping(header, export)
    if not any(n in source.mapping.values() for n in ("first_name", "name", "email")):
        raise FileProblem("No column holds names or email addresses. Name the columns in the "
                          "first line (First Name, Last Name, Email…), or map them.", header_line)
    plan = _plan(header, source.mapping, export)
    source.records = _records(rows, header, plan, export)


def _plan(header: list[str], mapping: dict[int, str],
          export: Export | None) -> list[tuple[int, str]]:
    """The mapped columns in the order they fill fields: the export's order of preference (its
    mobile phone before its business phone), else the file's order."""
    ranks = list(export.fields) if export else []

    def rank(index: int) -> int:
        key = _key(header[index])
        return ranks.index(key) if key in ranks else len(ranks) + index

    return sorted(mapping.items(), key=lambda item: rank(item[0]))


def _records(rows: Iterator[tuple[int, list[str]]], header: list[str],
             plan: list[tuple[int, str]], export: Export | None) -> Iterator[Record]:
    width = len(header)
    # A file whose columns each fill a field of their own, with no tags or web addresses to
    # sort out, needs none of what ``_record`` does (an alumni office's large file, often).
    names = [name for _, name in plan]
    plain = export is None and len(set(names)) == len(names) and not {"tags", "website"} & {*names}
    for number, row in rows:
        if len(row) != width:
            if not "".join(row).strip():
                continue  # a blank line
            if len(row) > width and "".join(row[width:]).strip():
                yield number, {"__problem__": f"this row has {len(row)} values but the "
                                              f"header has {width} columns"}, row
                continue
            row = row[:width] + [""] * (width - len(row))
        if not "".join(row).strip():
            continue
        yield number, {name: row[i] for i, name in plan if row[i]} if plain \
            else _record(row, header, plan, export), row


def _record(row: list[str], header: list[str], plan: list[tuple[int, str]],
            export: Export | None) -> dict[str, Any]:
    """One row's values under our field names. When several columns fill one field, the first
    with a value is the contact's and the others are kept as notes under their column's name;
    so is the rest of a Google multi-value ("a ::: b")."""
    record: dict[str, Any] = {}
    for index, name in plan:
        value = row[index]
        if not value.strip():
            continue
        column = header[index]
        if name == "tags":
            tags = _tags(value, export)
            if tags:
                record["tags"] = [*record.get("tags", []), *tags] if isinstance(tags, list) else tags
            continue
        if export and export.multi and export.multi in value:
            value, *rest = [part.strip() for part in value.split(export.multi)]
            if any(rest):
                record[f"note:{_label(column, header, row, rest=True)}"] = ", ".join(
                    p for p in rest if p)
        if name == "website" and "linkedin_url" not in record and is_linkedin_profile(value):
            name = "linkedin_url"  # a LinkedIn profile among an address book's web pages
        if name in record:
            record.setdefault(f"note:{_label(column, header, row)}", value)
        else:
            record[name] = value
    return record


def _label(column: str, header: list[str], row: list[str], rest: bool = False) -> str:
    """A column's name as a note's label: Google's "E-mail 2 - Value" is "E-mail 2", with the
    label the row gives it beside it ("E-mail 2 (Home)"); ``rest``: for the values after the
    first of a multi-value, whose labels are the label's own after its first."""
    if not column.endswith(" - Value"):
        return column
    base = column.removesuffix(" - Value")
    labels = row[header.index(f"{base} - Label")] if f"{base} - Label" in header else ""
    parts = [p.strip().lstrip("*").strip() for p in labels.split(":::")]
    named = ", ".join(p for p in (parts[1:] if rest else parts[:1]) if p)
    return f"{base} ({named})" if named else base


def _tags(value: str, export: Export | None) -> str | list[str]:
    """A tags cell: in our own escaping (``\\,`` is a comma inside a tag) unless the export
    separates its own way; the program's own groups (Google's "* myContacts") are not tags."""
    if export is None or not export.tag_separator:
        return value
    tags = [tag.strip() for tag in value.split(export.tag_separator)]
    system = export.system_tags
    return [tag for tag in tags if tag and not (system and tag.startswith(system))]


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


# --- JSON ------------------------------------------------------------------------------------
# Keys of our own export.json that are not the contact's (ids of this account, timestamps).
EXPORT_ONLY_KEYS = {"id", "organization_id", "referred_by_id", "created_at", "updated_at",
                    "timeline"}


def _json_records(text: IO[str]) -> Iterator[Record]:
    """An array of objects, one object per line, or our export.json (its "contacts")."""
    try:
        content = text.read()
    except UnicodeDecodeError:
        raise FileProblem("The file is not valid text in the file's encoding.") from None
    stripped = content.lstrip("\ufeff \t\r\n")
    items, ours = _json_items(stripped)
    for number, item in items:
        if not isinstance(item, dict):
            yield number, {"__problem__": "each item must be an object with named fields"}, [
                json.dumps(item)[:200]]
            continue
        yield number, _json_record(item, ours), [json.dumps(item, ensure_ascii=False)[:10_000]]


def _json_items(content: str) -> tuple[list[tuple[int, Any]], bool]:
    """The items, numbered, and whether they come from our own export."""
    if content.startswith(("[", "{")):
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            if not (content.startswith("{") and exc.msg == "Extra data"):  # else: JSON lines
                raise FileProblem(f"Line {exc.lineno} is not valid JSON: {exc.msg}.",
                                  exc.lineno) from None
        except ValueError as exc:  # e.g. a number too long to read
            raise FileProblem(f"The JSON cannot be read: {exc}.") from None
        except RecursionError:
            raise FileProblem("Line 1: the JSON nests too deeply to be read.", 1) from None
        else:
            if isinstance(data, dict) and isinstance(data.get("contacts"), list):
                return list(enumerate(data["contacts"], start=1)), True
            return list(enumerate(data if isinstance(data, list) else [data], start=1)), False
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
    return items, False


def _json_record(item: dict[str, Any], ours: bool) -> dict[str, Any]:
    """An object's values under our field names: a key that is one of our fields wins over a
    key that only resembles one; tags stay a list (a tag may hold a comma)."""
    record: dict[str, Any] = {}
    if ours and item.get("referred_by_name"):  # the contact who referred them, by name
        record["referrer_name"] = str(item["referred_by_name"])
    exact = [(k, v) for k, v in item.items() if str(k) in ALIASES]
    alike = [(k, v) for k, v in item.items() if str(k) not in ALIASES]
    for key, value in [*exact, *alike]:
        name = _LOOKUP.get(_key(str(key)))
        if name is None or name in record or value is None or (ours and key in EXPORT_ONLY_KEYS):
            continue
        if isinstance(value, list):
            value = [str(v) for v in value if v is not None] if name == "tags" else \
                ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dict):
            continue
        else:
            value = str(value)
        if value != "":
            record[name] = value
    return record
