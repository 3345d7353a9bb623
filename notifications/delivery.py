"""Delivery of the email/SMS outbox, honouring quiet hours. Each row is claimed with a
conditional UPDATE before sending, so a retried task or a second worker never sends a
message twice (at most once)."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from .backends import get_sms_backend
from .models import OutboxMessage

# A message claimed but not marked sent after this long is presumed lost in a crash; it is
# marked failed rather than sent again, because sending twice is worse than not at all.
STUCK_AFTER = timedelta(minutes=10)


def quiet_hours_end(now: datetime) -> datetime:
    """The earliest time an email or SMS may go out: now, or the end of the quiet hours."""
    start_hour, end_hour = settings.NOTIFY_QUIET_HOURS
    if start_hour == end_hour:
        return now
    local = timezone.localtime(now)
    hour = local.hour
    in_quiet = (
        (start_hour <= hour or hour < end_hour)
        if start_hour > end_hour
        else (start_hour <= hour < end_hour)
    )
    if not in_quiet:
        return now
    day = local.date() if hour < end_hour else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(end_hour)), local.tzinfo)


def _send(message: OutboxMessage):
    notification = message.notification
    if notification is None:  # a party's SMS: the whole text is on the row
        get_sms_backend().send(phone=message.address, text=message.text)
        return
    text = f"{notification.title}\n{notification.body}".strip()
    if message.channel == OutboxMessage.Channel.EMAIL:
        send_mail(notification.title, text, settings.DEFAULT_FROM_EMAIL, [message.address])
    else:
        get_sms_backend().send(phone=message.address, text=text)


def outbox_deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    OutboxMessage.objects.filter(status="sending", claimed_at__lt=now - STUCK_AFTER).update(
        status="failed", last_error="claimed but never confirmed; not resent"
    )
    sent = 0
    ids = list(
        OutboxMessage.objects.filter(status="pending", not_before__lte=now)
        .order_by("not_before", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        claimed = OutboxMessage.objects.filter(pk=pk, status="pending").update(
            status="sending", claimed_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            continue  # another worker has it
        message = OutboxMessage.objects.select_related("notification").get(pk=pk)
        try:
            _send(message)
        except Exception as exc:  # any provider error is recorded on the row, not raised
            OutboxMessage.objects.filter(pk=pk).update(status="failed", last_error=str(exc)[:2000])
            continue
        OutboxMessage.objects.filter(pk=pk).update(status="sent", sent_at=timezone.now())
        sent += 1
    return sent


def outbox_due(now: datetime | None = None) -> bool:
    """Whether a message is waiting to be sent now."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(status="pending", not_before__lte=now).exists()


def outbox_backlog(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return OutboxMessage.objects.filter(Q(status="pending") & Q(not_before__lte=now)).count()
