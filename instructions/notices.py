"""The inbox notice of an instruction, one per recipient, written after the send commits.

The recipient rows are the instruction (the banner and the lists read them); the inbox
notice is a side effect, so it leaves the sender's request (DESIGN rule 3): a task queued
on commit writes them all with one INSERT … SELECT, and a shared timer armed with the send
writes them from the sweep if the task was lost. Either way once: the first to set
`notices_written_at` (a conditional UPDATE, under the instruction's row lock) writes them."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.broadcast import notify_query

from .models import WAITING, Instruction, InstructionEvent, InstructionRecipient


def local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def write_notices(*, instruction_id: int) -> int:
    """Returns how many notices were written (0: written already)."""
    claimed = Instruction.objects.filter(pk=instruction_id, notices_written_at__isnull=True).update(
        notices_written_at=timezone.now()
    )
    if not claimed:
        return 0
    instruction = Instruction.objects.select_related("sender").get(pk=instruction_id)
    # In the inbox only: the banner on every page is the main channel, and a text message
    # to a whole city at once would be a cost and a nuisance; reminders go by SMS.
    written, _queued = notify_query(
        users=InstructionRecipient.objects.filter(instruction=instruction).values("user_id"),
        kind="instruction",
        title=_("Instruction: %(title)s") % {"title": instruction.title},
        body=_("%(sender)s asks you to acknowledge by %(deadline)s.")
        % {
            "sender": instruction.sender.display_name,
            "deadline": local_time(instruction.ack_due_at),
        },
    )
    return written


@transaction.atomic
def write_reminder_notices(*, event_id: int) -> int:
    """The inbox notice and SMS of a reminder (instruction_remind), to the people it stamped
    who still have not acknowledged. Returns how many were written (0: written already, by
    the request, the task or the sweep's fallback, whichever came first)."""
    claimed = InstructionEvent.objects.filter(
        pk=event_id, kind=InstructionEvent.Kind.REMINDED, notices_written_at__isnull=True
    ).update(notices_written_at=timezone.now())
    if not claimed:
        return 0
    event = InstructionEvent.objects.select_related("instruction__sender").get(pk=event_id)
    return notify_reminded(event=event, instruction=event.instruction)


def notify_reminded(*, event: InstructionEvent, instruction: Instruction) -> int:
    """Write a reminder's notices (the caller has claimed them: see above)."""
    written, _queued = notify_query(
        users=InstructionRecipient.objects.filter(
            instruction=instruction, reminded_at=event.at, status__in=WAITING
        ).values("user_id"),
        kind="instruction_reminder",
        title=_("Please acknowledge: %(title)s") % {"title": instruction.title},
        body=_("Acknowledge by %(deadline)s (sent by %(sender)s).")
        % {
            "deadline": local_time(instruction.ack_due_at),
            "sender": instruction.sender.display_name,
        },
        channels=["sms"],
    )
    return written
