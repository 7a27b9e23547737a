"""Email through SMTP, as RAPPORT_SMTP_URL says: smtps:// speaks TLS from the first byte,
smtp://…?starttls=true upgrades with STARTTLS (and refuses to go on without it), plain smtp://
speaks in the clear (a relay on the same machine or network)."""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from app.config import Settings
from app.db import utcnow

log = logging.getLogger("rapport.mail")


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    tls: bool  # TLS from the start
    starttls: bool
    user: str
    password: str


def server(url: str) -> Server:
    parts = urlsplit(url)
    tls = parts.scheme == "smtps"
    starttls = parse_qs(parts.query).get("starttls", [""])[0].lower() in {"true", "yes", "1"}
    port = parts.port or (465 if tls else 587 if starttls else 25)
    return Server(host=parts.hostname or "", port=port, tls=tls, starttls=starttls,
                  user=unquote(parts.username or ""), password=unquote(parts.password or ""))


def one_line(text: str) -> str:
    """A header's text: a name or a task's title may hold line breaks, which a header cannot."""
    return " ".join(text.split())


def sender_domain(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "rapport"


def plain_message(settings: Settings, *, message_id: str, to_name: str, to_address: str,
                  subject: str, text: str) -> EmailMessage:
    """An email from Rapport in plain text, its Message-ID made of ``message_id``."""
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    local, _, domain = to_address.rpartition("@")
    msg["To"] = Address(display_name=one_line(to_name), username=local, domain=domain)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = f"<{message_id}@{sender_domain(settings)}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    return msg


def message(settings: Settings, *, email_id: str, to_name: str, to_address: str, subject: str,
            text: str, html: str, unsubscribe_url: str) -> EmailMessage:
    """A reminder: plain text and HTML, one-click unsubscribe (RFC 8058), and a Message-ID that
    is the same at every try, so a receiver can tell a retry from a second email."""
    msg = plain_message(settings, message_id=f"reminder-{email_id}", to_name=to_name,
                        to_address=to_address, subject=subject, text=text)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.add_alternative(html, subtype="html")
    return msg


class Refused(Exception):
    """The server refused the message for good (a 5xx answer): trying again will not help."""


class Mailer:
    """One SMTP connection, opened at the first message and kept for those that follow."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = server(settings.smtp_url)
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s, timeout = self.server, self.settings.mail_timeout_seconds
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Hand ``msg`` to the server; raises Refused (for good) or another error (try later)."""
        if self.connection is None:
            self.connection = self._connect()
        try:
            refused = self.connection.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500:
                raise Refused(f"Refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise Refused(f"The address was refused ({', '.join(map(str, codes))}).") from exc
            raise
        except BaseException:
            self.close()
            raise
        if refused:
            raise Refused("The address was refused.")

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def __enter__(self) -> "Mailer":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


# An account's own email (a reset link, a confirmation link) is sent after the answer, in the
# server's thread pool: a stuck server is given up soon.
ACCOUNT_EMAIL_TIMEOUT_SECONDS = 10


def send_account_email(settings: Settings, msg: EmailMessage) -> None:
    """Hand one account email to the SMTP server at once; a failure is logged (the person may
    ask for it again)."""
    quick = settings.model_copy(update={"mail_timeout_seconds": min(
        settings.mail_timeout_seconds, ACCOUNT_EMAIL_TIMEOUT_SECONDS)})
    try:
        with Mailer(quick) as mailer:
            mailer.send(msg)
    except Exception as exc:
        log.warning("The email \"%s\" could not be sent: %s", msg["Subject"], describe(exc))


def describe(exc: BaseException) -> str:
    """An SMTP failure in a line a person reads: the server's own answer when it gave one."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # staff read this: never the address
        return "The address was refused for now: " + "; ".join(
            f"{code} {_text(error)}" for code, error in exc.recipients.values())
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _text(error: bytes | str) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else error
