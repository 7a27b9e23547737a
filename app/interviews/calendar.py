"""An interview as an iCalendar event, so the meeting lands in any calendar."""

from icalendar import Calendar, Event, vCalAddress, vText

from app.errors import Conflict
from app.interviews.service import ends_at
from app.models import Interview, User


def ics(owner: User, interview: Interview) -> bytes:
    if interview.scheduled_at is None:
        raise Conflict("This interview has no date yet. Set one, then add it to your calendar.",
                       code="not_scheduled")
    contact = interview.contact
    where = [contact.title, contact.organization_name or ""]
    lines = [f"Informational interview with {contact.full_name}"
             + (f" ({', '.join(w for w in where if w)})" if any(where) else "") + "."]
    lines += [f"{label}: {value}" for label, value in
              (("Email", contact.email), ("Phone", contact.phone)) if value]
    if interview.items:
        lines += ["", "Questions:"]
        lines += [f"{item.position}. {item.text}" for item in interview.items]

    event = Event()
    event.add("uid", f"interview-{interview.id}@rapport")
    event.add("dtstamp", interview.updated_at)
    event.add("dtstart", interview.scheduled_at)
    event.add("dtend", ends_at(interview))
    event.add("sequence", interview.version)
    event.add("summary", f"Informational interview: {contact.full_name}")
    event.add("description", "\n".join(lines))
    if interview.location:
        event.add("location", interview.location)
    organizer = vCalAddress(f"mailto:{owner.email}")
    organizer.params["cn"] = vText(owner.name)
    event.add("organizer", organizer)
    if contact.email:
        attendee = vCalAddress(f"mailto:{contact.email}")
        attendee.params["cn"] = vText(contact.full_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)

    calendar = Calendar()
    calendar.add("prodid", "-//Rapport//Informational interviews//EN")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
