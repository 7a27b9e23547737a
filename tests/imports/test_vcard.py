"""The vCard reader keeps what it can: one property that cannot be read costs that property, a
card that cannot be read costs that card, never the file. Each test reads what a person would
see of the contact: the record as rows.py checks it into a contact.

Then every file of tests/data/real/vcard (vCards written by other programs) gives the values its
manifest, expected.json, says a student must see."""

import codecs
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.imports.reading import FileProblem
from app.imports.rows import check_contact
from app.imports.vcard import read_vcards
from tests.conftest import ROOT, signed_in
from tests.imports.helpers import my_contacts, upload

CORPUS = ROOT / "tests" / "data" / "real" / "vcard"
MANIFEST: dict[str, Any] = {k: v for k, v in json.loads((CORPUS / "expected.json").read_text("utf-8")).items()
                            if not k.startswith("_")}


def cards(text: str | bytes, encoding: str = "utf-8") -> list[tuple[int, dict[str, Any], list[str]]]:
    data = text.encode(encoding) if isinstance(text, str) else text
    return list(read_vcards(data, encoding))


def card(*lines: str, version: str = "3.0") -> str:
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]) + "\r\n"


def contact(record: dict[str, Any]) -> dict[str, Any]:
    """What a student sees of the record once it is a contact (empty and default values left
    out)."""
    checked, problems, _ = check_contact(record, {}, guarded=False)
    assert checked is not None, problems
    defaults = checked.model_construct(first_name="").model_dump(mode="json")
    return {k: v for k, v in checked.model_dump(mode="json").items()
            if v not in ("", None, []) and (k == "first_name" or v != defaults.get(k))}


def one(*lines: str, version: str = "3.0") -> dict[str, Any]:
    [(_, record, _)] = cards(card(*lines, version=version))
    return record


def warnings(record: dict[str, Any]) -> list[list[str]]:
    return list(record.get("__warnings__", []))


# --- one bad thing costs that thing ----------------------------------------------------------

def test_a_property_in_a_charset_that_does_not_decode_costs_that_property() -> None:
    # The NOTE's bytes are not UTF-8 (nor the file's encoding): it alone is left out.
    data = card("FN:Ana Lima", "EMAIL:ana@example.org", "TITLE:Engineer").encode()
    data = data.replace(b"TITLE", b"NOTE;CHARSET=utf-8:caf\xe9\r\nTITLE")
    [(_, record, _)] = list(read_vcards(data, "utf-8"))
    assert contact(record) == contact({"name": "Ana Lima", "email": "ana@example.org", "title": "Engineer"})
    [(field, _, message)] = warnings(record)
    assert field == "notes" and "NOTE on line 5" in message and "left out" in message


def test_a_photo_whose_base64_is_broken_is_never_decoded() -> None:
    text = (card("FN:Ana Lima", "PHOTO;ENCODING=BASE64;TYPE=JPEG:!!not base64 at all%%", " ~~~~", "",
                 "EMAIL:ana@example.org", version="2.1")
            + card("FN:Ben Ode", "LOGO;ENCODING=b:@@@@", "SOUND;ENCODING=b:@@", "KEY;ENCODING=b:@@"))
    [(_, first, _), (_, second, _)] = cards(text)
    assert contact(first) == {"first_name": "Ana", "last_name": "Lima", "email": "ana@example.org"}
    assert contact(second) == {"first_name": "Ben", "last_name": "Ode"}
    assert warnings(first) == warnings(second) == []


def test_a_2_1_photo_whose_lines_go_on_without_a_fold() -> None:
    record = one("FN:Ana Lima", "PHOTO;ENCODING=BASE64;TYPE=GIF:R0lGODdhfgA4AOYAAAAAAK+vr62trVJSUjs7",
                 "AAAAAK+vr62trVJSUjs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Oz", "s7Ozs7Ow==", "",
                 "TITLE:Engineer", version="2.1")
    assert contact(record) == {"first_name": "Ana", "last_name": "Lima", "title": "Engineer"}
    assert warnings(record) == []


