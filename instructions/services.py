"""Every write of an instruction: send, open (read), acknowledge, remind.

Sending reaches everyone at once: the recipient rows are made by the database from the
role assignments in the area's subtree (one INSERT … SELECT), and their inbox notices from
the recipient rows (another); 217,000 grid workers take a few seconds, not minutes
(benchmarks/bench_instructions.py). Reading and acknowledging are conditional UPDATEs of the
recipient's own row, so a double tap or two devices at once record one time."""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import insert_from_select
from common.errors import StateConflict
from common.limits import TEXT_MAX, too_long
from grids.models import Area, Assignment
from sla import timers

from .models import (
    ACK_DUE,
    NOTICES_DUE,
    REMINDER_NOTICES_DUE,
    WAITING,
    Instruction,
    InstructionEvent,
    InstructionRecipient,
    RecipientStatus,
)
from .notices import notify_reminded
from .scope import RECIPIENT_ROLES, may_send_to
from .tasks import instruction_notices, reminder_notices

TITLE_MAX = 100
# An acknowledgement deadline further away than this is a typing mistake, not a plan.
LONGEST_DEADLINE = timedelta(days=90)
# When the sweep writes the inbox notices itself, should the task queued on commit be lost.
NOTICES_FALLBACK = timedelta(minutes=2)
# Up to this many people a reminder's notices are written in the request (a street's
# reminder: well under a second), so the sender sees them queued at once; above, by a task.
REMIND_IN_REQUEST_MAX = 5000
# A laggard gets at most one reminder (an SMS) per hour, however often the button is pressed.
REMIND_EVERY = timedelta(hours=1)
RECIPIENT_COLUMNS = ("instruction_id", "user_id", "area_id", "branch_id", "role", "status",
                     "reminders")  # fmt: skip


