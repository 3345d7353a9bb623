import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .groups import Group


class Notification(models.Model):
    """The in-app inbox: written at once, whatever the quiet hours."""

    # No index of its own: notif_inbox (recipient, …) serves every lookup by recipient.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    # No index on case: nothing looks notifications up by case, and cases are never deleted
    # (the ledger is append-only; the admin refuses); each index costs every sweep insert.
    # No database constraint either: its check locks the case row (FOR KEY SHARE), a write
    # to the wide case table's page, for every notice the sweep writes (Django still
    # cascades; benchmarks/README.md, the sweep in the sixth sitting).
    case = models.ForeignKey(
        "disputes.Case",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("kind"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        # Moved from the disputes app with its table: existing databases keep their rows.
        db_table = "disputes_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header's unread count and the inbox list.
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notif_inbox"),
        ]

    def __str__(self):
        return self.title


class OutboxMessage(models.Model):
    """An email or SMS waiting to leave. Claimed with a conditional UPDATE before sending,
    so two workers or a retried task never send the same message twice."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # None: a message to someone who is not a user (a party told of their case's progress),
    # whose whole text is in `text`.
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    text = models.TextField(_("SMS text"), blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    not_before = models.DateTimeField(_("not before"))
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "disputes_outboxmessage"
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["created_at", "id"]
        indexes = [
            # outbox_deliver: pending messages whose quiet hours are over.
            models.Index(
                fields=["not_before"],
                name="outbox_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.channel} → {self.address} ({self.status})"


class NotificationPreference(models.Model):
    """Whether a user also wants one group of notices by SMS and by email (the inbox always
    has them). No row for a group: both, as before anyone could choose. Changes are kept
    in the history table (who changed what, when)."""

    # No index of its own: the unique (user, group) index serves every lookup by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        db_index=False,
    )
    group = models.CharField(_("notices"), max_length=16, choices=Group.choices)
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("email"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("historical notification preference"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            # notify_many joins the preferences of a batch's recipients on (user, group).
            models.UniqueConstraint(fields=["user", "group"], name="notifpref_user_group"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.group}"


class SmsTemplate(models.Model):
    """The wording of the SMS a party gets at one step of their case, edited in the admin.
    The placeholders are replaced as they stand; an event with no row uses the built-in
    wording (party_sms.DEFAULT_TEXTS in disputes, the same as the seeded rows)."""

    class Event(models.TextChoices):
        FILED = "filed", _("Case filed")
        ACCEPTED = "accepted", _("Case accepted")
        ASSIGNED = "assigned", _("Mediator assigned")
        CLOSED = "closed", _("Case closed")

    PLACEHOLDERS = ("{number}", "{code}", "{status}", "{url}")

    event = models.CharField(_("event"), max_length=16, choices=Event.choices, unique=True)
    text = models.TextField(
        _("SMS text"),
        max_length=300,
        help_text=_(
            "Placeholders: {number} the case number, {code} the tracking code, {status} the "
            "status in plain words, {url} the tracking page. Keep it short: 70 characters "
            "make one SMS."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("historical SMS template"))

    class Meta:
        verbose_name = _("SMS template")
        verbose_name_plural = _("SMS templates")
        ordering = ["event"]

    def __str__(self):
        return self.get_event_display()

    def clean(self):
        unknown = set(re.findall(r"\{[^{}]*\}", self.text or "")) - set(self.PLACEHOLDERS)
        if unknown:
            raise ValidationError(
                {
                    "text": _("Unknown placeholder: %(names)s. Use %(known)s.")
                    % {"names": " ".join(sorted(unknown)), "known": " ".join(self.PLACEHOLDERS)}
                }
            )
        if "{code}" not in (self.text or "") and "{url}" not in (self.text or ""):
            raise ValidationError(
                {"text": _("Include {code} or {url}: the party needs it to follow the case.")}
            )

    def render(self, values: dict[str, str]) -> str:
        return render_sms(self.text, values)


def render_sms(text: str, values: dict[str, str]) -> str:
    """The placeholders replaced as they stand (no format syntax: a stray brace in the
    wording is printed, never an error). notifications.services.sms_send does the same in
    SQL."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
