"""What a careful reader would say about a draft, before it goes: each a code and a sentence.

The checks read only the text, so they run again after every edit."""

import re
from dataclasses import asdict, dataclass
from typing import Any

from app.messages.templating import FIELDS, PLACEHOLDERS
from app.models import Kind
from app.models.message import Channel, channel_of

OUTREACH_WORDS = 150  # the method's guidance is under 100; past 150 few people read to the end
LINKEDIN_CHARACTERS = 300  # LinkedIn refuses a longer connection note

_JOB = re.compile(r"\b(jobs?|internships?|hiring|hire me|employment|vacanc(?:y|ies)|"
                  r"open positions?|positions? (?:available|open)|apply(?:ing)? for)\b", re.I)
_REQUEST = re.compile(r"\?|\b(would you|could you|could we|would it be possible|may i|can we|"
                      r"willing to|i am writing to ask|i'd like to ask|i would like to ask)\b", re.I)
# "[your major]", "[what you have done since]": text to fill in before sending.
_PLACEHOLDER = re.compile(
    r"\[((?:your|their|the|what|who|where|when|something|a|an)\b[^\[\]\n]{0,60})\]", re.I)
_LABELS = {label: ns for ns, names in FIELDS.items() for label in names.values()}


@dataclass(frozen=True)
class Warning:
    code: str
    message: str
    level: str = "warning"  # "error" when the message cannot be sent as it is
    field: str | None = None


def word_count(text: str) -> int:
    return len(text.split())


def placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(text)))


def _where(label: str) -> str:
    namespace = _LABELS.get(label)
    if namespace == "student":
        return " Add it to your profile in Settings, or type it in the fields beside the draft."
    if namespace in {"contact", "interview", "outreach"}:
        return " Type it in the fields beside the draft, or edit the text."
    return " Replace it with your own words."


def check(kind: str, subject: str, body: str, recipient: str | None) -> list[dict[str, Any]]:
    found: list[Warning] = []
    text = f"{subject}\n{body}"
    channel = channel_of(kind)
    words = word_count(body)
    if kind == Kind.outreach and words > OUTREACH_WORDS:
        found.append(Warning("too_long", f"This outreach is {words} words. Keep it under 150 "
                             "(under 100 is best): a busy person reads a short note."))
    if channel == Channel.linkedin and len(body) > LINKEDIN_CHARACTERS:
        found.append(Warning("linkedin_too_long", f"This note is {len(body)} characters; LinkedIn "
                             f"refuses connection notes over {LINKEDIN_CHARACTERS}.", level="error"))
    job = _JOB.search(text)
    if job:
        found.append(Warning("job_request", f"“{job.group(0)}”: an informational interview is not "
                             "a job request. Ask to learn about their work instead."))
    if kind in {Kind.outreach, Kind.linkedin_note} and not _REQUEST.search(body):
        found.append(Warning("no_request", "The message never asks for anything. Say what you "
                             "would like, such as a brief 30-minute conversation."))
    for label in placeholders(text):
        found.append(Warning("placeholder", f"[{label}] is still to be filled in." + _where(label),
                             field=PLACEHOLDERS.get(label)))
    if channel == Channel.email and not subject.strip():
        found.append(Warning("empty_subject", "The subject line is empty.", field="subject"))
    if channel == Channel.email and not recipient:
        found.append(Warning("no_email", "There is no email address to send this to yet. Add "
                             "one on the contact's page, or type it in your mail app."))
    return [asdict(w) for w in found]
