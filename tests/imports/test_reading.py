# ruff: noqa: RUF001 - text in other scripts is what these tests are about
"""Reading files as people have them: the code page a file was written in, each known export
mapped column by column, Excel workbooks, LinkedIn's data-export zip and our own export.json.
These read files only; tests/imports/test_real_files.py imports whole files."""

import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from app.imports import reading
from app.imports.reading import FileProblem, describe_encoding, detect_encoding, open_source


def source(data: bytes, filename: str = "people.csv", fmt: str = "auto") -> reading.Source:
    return open_source(io.BytesIO(data), fmt, filename)


def records(data: bytes, filename: str = "people.csv", fmt: str = "auto") -> list[dict[str, Any]]:
    return [record for _, record, _ in source(data, filename, fmt).records]


def lines(*rows: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(rows) + "\r\n").encode(encoding)


# --- Encodings -------------------------------------------------------------------------------
LATIN_NAMES = "Renée Søndergaard, Œuvre, Müller, Straße, Zoë, François Lefèvre, O’Brien, Núñez"


@pytest.mark.parametrize(("text", "encoding"), [
    (f"First Name,Last Name\n{LATIN_NAMES}\n", "cp1252"),
    ("Zoë,Müller\n", "cp1252"),
    ("Straße\n", "cp1252"),
    ("Œuvre\n", "cp1252"),
    ("Søndergaard\n", "cp1252"),
    ("Imię,Nazwisko\nWałęsa,Łódź\nBłaszczykowski,Dvořák\n", "cp1250"),
    ("First,Last\nRené,Müller\nJosé,Niño\n", "mac_roman"),
    ("Имя,Фамилия\nАнна,Петрова\nДмитрий,Иванов\n", "cp1251"),
    ("Анна Петрова\n", "cp1251"),
    ("Имя,Фамилия\nАнна,Петрова\nДмитрий,Иванов\n", "koi8_r"),
    ("Имя,Фамилия\nАнна,Петрова\nДмитрий,Иванов\n", "iso8859_5"),
    ("Όνομα,Επώνυμο\nΓιώργος,Παπαδόπουλος\nΆννα,Οικονόμου\n", "cp1253"),
    ("Ελένη\n", "cp1253"),
    ("Όνομα,Επώνυμο\nΓιώργος,Παπαδόπουλος\nΆννα,Οικονόμου\n", "iso8859_7"),
    ("שם,משפחה\nדנה,כהן\nיוסף,לוי\n", "cp1255"),
    ("דנה כהן\n", "cp1255"),
    ("Γιώργος Παπαδόπουλος, Εθνική Τράπεζα της Ελλάδος, Αθήνα. Άννα Οικονόμου, Ωδείο.\n" * 20,
     "cp1253"),
    ("דנה כהן, בנק הפועלים, תל אביב. יוסף לוי, מהנדס תוכנה בחברה גדולה.\n" * 20, "cp1255"),
    ("Анна Петрова, Сбербанк, Москва. Дмитрий Иванов, разработчик.\n" * 20, "koi8_r"),
])
def test_a_code_page_is_read_as_the_text_was_written(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    found = detect_encoding(data)
    assert data.decode(found) == text


def test_windows_1252_is_not_taken_when_its_undefined_bytes_are_there() -> None:
    data = "Dvořák,Žluťoučký,Kůň\n".encode("cp1250") + b"\x8d\x9d"
    assert detect_encoding(data) != "cp1252"


@pytest.mark.parametrize(("codec", "name"), [
    ("cp1252", "Windows-1252"), ("cp1251", "Windows-1251"), ("iso8859_7", "ISO-8859-7"),
    ("utf-8-sig", "UTF-8"), ("utf-16-le", "UTF-16"), ("mac_roman", "Mac Roman"),
    ("koi8_r", "KOI8-R")])
def test_an_encoding_is_named_as_people_know_it(codec: str, name: str) -> None:
    assert describe_encoding(codec) == name


def test_a_windows_1252_file_comes_out_right() -> None:
    opened = source(lines("First Name,Last Name,Company", "Renée,Søndergaard,Œuvre", encoding="cp1252"))
    assert opened.encoding == "cp1252"
    assert [r for _, r, _ in opened.records] == [
        {"first_name": "Renée", "last_name": "Søndergaard", "organization_name": "Œuvre"}]


# --- Known exports ---------------------------------------------------------------------------
OUTLOOK = ("First Name,Middle Name,Last Name,Title,Suffix,E-mail Address,E-mail 2 Address,"
           "Business Phone,Mobile Phone,Home Phone,Job Title,Company,Department,Location,"
           "Business City,Business State,Business Country/Region,Web Page,Categories,Notes")


def test_outlook_title_is_the_honorific_and_job_title_the_title() -> None:
    [record] = records(lines(OUTLOOK, "Ada,M.,Okafor,Dr.,PhD,ada@example.org,ada@home.example,"
                                      "651-555-0100,651-555-0199,,Surgeon,Mayo Clinic,Surgery,"
                                      "Room 4,Rochester,MN,USA,www.mayo.example,Mentors;Alumni,Hi"))
    assert record == {
        "first_name": "Ada", "middle_name": "M.", "last_name": "Okafor", "note:Honorific": "Dr.",
        "note:Suffix": "PhD", "email": "ada@example.org", "note:E-mail 2 Address": "ada@home.example",
        "phone": "651-555-0199", "note:Business Phone": "651-555-0100", "title": "Surgeon",
        "organization_name": "Mayo Clinic", "note:Department": "Surgery", "city": "Rochester",
        "state": "MN", "country": "USA", "website": "www.mayo.example",
        "tags": ["Mentors", "Alumni"], "notes": "Hi"}


def test_outlook_phones_go_mobile_then_business_then_home() -> None:
    [record] = records(lines(OUTLOOK, "Ada,,Okafor,,,,,651-555-0100,,651-555-0111,,,,,,,,,,"))
    assert (record["phone"], record["note:Home Phone"]) == ("651-555-0100", "651-555-0111")


def test_thunderbird_columns_are_mapped() -> None:
    header = ("First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Work Phone,"
              "Home Phone,Mobile Number,Job Title,Department,Organization,Web Page 1,Work City,"
              "Custom 1,Notes")
    [record] = records(lines(header, "Ben,Lind,Ben Lind,Benny,ben@example.se,b@home.example,"
                                     "08-555 010,,070-555 0101,Chemist,Lab,Astra,astra.example,"
                                     "Uppsala,x,Met at a talk"))
    assert record == {
        "first_name": "Ben", "last_name": "Lind", "name": "Ben Lind", "note:Nickname": "Benny",
        "email": "ben@example.se", "note:Secondary Email": "b@home.example",
        "phone": "070-555 0101", "note:Work Phone": "08-555 010", "title": "Chemist",
        "note:Department": "Lab", "organization_name": "Astra", "website": "astra.example",
        "city": "Uppsala", "notes": "Met at a talk"}


GOOGLE = ("First Name,Middle Name,Last Name,Organization Name,Organization Title,"
          "Organization Department,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Value,"
          "Website 1 - Value,Website 2 - Value,Location")


def test_google_multi_values_labels_and_websites() -> None:
    [record] = records(lines(GOOGLE, "Amara,N.,Obi,Lakeside,Resident,Medicine,"
                                     "* myContacts ::: * starred ::: Mentors ::: Nursing,* Work,"
                                     "a@example.org ::: b@example.org,+1 651 555 0101,"
                                     "https://profiles.google.com/1,"
                                     "https://www.linkedin.com/in/amara-obi,Building 9"))
    assert record == {
        "first_name": "Amara", "middle_name": "N.", "last_name": "Obi",
        "organization_name": "Lakeside", "title": "Resident", "note:Department": "Medicine",
        "tags": ["Mentors", "Nursing"], "email": "a@example.org",
        "note:E-mail 1": "b@example.org", "phone": "+1 651 555 0101",
        "website": "https://profiles.google.com/1",
        "linkedin_url": "https://www.linkedin.com/in/amara-obi"}
    assert source(lines(GOOGLE, "A,,B,,,,,,,,,,")).format == "google"


def test_the_old_google_format() -> None:
    header = ("Name,Given Name,Additional Name,Family Name,Group Membership,E-mail 1 - Value,"
              "Organization 1 - Name,Organization 1 - Title")
    [record] = records(lines(header, "Lucía Fernández,Lucía,,Fernández,Alumni ::: * myContacts,"
                                     "lucia@example.es,Universidad,Profesora"))
    assert record == {"name": "Lucía Fernández", "first_name": "Lucía", "last_name": "Fernández",
                      "tags": ["Alumni"], "email": "lucia@example.es",
                      "organization_name": "Universidad", "title": "Profesora"}


def test_yahoo_columns_are_mapped() -> None:
    header = "First,Middle,Last,Email,Messenger ID,Mobile,Title,Company,Alternate Email 1,Comments"
    [record] = records(lines(header, "Dana,,Whit,d@example.com,dw,612-555-0177,Lead,TCL,"
                                     "d@alt.example,Hi"))
    assert record == {"first_name": "Dana", "last_name": "Whit", "email": "d@example.com",
                      "phone": "612-555-0177", "title": "Lead", "organization_name": "TCL",
                      "note:Alternate Email 1": "d@alt.example", "notes": "Hi"}


@pytest.mark.parametrize("data", [
    lines("First Name,Last Name,Email Address,Company,Position,Connected On",
          "Ana,Lima,urn:li:member:664293716,Medtronic,Engineer,12 Mar 2018"),
    lines("Notes:", '"When exporting your connection data, you may notice…"', "",
          "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
          "Ana,Lima,https://www.linkedin.com/in/ana-lima,urn:li:member:664293716,Medtronic,"
          "Engineer,12 Mar 2018"),
], ids=["2018", "current"])
def test_both_linkedin_layouts(data: bytes) -> None:
    opened = source(data, "Connections.csv")
    [record] = [r for _, r, _ in opened.records]
    assert opened.format == "linkedin"
    assert record["email"] == "urn:li:member:664293716"  # rows.py leaves it out with a warning
    assert (record["organization_name"], record["title"]) == ("Medtronic", "Engineer")
    assert record["note:Connected on"] == "12 Mar 2018"
    assert record.get("linkedin_url", "https://www.linkedin.com/in/ana-lima") == \
        "https://www.linkedin.com/in/ana-lima"


@pytest.mark.parametrize(("column", "field"), [
    ("URL", "website"), ("Website", "website"), ("Web Page", "website"),
    ("LinkedIn", "linkedin_url"), ("LinkedIn URL", "linkedin_url"),
    ("LinkedIn Profile", "linkedin_url")])
def test_only_a_column_named_linkedin_is_linkedin(column: str, field: str) -> None:
    [record] = records(lines(f"Name,{column}", "Ada Okafor,https://acme.example"))
    assert record[field] == "https://acme.example"


@pytest.mark.parametrize(("header", "row"), [
    ("Vorname;Nachname;E-Mail-Adresse;Firma;Position;Telefon;Notizen",
     "Jürgen;Weiß;j@example.de;Groß GmbH;Leiter;+49 89 555;Messe"),
    ("Prénom,Nom,Courriel,Société,Poste,Téléphone,Notes", "Jürgen,Weiß,j@example.de,Groß GmbH,"
                                                         "Leiter,+49 89 555,Messe"),
    ("Prénom,Nom,Adresse e-mail,Entreprise,Poste,Téléphone,Notes",
     "Jürgen,Weiß,j@example.de,Groß GmbH,Leiter,+49 89 555,Messe"),
    ("Nombre,Apellidos,Correo electrónico,Empresa,Cargo,Teléfono,Notas",
     "Jürgen,Weiß,j@example.de,Groß GmbH,Leiter,+49 89 555,Messe"),
], ids=["german", "french", "french-2", "spanish"])
def test_german_french_and_spanish_headers(header: str, row: str) -> None:
    [record] = records(lines(header, row))
    assert record == {"first_name": "Jürgen", "last_name": "Weiß", "email": "j@example.de",
                      "organization_name": "Groß GmbH", "title": "Leiter", "phone": "+49 89 555",
                      "notes": "Messe"}


def test_a_known_exports_other_columns_are_not_guessed() -> None:
    [record] = records(lines("First Name,Last Name,E-mail Address,Job Title,Location,Priority",
                             "Ada,Okafor,ada@example.org,Surgeon,Room 4,Normal"))
    assert "location" not in record and record["title"] == "Surgeon"
    [added] = records(lines("First Name,Last Name,E-mail Address,Job Title,LinkedIn",
                             "Ada,Okafor,ada@example.org,Surgeon,https://www.linkedin.com/in/ada"))
    assert added["linkedin_url"] == "https://www.linkedin.com/in/ada"  # a column someone added


def test_the_directorys_columns_are_still_known() -> None:
    [record] = records(lines("Constituent ID,First Name,Last Name,Preferred Email,Class Year,Employer",
                             "C1,Ada,Okafor,ada@example.org,2012,Mayo"))
    assert record == {"external_id": "C1", "first_name": "Ada", "last_name": "Okafor",
                      "email": "ada@example.org", "graduation_year": "2012",
                      "organization_name": "Mayo"}


def test_a_second_column_of_one_field_is_kept_as_a_note() -> None:
    [record] = records(lines("Name,Email,Work Email", "Ada Okafor,,ada@work.example"))
    assert record == {"name": "Ada Okafor", "email": "ada@work.example"}
    [record] = records(lines("Name,Email,Work Email", "Ada Okafor,ada@example.org,ada@work.example"))
    assert record["note:Work Email"] == "ada@work.example"


# --- Excel workbooks -------------------------------------------------------------------------
def workbook(*sheets: list[list[Any]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet {number + 1}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_is_read_from_its_first_sheet_with_a_header() -> None:
    data = workbook([["A list of people"]],
                    [["Fair, spring"], ["First Name", "Last Name", "Phone", "Notes", "Email"],
                     ["Maya", "Okafor", 6515550142, datetime(2026, 3, 14), None], [],
                     ["Søren", "Ng", 4.5, date(2026, 3, 15), "s@example.dk"]])
    opened = source(data, "people.xlsx")
    assert (opened.format, opened.header[0]) == ("xlsx", "First Name")
    found = [(line, record) for line, record, _ in opened.records]
    opened.release()
    assert found == [
        (3, {"first_name": "Maya", "last_name": "Okafor", "phone": "6515550142", "notes": "2026-03-14"}),
        (5, {"first_name": "Søren", "last_name": "Ng", "phone": "4.5", "notes": "2026-03-15",
             "email": "s@example.dk"})]


def test_a_cell_is_text_as_a_person_sees_it() -> None:
    assert reading._cell_text(2019.0) == "2019"
    assert reading._cell_text(datetime(2026, 3, 15, 14, 30)) == "2026-03-15 14:30"
    assert reading._cell_text(True) == "TRUE"
    assert reading._cell_text(None) == ""


def test_an_xlsx_is_recognised_by_its_bytes_whatever_its_name() -> None:
    data = workbook([["Email"], ["ada@example.org"]])
    assert records(data, "download") == [{"email": "ada@example.org"}]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("people.xls", reading.OLE_MAGIC + bytes(500), "save it as .xlsx or CSV"),
    ("people.xlsx", reading.OLE_MAGIC + bytes(500), "password"),
    ("people.xlsx", b"PK\x03\x04" + bytes(100), "damaged"),
    ("people.xlsx", workbook([["Just a title"], ["and a line"]]), "header row"),
])
def test_a_workbook_that_cannot_be_read_says_why(name: str, data: bytes, words: str) -> None:
    with pytest.raises(FileProblem, match=words):
        source(data, name)


def test_a_broken_workbook_is_a_file_problem() -> None:
    good = workbook([["Email"], ["ada@example.org"]])
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as original, zipfile.ZipFile(broken, "w") as copy:
        for item in original.infolist():
            body = original.read(item)
            copy.writestr(item, b"<not xml" if item.filename.startswith("xl/worksheets") else body)
    with pytest.raises(FileProblem, match="damaged"):
        records(broken.getvalue(), "people.xlsx")


# --- LinkedIn's data export ------------------------------------------------------------------
CONNECTIONS = ("Notes:\n\"When exporting…\"\n\nFirst Name,Last Name,URL,Email Address,Company,"
               "Position,Connected On\nAna,Lima,https://www.linkedin.com/in/ana-lima,,Medtronic,"
               "Engineer,12 Mar 2024\n")


def archive(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in files.items():
            zipped.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize("member", ["Connections.csv", "Basic_LinkedInDataExport/Connections.csv"])
def test_linkedins_export_zip_is_read_as_its_connections(member: str) -> None:
    opened = source(archive({"messages.csv": "x", member: CONNECTIONS}), "export.zip")
    found = [(line, record) for line, record, _ in opened.records]
    assert opened.format == "linkedin"
    assert found == [(5, {"first_name": "Ana", "last_name": "Lima",
                          "linkedin_url": "https://www.linkedin.com/in/ana-lima",
                          "organization_name": "Medtronic", "title": "Engineer",
                          "note:Connected on": "12 Mar 2024"})]


def test_another_zip_says_what_it_holds_and_what_is_expected() -> None:
    with pytest.raises(FileProblem, match=r"holds 1 file \(photo.jpg\) but no Connections.csv"):
        source(archive({"photo.jpg": b"\xff\xd8"}), "photos.zip")


def test_a_zip_bomb_is_refused_without_being_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_UNZIPPED", 10_000)
    bomb = archive({"Connections.csv": CONNECTIONS + "Ben,Ng,,,,,\n" * 2_000})
    assert len(bomb) < 10_000
    with pytest.raises(FileProblem, match="unpacks to more than"):
        source(bomb, "export.zip")


# --- JSON --------------------------------------------------------------------------------------
def test_our_export_json_imports_its_contacts() -> None:
    document = {"exported_at": "2026-01-01T00:00:00Z", "profile": {"id": "u1", "email": "me@x.org"},
                "contacts": [{"id": "c1", "first_name": "Ada", "last_name": "Okafor",
                              "email": None, "organization_id": "o1",
                              "organization_name": "Mayo", "tags": ["data, science", "b"],
                              "website": "https://ada.example", "linkedin_url": "",
                              "referrer_name": "", "referred_by_name": "Ben Ng",
                              "external_id": "crm-1", "timeline": [], "next_action_at": None,
                              "created_at": "2026-01-01T00:00:00Z"}],
                "organizations": [{"id": "o1", "name": "Mayo"}]}
    [record] = records(json.dumps(document).encode(), "rapport-export.json")
    assert record == {"first_name": "Ada", "last_name": "Okafor", "organization_name": "Mayo",
                      "tags": ["data, science", "b"], "website": "https://ada.example",
                      "referrer_name": "Ben Ng", "external_id": "crm-1"}


def test_json_arrays_lines_and_our_field_names() -> None:
    assert records(b'[{"first_name": "Ada", "middle_name": "M.", "city": "Lyon", "id": "7"}]',
                   "p.json") == [{"first_name": "Ada", "middle_name": "M.", "city": "Lyon",
                                  "external_id": "7"}]
    assert records(b'{"name": "Ada Okafor"}\n{"name": "Ben Ng"}\n', "p.jsonl") == [
        {"name": "Ada Okafor"}, {"name": "Ben Ng"}]
    assert records(b'{"name": "Ada Okafor", "tags": ["x"]}', "p.json") == [
        {"name": "Ada Okafor", "tags": ["x"]}]