def test_lotus_notes_profile_and_unknown_properties_are_ignored_silently() -> None:
    record = one("PROFILE:VCard", "X-LOTUS-CHILD_UID:ABC", "FN:Ana Lima", "X-NONSENSE;;;=:x")
    assert contact(record) == {"first_name": "Ana", "last_name": "Lima"} and warnings(record) == []


def test_a_truncated_last_card_gives_what_it_has_and_the_card_before_goes_in() -> None:
    text = card("FN:Ana Lima") + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben Ode\r\nEMAIL:ben@example.org\r\n"
    [(first_line, first, _), (last_line, last, _)] = cards(text)
    assert (first_line, last_line) == (1, 5)
    assert contact(first) == {"first_name": "Ana", "last_name": "Lima"}
    assert contact(last) == {"first_name": "Ben", "last_name": "Ode", "email": "ben@example.org"}
    assert "no END:VCARD" in warnings(last)[0][2]


def test_a_card_interrupted_by_the_next_one_is_read_up_to_there() -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Ana Lima\n" + card("FN:Ben Ode")
    [(first_line, first, _), (second_line, second, _)] = cards(text)
    assert (first_line, second_line) == (1, 4)
    assert contact(first)["first_name"] == "Ana" and warnings(first)
    assert contact(second)["first_name"] == "Ben" and not warnings(second)


def test_a_nested_agent_card_is_skipped_whole() -> None:
    text = card("FN:Ana Lima", "AGENT:", "BEGIN:VCARD", "VERSION:2.1", "N:Friday;Fred",
                "EMAIL:fred@example.org", "END:VCARD", "TITLE:Director", version="2.1")
    text += card("FN:Ben Ode", "AGENT:BEGIN:VCARD", "FN:Agent Smith", "END:VCARD", "TITLE:Chair")
    [(_, first, _), (_, second, _)] = cards(text)
    assert contact(first) == {"first_name": "Ana", "last_name": "Lima", "title": "Director"}
    assert contact(second) == {"first_name": "Ben", "last_name": "Ode", "title": "Chair"}


def test_a_card_with_nothing_readable_is_a_row_error_naming_its_line() -> None:
    data = card("FN:Ana Lima").encode() + card("FN;CHARSET=utf-8:\xff\xfe").encode("latin-1")
    [(_, good, _), (line, bad, _)] = list(read_vcards(data, "utf-8"))
    assert contact(good)["first_name"] == "Ana"
    assert line == 5 and "line 5" in bad["__problem__"]


def test_a_contact_group_is_left_out_with_a_reason() -> None:
    [(_, record, _)] = cards(card("KIND:group", "FN:Book club", "MEMBER:mailto:a@example.org",
                                  version="4.0"))
    assert "contact group" in record["__problem__"] and "Book club" in record["__problem__"]


def test_a_file_without_a_card_is_refused() -> None:
    with pytest.raises(FileProblem, match="No vCard"):
        cards("FN:Ana Lima\r\nEMAIL:ana@example.org\r\n")


def test_cards_are_numbered_by_the_line_of_their_begin() -> None:
    text = "\r\n" + card("FN:Ana", "NOTE:folded", " over two lines") + "junk\r\n" + card("FN:Ben")
    assert [line for line, _, _ in cards(text)] == [2, 9]


def test_the_cells_are_the_card_as_a_person_reads_it() -> None:
    [(_, _, cells)] = cards(card("FN:Ana Lima", "PHOTO;ENCODING=b:AAAA", "EMAIL:ana@example.org",
                                 "NOTE:one\\, two"))
    assert cells == ["FN: Ana Lima", "EMAIL: ana@example.org", "NOTE: one, two"]


# --- quoted-printable and character sets -----------------------------------------------------

def test_a_quoted_printable_soft_break_inside_a_utf8_character() -> None:
    text = ("BEGIN:VCARD\r\nVERSION:2.1\r\n"
            "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Mart=C3=ADnez;Jos=C3=\r\n=A9;;;\r\n"
            "NOTE;QUOTED-PRINTABLE;CHARSET=UTF-8:Line one=0D=0ALine =\r\ntwo, and more\r\n"
            "ORG;ENCODING=QP:Caf=E9 Solo\r\n"
            "END:VCARD\r\n")
    [(_, record, _)] = list(read_vcards(text.encode("latin-1"), "cp1252"))
    assert contact(record) == {"first_name": "José", "last_name": "Martínez",
                               "notes": "Line one\nLine two, and more", "organization_name": "Café Solo"}