def _check(*, actor, area, roles, title, body, ack_due_at, now) -> tuple[list[str], str, str]:
    if not may_send_to(actor, area):
        raise PermissionDenied(_("You may not send instructions to this area."))
    errors: dict[str, list[str]] = {}
    roles = list(dict.fromkeys(roles or ()))
    if not roles:
        errors["roles"] = [_("Choose who the instruction is for.")]
    elif any(role not in RECIPIENT_ROLES for role in roles):
        errors["roles"] = [_("Instructions can only go to roles held at an area.")]
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = [_("Give the instruction a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [too_long(TITLE_MAX)]
    if len(body) > TEXT_MAX:
        errors["body"] = [too_long(TEXT_MAX)]
    if ack_due_at is None:
        errors["ack_due_at"] = [_("Set a deadline to acknowledge.")]
    elif ack_due_at <= now:
        errors["ack_due_at"] = [_("The deadline must be in the future.")]
    elif ack_due_at > now + LONGEST_DEADLINE:
        errors["ack_due_at"] = [_("The deadline can be at most 90 days away.")]
    if errors:
        raise ValidationError(errors)
    return roles, title, body


def _recipient_rows(instruction: Instruction, *, actor, now: datetime):
    """The recipients as a query: every active user (not the sender) holding one of the
    roles at an area of the subtree today, with the child area they fall under for the
    progress table. Someone holding the roles at several areas appears once per assignment
    here; see instruction_send for how they are told once."""
    area = instruction.area
    assignments = Assignment.objects.active(now).filter(
        role__in=instruction.roles, area__isnull=False, user__is_active=True
    )
    if area is not None:
        assignments = assignments.filter(area__path__startswith=area.path)
        children = Area.objects.filter(parent=area)
    else:
        children = Area.objects.filter(depth=1)
    # A CASE over the children's paths (a few dozen at most, by the shape of the tree) is
    # cheaper than joining the 137,000 areas once more to find each recipient's branch.
    branches = [
        When(area__path__startswith=path, then=Value(pk))
        for pk, path in children.order_by("path").values_list("pk", "path")
    ]
    branch = (
        Case(*branches, default=None, output_field=BigIntegerField())
        if branches
        else Value(None, output_field=BigIntegerField())
    )
    return assignments.exclude(user=actor).values_list(
        Value(instruction.pk, output_field=BigIntegerField()),
        "user_id",
        "area_id",
        branch,
        "role",
        Value(RecipientStatus.RECEIVED.value),
        Value(0),
    )


def _write_recipients(instruction: Instruction, *, actor, now: datetime) -> int:
    """One INSERT … SELECT; a person holding the roles at several areas is told once (under
    their earliest assignment). PostgreSQL keeps one row per person with DISTINCT ON, which
    costs a sort of integers; ON CONFLICT DO NOTHING, the portable way used elsewhere, costs
    a speculative insertion per row (a third more for 217,000 rows)."""
    rows = _recipient_rows(instruction, actor=actor, now=now)
    if connection.vendor == "postgresql":
        rows = rows.order_by("user_id", "pk").distinct("user_id")
        return insert_from_select(InstructionRecipient, RECIPIENT_COLUMNS, rows)
    rows = rows.order_by("user_id", "pk")
    return insert_from_select(InstructionRecipient, RECIPIENT_COLUMNS, rows, ignore_conflicts=True)


@transaction.atomic
def instruction_send(
    *, actor, area: Area | None, roles, title: str, body: str = "", ack_due_at: datetime
) -> Instruction:
    """Send an instruction to everyone holding `roles` under `area` (None: every area, for
    someone who sees the whole system). Nobody to send to is an error; nothing is saved."""
    now = timezone.now()
    roles, title, body = _check(
        actor=actor, area=area, roles=roles, title=title, body=body, ack_due_at=ack_due_at, now=now
    )
    instruction = Instruction.objects.create(
        sender=actor, area=area, roles=roles, title=title, body=body, ack_due_at=ack_due_at
    )
    count = _write_recipients(instruction, actor=actor, now=now)
    if not count:
        raise ValidationError(
            {"roles": [_("Nobody holds these roles in this area; nothing was sent.")]}
        )
    instruction.recipient_count = count
    instruction.save(update_fields=["recipient_count", "updated_at"])
    InstructionEvent.objects.create(
        instruction=instruction, kind=InstructionEvent.Kind.SENT, actor=actor, people=count, at=now
    )
    timers.arm(ACK_DUE, instruction.pk, ack_due_at)
    # The inbox notices after commit (notices.py): the banner needs only the rows above.
    timers.arm(NOTICES_DUE, instruction.pk, now + NOTICES_FALLBACK)
    pk = instruction.pk
    transaction.on_commit(lambda: instruction_notices.delay(pk))
    return instruction


def _receipt(*, instruction, user, receipt=None) -> InstructionRecipient:
    """The user's own row of the instruction (a caller that read it already passes it)."""
    if receipt is not None and (receipt.user_id, receipt.instruction_id) == (
        user.pk,
        instruction.pk,
    ):
        return receipt
    receipt = InstructionRecipient.objects.filter(instruction=instruction, user=user).first()
    if receipt is None:
        raise PermissionDenied(_("This instruction was not sent to you."))
    return receipt


def instruction_open(
    *, instruction: Instruction, actor, receipt: InstructionRecipient | None = None
) -> InstructionRecipient:
    """The recipient opened the instruction: read now, unless read before (kept)."""
    now = timezone.now()
    receipt = _receipt(instruction=instruction, user=actor, receipt=receipt)
    if receipt.read_at is None:
        marked = InstructionRecipient.objects.filter(pk=receipt.pk, read_at__isnull=True).update(
            read_at=now, status=RecipientStatus.READ
        )
        if marked:
            receipt.read_at, receipt.status = now, RecipientStatus.READ
        else:
            receipt.refresh_from_db(fields=["status", "read_at", "acked_at"])
    return receipt


def instruction_ack(
    *, instruction: Instruction, actor, receipt: InstructionRecipient | None = None
) -> InstructionRecipient:
    """已签收. Idempotent: acknowledging again (a double tap, a second device) keeps the first
    time. Acknowledging unread marks it read at the same moment."""
    now = timezone.now()
    receipt = _receipt(instruction=instruction, user=actor, receipt=receipt)
    if receipt.acked_at is None:
        # Conditional: of two taps at once, the second finds it acknowledged and changes
        # nothing (PostgreSQL re-checks the condition once the first one's lock is released).
        marked = InstructionRecipient.objects.filter(pk=receipt.pk, acked_at__isnull=True).update(
            acked_at=now, read_at=Coalesce(F("read_at"), Value(now)), status=RecipientStatus.ACKED
        )
        if marked:
            receipt.acked_at, receipt.status = now, RecipientStatus.ACKED
            receipt.read_at = receipt.read_at or now
        # Lost to another tap, or read meanwhile: the stored times are the truth.
        if not marked or receipt.read_at == now:
            receipt.refresh_from_db(fields=["status", "read_at", "acked_at"])
    return receipt


def laggards(instruction: Instruction):
    """Recipients who have not acknowledged (by status, so index instr_progress serves it)."""
    return InstructionRecipient.objects.filter(instruction=instruction, status__in=WAITING)


@transaction.atomic
def instruction_remind(*, instruction: Instruction, actor) -> int:
    """Remind everyone who has not acknowledged, by SMS (through the outbox, so after the
    quiet hours) and in the inbox; someone reminded within the hour is skipped. Returns how
    many were reminded (0: nobody was due one)."""
    if not may_remind(actor, instruction):
        raise PermissionDenied(_("You may not remind the recipients of this instruction."))
    if not laggards(instruction).exists():
        raise StateConflict(_("Everyone has acknowledged; there is nobody to remind."))
    now = timezone.now()
    # One conditional UPDATE picks and stamps the people: a second press at the same moment
    # waits for this one's row locks, then finds them reminded and takes nobody.
    count = (
        laggards(instruction)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - REMIND_EVERY))
        .update(reminded_at=now, reminders=F("reminders") + 1)
    )
    if not count:
        return 0
    inline = count <= REMIND_IN_REQUEST_MAX
    event = InstructionEvent.objects.create(
        instruction=instruction,
        kind=InstructionEvent.Kind.REMINDED,
        actor=actor,
        people=count,
        at=now,
        notices_written_at=now if inline else None,
    )
    if inline:
        notify_reminded(event=event, instruction=instruction)
    else:
        # A city's reminder (200,000 people: ~10 s of inbox and SMS rows) leaves the request,
        # as a send's notices do: a task after commit, the sweep's timer should it be lost.
        timers.arm(REMINDER_NOTICES_DUE, event.pk, now + NOTICES_FALLBACK)
        transaction.on_commit(lambda: reminder_notices.delay(event.pk))
    return count


def may_remind(user, instruction: Instruction) -> bool:
    """The sender, or whoever may send to the instruction's area (their successor, the
    leader beside them)."""
    return instruction.sender_id == user.pk or may_send_to(user, instruction.area)
