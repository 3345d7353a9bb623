"""Instructions (指令 / 通知): a centre tells everyone holding some roles under an area to do
something, and each of them acknowledges (签收) by a deadline. One row per recipient, written
set-based when the instruction is sent; the row is the audit of what each person did."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.roles import Role

# The shared exactly-once timers (sla.timers): an instruction's acknowledgement deadline, and
# the fallback that writes its inbox notices if the task queued on commit was lost.
ACK_DUE = "instructions.ack_due"
NOTICES_DUE = "instructions.notices"
# The fallback for a large reminder's notices (the event's id), like NOTICES_DUE for a send.
REMINDER_NOTICES_DUE = "instructions.reminder_notices"


class Instruction(models.Model):
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        on_delete=models.PROTECT,
        related_name="instructions_sent",
        db_index=False,  # instr_sender (sender, -created_at) serves it
    )
    # Empty: every area (only someone who sees the whole system may send that).
    area = models.ForeignKey(
        "grids.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instructions",
    )
    roles = models.JSONField(_("roles"), default=list)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("content"), blank=True)
    ack_due_at = models.DateTimeField(_("acknowledge by"))
    recipient_count = models.PositiveIntegerField(_("recipients"), default=0)
    # When the recipients' inbox notices were written (once; see notices.py).
    notices_written_at = models.DateTimeField(_("notices written at"), null=True, blank=True)
    # When the sender was told how many had not acknowledged by the deadline (once).
    overdue_notified_at = models.DateTimeField(_("lateness reported at"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("instruction")
        verbose_name_plural = _("instructions")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sender's list of what they sent, newest first.
            models.Index(fields=["sender", "-created_at"], name="instr_sender"),
        ]

    def __str__(self):
        return self.title

    @property
    def roles_label(self) -> str:
        return "、".join(str(Role(r).label) for r in self.roles if r in Role.values)


class RecipientStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    READ = "read", _("Read")
    ACKED = "acked", _("Acknowledged")


# Not acknowledged yet (the same as acked_at empty; the status is what instr_progress holds).
WAITING = (RecipientStatus.RECEIVED, RecipientStatus.READ)


class InstructionRecipient(models.Model):
    """One person an instruction reached: when they opened it, acknowledged it and were last
    reminded. Written for all recipients at once by one INSERT … SELECT (services.py).

    Its foreign keys have no database constraint (db_constraint=False): PostgreSQL checks a
    constraint row by row at commit, locking each referenced user and area row, which cost
    more than writing the 217,000 rows themselves (bench_instructions.py: 8 s of 20). The
    rows are made in one statement from users, areas and the instruction as they are, and
    Django's on_delete (CASCADE with the user or instruction, PROTECT on areas) still
    applies to every delete made through the ORM."""

    instruction = models.ForeignKey(
        Instruction,
        verbose_name=_("instruction"),
        on_delete=models.CASCADE,
        related_name="recipients",
        db_constraint=False,
        db_index=False,  # the unique (instruction, user) index serves it
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="instructions_received",
        db_constraint=False,
        db_index=False,  # instr_inbox serves lookups by user
    )
    # Where the recipient holds the role the instruction went to.
    area = models.ForeignKey(
        "grids.Area",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # nothing looks recipients up by area; each index slows the send
    )
    # The child of the instruction's area this recipient falls under (the progress table's
    # row); empty when they hold the role at the instruction's area itself.
    branch = models.ForeignKey(
        "grids.Area",
        verbose_name=_("under"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,  # instr_progress (instruction, branch, status) serves it
    )
    role = models.CharField(_("role"), max_length=32)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RecipientStatus.choices,
        default=RecipientStatus.RECEIVED,
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    acked_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(_("reminders"), default=0)
    # No time of its own: everyone received it when it was sent (Instruction.created_at).

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["instruction", "user"], name="instr_recipient_once"),
            models.CheckConstraint(
                condition=Q(status=RecipientStatus.RECEIVED, read_at__isnull=True)
                | Q(status=RecipientStatus.READ, read_at__isnull=False, acked_at__isnull=True)
                | Q(status=RecipientStatus.ACKED, read_at__isnull=False, acked_at__isnull=False),
                name="instr_recipient_status_times",
            ),
        ]
        indexes = [
            # The progress table (counts per child area and status, index-only scans); who
            # has not acknowledged, paged in this order (no sort, whatever the statistics say
            # of a table that just grew by 217,000 rows); the reminders' laggards.
            models.Index(fields=["instruction", "branch", "status", "id"], name="instr_progress"),
            # The banner on every page (a person's instructions not yet acknowledged, newest
            # first) and their list of received instructions (unacknowledged first).
            models.Index(fields=["user", "acked_at", "id"], name="instr_inbox"),
        ]

    def __str__(self):
        return f"{self.instruction} → {self.user}"


class InstructionEvent(models.Model):
    """The instruction's own timeline: sent, reminders, the deadline. (Each recipient's read
    and acknowledgement times are on their row.)"""

    class Kind(models.TextChoices):
        SENT = "sent", _("Sent")
        REMINDED = "reminded", _("Reminded those who had not acknowledged")
        DEADLINE = "deadline", _("Acknowledgement deadline passed")

    instruction = models.ForeignKey(
        Instruction, verbose_name=_("instruction"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Empty for what the system did by itself (the deadline).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    people = models.PositiveIntegerField(_("people"), default=0)
    at = models.DateTimeField(_("at"))
    # A reminder's inbox and SMS notices: when they were written (by the request for a few
    # people, by a task after commit for many; set once, so they are written once).
    notices_written_at = models.DateTimeField(_("notices written at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instruction event")
        verbose_name_plural = _("instruction events")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.people}"
