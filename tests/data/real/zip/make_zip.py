"""Writes LinkedIn "Get a copy of your data" style archives with made-up people (run from this
folder): the files at the top of the zip as LinkedIn writes them, and a copy inside a folder."""

import zipfile

PREAMBLE = (
    'Notes:\n"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more here "
    'https://www.linkedin.com/help/linkedin/answer/261"\n\n')
CONNECTIONS = PREAMBLE + (
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Chloé,Dubois,https://www.linkedin.com/in/chloe-dubois-example,,Sanofi,Data Scientist,"
    "03 Jan 2026\n"
    'Raj,Patel,https://www.linkedin.com/in/raj-patel-example,raj.patel@example.in,"Acme, Inc.",'
    "Engineering Manager,28 Sep 2025\n"
    ",,,,,,07 Jun 2022\n")
MESSAGES = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,DATE,SUBJECT,CONTENT,FOLDER\n"
INVITATIONS = "From,To,Sent At,Message,Direction\n"


def write(name: str, folder: str = "") -> None:
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(folder + "Connections.csv", CONNECTIONS)
        archive.writestr(folder + "messages.csv", MESSAGES)
        archive.writestr(folder + "Invitations.csv", INVITATIONS)


write("Basic_LinkedInDataExport_01-15-2026.zip")
write("linkedin-export-in-a-folder.zip", "Basic_LinkedInDataExport_01-15-2026/")
with zipfile.ZipFile("photos.zip", "w") as other:
    other.writestr("holiday.jpg", b"\xff\xd8\xff\xe0 not really a photo")
    other.writestr("notes.txt", "nothing about contacts")
