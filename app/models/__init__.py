"""Every ORM model, imported here so Alembic and the app see the whole schema."""

from app.models.account import ApiKey, AuthSession, LoginCounter, PasswordReset, Role, User
from app.models.audit import AuditEntry
from app.models.contact import Contact, ContactEvent, ContactTag, Organization, Source, Stage
from app.models.directory import (
    DirectoryEngagement,
    DirectoryEntry,
    Engagement,
    Import,
    ImportRowError,
)
from app.models.idempotency import IdempotencyRecord
from app.models.interview import Format, Interview, InterviewQuestion, Status, Task, TaskStatus
from app.models.message import Channel, Kind, Message, MessageStatus, Template
from app.models.oidc import OidcIdentity, OidcLogin
from app.models.question import Question
from app.models.reminder import EmailKind, EmailStatus, ReminderEmail, ReminderPreference
from app.models.webhook import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "Channel",
    "Contact",
    "ContactEvent",
    "ContactTag",
    "DeliveryStatus",
    "DirectoryEngagement",
    "DirectoryEntry",
    "EmailKind",
    "EmailStatus",
    "Engagement",
    "Format",
    "IdempotencyRecord",
    "Import",
    "ImportRowError",
    "Interview",
    "InterviewQuestion",
    "Kind",
    "LoginCounter",
    "Message",
    "MessageStatus",
    "OidcIdentity",
    "OidcLogin",
    "Organization",
    "PasswordReset",
    "Question",
    "ReminderEmail",
    "ReminderPreference",
    "Role",
    "Source",
    "Stage",
    "Status",
    "Task",
    "TaskStatus",
    "Template",
    "User",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
