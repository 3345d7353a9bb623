"""Two shared exactly-once timers (sla/timers.py), armed when an instruction is sent: the
fallback for its inbox notices (notices.py), and the acknowledgement deadline. When the
deadline passes, the sender is told how many have not acknowledged, once: the timer fires
once however many sweeps overlap, and the instruction's `overdue_notified_at`, set under its
row lock, guards a re-armed timer."""

from datetime import datetime

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import Message, notify_many
from sla import timers

from .models import (
    ACK_DUE,
    NOTICES_DUE,
    REMINDER_NOTICES_DUE,
    WAITING,
    Instruction,
    InstructionEvent,
    InstructionRecipient,
)
from .notices import write_notices, write_reminder_notices


@timers.handler(NOTICES_DUE)
def notices_fallback(due: list[timers.Due], now: datetime) -> None:
    """The task queued on commit normally wrote them long ago: then this writes nothing."""
    for item in due:
        write_notices(instruction_id=item.object_id)


@timers.handler(REMINDER_NOTICES_DUE)
def reminder_notices_fallback(due: list[timers.Due], now: datetime) -> None:
    for item in due:
        write_reminder_notices(event_id=item.object_id)


@timers.handler(ACK_DUE)
def ack_deadline_passed(due: list[timers.Due], now: datetime) -> None:
    deadlines = {d.object_id: d.due_at for d in due}
    instructions = list(
        Instruction.objects.select_for_update(of=("self",))
        .select_related("sender")
        .filter(pk__in=deadlines, overdue_notified_at__isnull=True)
    )
    if not instructions:
        return
    missing = dict(
        InstructionRecipient.objects.filter(instruction__in=instructions, status__in=WAITING)
        .values("instruction")
        .annotate(n=Count("id"))
        .values_list("instruction", "n")
        .order_by()
    )
    events, messages = [], []
    for instruction in instructions:
        late = missing.get(instruction.pk, 0)
        events.append(
            InstructionEvent(
                instruction=instruction,
                kind=InstructionEvent.Kind.DEADLINE,
                people=late,
                at=deadlines[instruction.pk],
            )
        )
        if late:
            title = _("%(n)d of %(total)d have not acknowledged: %(title)s") % {
                "n": late,
                "total": instruction.recipient_count,
                "title": instruction.title,
            }
            body = _("The deadline to acknowledge was %(deadline)s.") % {
                "deadline": timezone.localtime(instruction.ack_due_at).strftime("%Y-%m-%d %H:%M")
            }
            messages.append(
                Message(
                    users=[instruction.sender],
                    case=None,
                    kind="instruction_overdue",
                    title=title,
                    body=body,
                )
            )
    InstructionEvent.objects.bulk_create(events)
    Instruction.objects.filter(pk__in=[i.pk for i in instructions]).update(overdue_notified_at=now)
    notify_many(messages)