@pytest.mark.parametrize(("charset", "text"), [
    ("windows-1251", "Иванов;Иван"), ("windows-1253", "Παπαδόπουλος;Γιώργος"),
    ("iso-8859-2", "Dvořák;Antonín"), ("iso-8859-7", "Νικολάου;Ελένη"), ("shift_jis", "山田;太郎"),
    ("utf-8", "Müller;Jürgen")])
def test_a_charset_parameter_decodes_that_property(charset: str, text: str) -> None:
    family, given = text.split(";")
    line = b"N;CHARSET=" + charset.encode() + b":" + text.encode(charset)
    data = card("FN:x", version="2.1").encode().replace(b"FN:x", line)
    [(_, record, _)] = list(read_vcards(data, "utf-8"))
    assert contact(record) == {"first_name": given, "last_name": family}


def test_an_unknown_charset_falls_back_to_the_file_encoding() -> None:
    data = card("N;CHARSET=x-mac-klingon:Ødegård;Åse", version="2.1").encode("cp1252")
    [(_, record, _)] = list(read_vcards(data, "cp1252"))
    assert contact(record) == {"first_name": "Åse", "last_name": "Ødegård"} and warnings(record) == []


def test_a_wrong_charset_that_the_file_encoding_reads_is_read() -> None:
    """Outlook writes CHARSET=us-ascii on notes that hold Windows-1252 letters."""
    data = card("FN:Ana", "NOTE;CHARSET=us-ascii:Café crème", version="2.1").encode("cp1252")
    [(_, record, _)] = list(read_vcards(data, "cp1252"))
    assert contact(record)["notes"] == "Café crème"


def test_a_utf16_file() -> None:
    [(_, record, _)] = list(read_vcards(card("FN:Zoë Ng", "TITLE:Chef").encode("utf-16"), "utf-16"))
    assert contact(record) == {"first_name": "Zoë", "last_name": "Ng", "title": "Chef"}


# --- values a person would write by hand -----------------------------------------------------

@pytest.mark.parametrize("version", ["2.1", "3.0"])
def test_unescaped_commas_and_semicolons_in_single_value_text_stay(version: str) -> None:
    record = one("FN:Ana Lima", "TITLE:Vice President, Global Markets",
                 "NOTE:Met at the fair, follow up in May; she knows Ben", "ROLE:Lead, EMEA", version=version)
    seen = contact(record)
    assert seen["title"] == "Vice President, Global Markets"
    assert seen["notes"] == "Met at the fair, follow up in May; she knows Ben\nRole: Lead, EMEA"


def test_org_components_are_organization_and_departments() -> None:
    seen = contact(one("FN:Ana Lima", "ORG:Smith, Jones & Partners;Research;Lab 2"))
    assert seen["organization_name"] == "Smith, Jones & Partners"
    assert seen["notes"] == "Department: Research, Lab 2"


def test_rfc6350_escapes() -> None:
    seen = contact(one("FN:Ana Lima", r"NOTE:a\, b\; c\nd\\e\Nf", r"ORG:Smith\; Co\, Ltd;R\;D"))
    assert seen["notes"] == "a, b; c\nd\\e\nf\nDepartment: R;D"
    assert seen["organization_name"] == "Smith; Co, Ltd"


def test_n_gives_every_part_of_the_name() -> None:
    seen = contact(one("FN:Dr. John Philip Paul Stevenson Jr.", "N:Stevenson;John;Philip,Paul;Dr.;Jr.,M.D."))
    assert seen["first_name"] == "John Philip Paul" and seen["last_name"] == "Stevenson"
    assert seen["notes"] == "Honorific: Dr.\nSuffix: Jr., M.D."


