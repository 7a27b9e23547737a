"""Response bodies of the engagement figures. Counts only: nothing here names a student, and no
field can carry a private note or the name of a student's own template."""

from pydantic import BaseModel, Field

from app.models import Kind

STUDENTS = ("Only accounts with the role `student` are counted; staff and admin accounts trying "
            "the app are left out.")
RATE = "A share between 0 and 1, rounded to 4 decimals; null when the count it divides by is 0."


class Figures(BaseModel):
    students_active: int = Field(description=(
        "Distinct students who did something Rapport records: added or changed a contact "
        "(imports included), sent a message, marked a reply, or scheduled, held or cancelled an "
        "interview — anything on a contact's timeline. " + STUDENTS))
    outreach_sent: int = Field(description=(
        "First messages sent: outreach emails and LinkedIn connection notes marked sent, counted "
        "in the month of `sent_at`. Follow-ups, thank-you notes and other kinds are not outreach."))
    replies: int = Field(description=(
        "Of the outreach counted in `outreach_sent`, how many have been marked replied since "
        "(whenever the reply came)."))
    reply_rate: float | None = Field(description="`replies / outreach_sent`. " + RATE)
    interviews_held: int = Field(description=(
        "Interviews marked completed, counted in the month they were marked held "
        "(`completed_at`)."))
    thank_yous_sent: int = Field(description=(
        "Thank-you notes marked sent, counted in the month of `sent_at`."))
    thank_yous_on_time: int = Field(description=(
        "Of `thank_yous_sent`, those sent within the configured thank-you window "
        "(`RAPPORT_THANK_YOU_HOURS`, 24 by default) of the end of the interview they follow. "
        "The interview a note follows is the one it was written for (`interview_id`) when that "
        "one was held, else the last interview held with the same contact before the note was "
        "sent. An interview ends at its scheduled start plus its duration, or when it was marked "
        "held if that came first (the same clock as the thank-you task). A note that follows no "
        "held interview is sent but not on time."))
    reminders_sent: int = Field(description=(
        "Reminder emails (the daily digest and the notices) the mail server accepted, counted "
        "in the month they were sent."))
    reminders_acted_on: int = Field(description=(
        "Of `reminders_sent`, those after which the student, within 24 hours of the email, "
        "completed a task it listed or held an interview it named."))


class _MonthName(BaseModel):
    month: str = Field(description="A calendar month in UTC, written YYYY-MM.",
                       examples=["2026-11"])


class Month(Figures, _MonthName):
    """One month's figures (the month first)."""


class Engagement(BaseModel):
    """Figures month by month, and for the whole range."""

    months: list[Month] = Field(description=(
        "Every month of the range, oldest first; a month with no activity is present with "
        "zeros (and a null rate)."))
    totals: Figures = Field(description=(
        "The same figures over the whole range. `students_active` counts each student once, so "
        "it is not the sum of the months."))


class DirectoryRow(BaseModel):
    entry_id: str
    external_id: str | None = Field(description="The CRM's id for the entry, if it has one.")
    name: str = Field(description="The alumnus or alumna's full name.")
    organization_name: str
    added: int = Field(description="Distinct students who copied the entry into their contacts.")
    contacted: int = Field(description=(
        "Distinct students who sent the entry an outreach email or a LinkedIn note."))
    interviewed: int = Field(description="Distinct students who held an interview with them.")


class TemplateRow(BaseModel):
    template_id: str | None = Field(description=(
        "The shared default template's id; null for the row that groups students' own "
        "templates of one kind."))
    name: str = Field(description=(
        "The default template's name, or \"Students' own templates\". A student's own template "
        "is never named."))
    kind: Kind
    sent: int = Field(description="Messages written from it and marked sent.")
    replied: int = Field(description="Of those, how many have been marked replied.")
    reply_rate: float | None = Field(description="`replied / sent`. " + RATE)


class TemplatePage(BaseModel):
    items: list[TemplateRow]
    next_cursor: str | None = Field(description="Always null: the list fits on one page.")
