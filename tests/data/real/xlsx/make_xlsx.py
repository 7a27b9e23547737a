"""Writes contacts.xlsx: made-up people as a spreadsheet user keeps them (run from this folder).

A first sheet of notes with no header, then a sheet whose header sits under a title row; phone
numbers typed as numbers, a date, a blank row between people."""

from datetime import datetime

from openpyxl import Workbook

book = Workbook()
notes = book.active
notes.title = "Read me"
notes["A1"] = "Contacts from the spring career fair"
sheet = book.create_sheet("People")
sheet.append(["Career fair contacts, spring 2026"])
sheet.append(["First Name", "Last Name", "Email", "Company", "Job Title", "Phone", "Notes",
              "Tags", "Class Year"])
sheet.append(["Maya", "Okafor", "maya.okafor@example.com", "Regions Hospital",
              "Physician Assistant", 6515550142, datetime(2026, 3, 14), "fair, PA", 2019])
sheet.append([])
sheet.append(["Søren", "Kierkegaard-Ng", "soren.ng@example.dk", "Øresund Analytics",
              "Data Engineer", "+45 3555 0100", datetime(2026, 3, 15, 14, 30), None, 2021.0])
book.save("contacts.xlsx")