def test_name_lists_are_joined_in_3_0_and_a_2_1_comma_is_part_of_the_name() -> None:
    assert contact(one("N:Okafor;Maya,Ada;;;")) == {"first_name": "Maya Ada", "last_name": "Okafor"}
    assert contact(one("N:Okafor, Jr.;Maya;;;", version="2.1")) == {"first_name": "Maya",
                                                                   "last_name": "Okafor, Jr."}


def test_without_a_usable_n_the_full_name_is_used() -> None:
    assert contact(one("N:;;;;", "FN:Ana Maria Lima")) == {"first_name": "Ana Maria", "last_name": "Lima"}
    assert contact(one("FN:Ana Lima")) == {"first_name": "Ana", "last_name": "Lima"}


@pytest.mark.parametrize(("version", "preferred"), [
    ("4.0", "EMAIL;TYPE=work;PREF=1:b@example.org"), ("3.0", "EMAIL;TYPE=INTERNET,pref:b@example.org"),
    ("3.0", "EMAIL;type=INTERNET;type=pref:b@example.org"), ("2.1", "EMAIL;INTERNET;PREF:b@example.org")])
def test_the_preferred_email_is_the_contact_email(version: str, preferred: str) -> None:
    seen = contact(one("FN:Ana Lima", "EMAIL;TYPE=home:a@example.org", preferred,
                       "EMAIL:c@example.org", version=version))
    assert seen["email"] == "b@example.org"
    assert "a@example.org" in seen["notes"] and "c@example.org" in seen["notes"]


def test_without_a_preference_the_first_email_and_phone_win_and_the_rest_are_labelled_notes() -> None:
    seen = contact(one("FN:Ana Lima", "EMAIL;TYPE=INTERNET:a@example.org", "EMAIL;TYPE=WORK:b@example.org",
                       "EMAIL:c@example.org", "EMAIL:d@example.org", "TEL;TYPE=WORK:111",
                       "TEL;TYPE=CELL:222", "TEL;TYPE=HOME:333", "TEL;TYPE=CELL:444"))
    assert seen["email"] == "a@example.org" and seen["phone"] == "111"
    assert seen["notes"].splitlines() == ["Work email: b@example.org",
                                          "Other email: c@example.org, d@example.org",
                                          "Mobile phone: 222, 444", "Home phone: 333"]


def test_phone_preference_and_labels_from_x_ablabel() -> None:
    seen = contact(one("FN:Ana Lima", "TEL;type=WORK;type=FAX:100", "TEL;TYPE=HOME:200",
                       "item1.TEL;type=pref:300", "item1.X-ABLabel:_$!<Mobile>!$_",
                       "item2.TEL:400", "item2.X-ABLabel:_$!<AssistantPhone>!$_",
                       "item3.EMAIL:a@example.org", "item3.X-ABLabel:Club"))
    assert seen["phone"] == "300" and seen["email"] == "a@example.org"
    assert seen["notes"].splitlines() == ["Work fax: 100", "Home phone: 200", "Assistant phone: 400"]


def test_a_fax_is_not_the_phone_when_there_is_another() -> None:
    seen = contact(one("FN:Ana Lima", "TEL;TYPE=FAX:100", "TEL;TYPE=VOICE:200"))
    assert seen["phone"] == "200" and seen["notes"] == "Fax: 100"


def test_web_addresses_sorted_into_linkedin_website_and_notes() -> None:
    seen = contact(one("FN:Ana Lima", "URL:https://blog.example.org", "URL;TYPE=pref:https://ana.example.org",
                       "URL:https://www.linkedin.com/in/ana-lima", "URL:https://www.linkedin.com/company/acme"))
    assert seen["linkedin_url"] == "https://www.linkedin.com/in/ana-lima"
    assert seen["website"] == "https://ana.example.org"
    assert seen["notes"] == "Web page: https://blog.example.org, https://www.linkedin.com/company/acme"


def test_an_apple_social_profile_gives_the_linkedin_address() -> None:
    seen = contact(one("FN:Ana Lima", "X-SOCIALPROFILE;type=linkedin;x-user=ana-lima:"
                                      "http://www.linkedin.com/in/ana-lima",
                       "X-SOCIALPROFILE;type=twitter:http://twitter.com/ana"))
    assert seen["linkedin_url"] == "http://www.linkedin.com/in/ana-lima" and "website" not in seen


def test_the_address_gives_the_location_and_label_stands_in_for_it() -> None:
    seen = contact(one("FN:Ana Lima", "ADR;TYPE=HOME:;;1 Elm St;Springfield;IL;62701;USA",
                       "ADR;TYPE=WORK,pref:;Suite 5;200 First St SW;Rochester;MN;55905;USA"))
    assert seen["location"] == "Rochester, MN, USA"
    seen = contact(one("FN:Ana Lima", "LABEL;TYPE=WORK:200 First St SW\\nRochester\\, MN 55905"))
    assert seen["location"] == "200 First St SW, Rochester, MN 55905"


def test_title_role_note_categories_birthday_nickname_and_no_uid() -> None:
    seen = contact(one("FN:Ana Lima", "TITLE:Professor", "ROLE:Advisor", "NOTE:Met in May",
                       "CATEGORIES:alumni,mentors\\, informal,  ,research", "BDAY:1980-03-22",
                       "NICKNAME:Annie", "UID:urn:uuid:1234"))
    assert seen["title"] == "Professor" and seen["tags"] == ["alumni", "mentors, informal", "research"]
    assert seen["notes"].splitlines() == ["Met in May", "Role: Advisor", "Nickname: Annie",
                                          "Birthday: 1980-03-22"]
    assert "external_id" not in seen
    assert contact(one("FN:Ana Lima", "ROLE:Advisor"))["title"] == "Advisor"


def test_an_apple_company_card_is_the_company() -> None:
    seen = contact(one("N:;;;;", "FN:Acme Health, Inc.", "ORG:Acme Health, Inc.;",
                       "X-ABShowAs:COMPANY", "TEL;type=WORK:555-0100"))
    assert seen == {"first_name": "Acme Health, Inc.", "organization_name": "Acme Health, Inc.",
                    "phone": "555-0100"}
    seen = contact(one("N:Ode;Ben;;;", "ORG:Acme Health;Billing", "X-ABShowAs:COMPANY"))
    assert seen["first_name"] == "Acme Health" and "last_name" not in seen
    assert seen["notes"] == "Department: Billing\nContact person: Ben Ode"


def test_a_kind_org_card_is_the_organization() -> None:
    seen = contact(one("KIND:org", "FN:ABC Marketing", "ORG:ABC\\, Inc.;Marketing", version="4.0"))
    assert seen["first_name"] == "ABC, Inc." and seen["organization_name"] == "ABC, Inc."


def test_what_our_own_export_writes_for_fields_vcard_has_not_comes_back() -> None:
    seen = contact(one("FN:Ana Lima", "X-RAPPORT-HOW-WE-MET:At the fair\\, booth 12",
                       "X-RAPPORT-SOURCE:referral", "X-RAPPORT-STAGE:contacted", "X-RAPPORT-INDUSTRY:Health",
                       "X-RAPPORT-EXTERNAL-ID:crm-42", "X-RAPPORT-NEXT-ACTION:Call", "X-RAPPORT-UNKNOWN:x"))
    assert seen == {"first_name": "Ana", "last_name": "Lima", "how_we_met": "At the fair, booth 12",
                    "source": "referral", "stage": "contacted", "industry": "Health",
                    "external_id": "crm-42", "next_action": "Call"}


def test_bare_lowercase_and_quoted_parameters() -> None:
    seen = contact(one("fn:Ana Lima", 'tel;type="voice,cell";value=uri:tel:+1-612-555-0175',
                       'item1.email;type="INTERNET":mailto:ana@example.org'))
    assert seen == {"first_name": "Ana", "last_name": "Lima", "phone": "+1-612-555-0175",
                    "email": "ana@example.org"}


# --- the corpus ----------------------------------------------------------------------------

def test_the_manifest_names_every_file_of_the_corpus() -> None:
    assert set(MANIFEST) == {p.name for p in CORPUS.glob("*.vcf")}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_a_real_file_gives_what_a_student_must_see(name: str) -> None:
    expected = MANIFEST[name]
    records = list(read_vcards((CORPUS / name).read_bytes(), expected["encoding"]))
    assert len(records) == expected["cards"]
    contacts = [check_contact(record, {}, guarded=False)[0] for _, record, _ in records]
    assert sum(c is not None for c in contacts) == expected["contacts"]
    for wanted in expected["expect"]:
        found = contacts[wanted["card"]]
        assert found is not None
        seen = found.model_dump(mode="json")
        _shows(seen, wanted)


# --- through the import, on the database --------------------------------------------------

def test_one_file_with_every_kind_of_trouble_imports_every_good_card(client: TestClient) -> None:
    signed_in(client)
    content = (card("FN:Ana Lima", "PHOTO;ENCODING=BASE64;TYPE=JPEG:!!broken%%", "PROFILE:VCard",
                    "TITLE:Vice President, Global Markets", "EMAIL:ana@example.org", version="2.1")
               + card("N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Mart=C3=ADnez;Jos=C3=\r\n=A9;;;",
                      "ORG:Smith, Jones & Partners;Research", "EMAIL;TYPE=work:jose@example.org",
                      "EMAIL;PREF:jm@example.org", version="2.1")
               + card("FN:Acme Health, Inc.", "ORG:Acme Health, Inc.;", "X-ABShowAs:COMPANY",
                      "URL:https://acme.example.org")
               + card("KIND:group", "FN:Book club", version="4.0")
               + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben Ode\r\nNOTE:Met at the fair, follow up in May\r\n")
    data = content.encode().replace(b"EMAIL:ana", b"NOTE;ENCODING=b:QUJ\r\nEMAIL:ana")  # cut short
    response = upload(client, "contacts.vcf", data)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["format"], report["created"], report["skipped"]) == ("vcard", 4, 1)
    begins = [n for n, line in enumerate(data.split(b"\r\n"), start=1) if line == b"BEGIN:VCARD"]
    assert [(e["row"], "contact group" in e["message"]) for e in report["errors"]] == [(begins[3], True)]
    assert [(w["row"], w["field"]) for w in report["warnings"]] == [(1, "notes"), (begins[4], "")]
    mine = my_contacts(client)
    assert mine["Ana Lima"]["title"] == "Vice President, Global Markets"
    assert mine["Ana Lima"]["email"] == "ana@example.org"
    jose = mine["José Martínez"]
    assert (jose["email"], jose["organization_name"]) == ("jm@example.org", "Smith, Jones & Partners")
    assert jose["notes"] == "Department: Research\nWork email: jose@example.org"
    acme = mine["Acme Health, Inc."]
    assert (acme["last_name"], acme["organization_name"]) == ("", "Acme Health, Inc.")
    assert acme["website"] == "https://acme.example.org"
    assert mine["Ben Ode"]["notes"] == "Met at the fair, follow up in May"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_a_real_file_imports_as_a_student_must_see_it(client: TestClient, name: str) -> None:
    signed_in(client)
    expected = MANIFEST[name]
    response = upload(client, name, (CORPUS / name).read_bytes())
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["format"] == "vcard"
    assert codecs.lookup(report["encoding"]).name == codecs.lookup(expected["encoding"]).name
    assert report["created"] == expected["contacts"], report
    assert report["created"] + report["skipped"] == expected["cards"]
    mine = my_contacts(client)
    assert len(mine) == expected["contacts"]
    for wanted in expected["expect"]:
        seen = mine[f"{wanted['first_name']} {wanted.get('last_name', '')}".strip()]
        _shows(seen, wanted)


def _shows(seen: dict[str, Any], wanted: dict[str, Any]) -> None:
    """A contact shows each value the manifest names (``notes_contain``: fragments of its notes)."""
    for key, value in wanted.items():
        if key == "notes_contain":
            for fragment in value:
                assert fragment in seen["notes"], (fragment, seen["notes"])
        elif key != "card":
            assert (seen[key] if isinstance(value, list) else seen[key] or "") == value, key
