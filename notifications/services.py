"""Notifications: the inbox row is written at once; email and SMS wait in an outbox that a
worker drains, honouring quiet hours. Delivery claims each row with a conditional UPDATE, so
a retried task or a second worker never sends a message twice (at most once)."""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from grids.models import Assignment, Role, User

from . import live
from .delivery import quiet_hours_end
from .models import Notification, OutboxMessage
from .tasks import outbox_deliver

ASSIGNER_ROLES = (
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
)


@dataclass
class Message:
    users: Iterable["User | Recipient | None"]
    case: Model | None  # the case it is about (any model with a pk), or None
    kind: str
    title: str
    body: str = ""


def notify(*, users: Iterable[User], case: Model | None, kind: str, title: str, body: str = ""):
    """Write inbox rows and queue email/SMS. Call inside the transaction of the change.
    Returns the new notifications' ids."""
    return notify_many([Message(users=users, case=case, kind=kind, title=title, body=body)])


def notify_many(messages: Iterable[Message]) -> list[int]:
    """notify() for many messages at once (the SLA sweep): one INSERT for the inbox rows,
    one each for the email and SMS rows, one delivery kick, however many messages. Each
    message reaches each active recipient once. Returns the new notifications' ids."""
    now = timezone.now()
    rows = []
    for message in messages:
        recipients = {u.pk for u in message.users if u is not None and u.is_active}
        case_id = message.case.pk if message.case is not None else None
        title = message.title[:200]
        rows += [(pk, case_id, message.kind, title, message.body, now) for pk in recipients]
    if not rows:
        return []
    not_before = quiet_hours_end(now)
    if connection.vendor == "postgresql":
        ids, queued = _insert_with_outbox(rows, not_before=not_before, now=now)
    else:
        columns = ("recipient_id", "case_id", "kind", "title", "body", "created_at")
        created = Notification.objects.bulk_create(
            [Notification(**dict(zip(columns, row, strict=True))) for row in rows]
        )
        ids = [n.pk for n in created]
        queued = _queue_outbox(ids, not_before=not_before, now=now)
    if queued and not_before <= now:
        _kick_delivery()
    # Open pages show the new message and badge: one event per recipient per transaction.
    live.publish(sorted({live.user_group(row[0]) for row in rows}), {"type": "inbox"})
    return ids


# Set inside `one_delivery_task()`: delivery wanted, the task not started yet.
_held_kick: ContextVar[list | None] = ContextVar("held_delivery_kick", default=None)


def _deliver():
    outbox_deliver.delay()


def _kick_delivery():
    """Start one delivery task when the current transaction commits, however many notices
    it wrote (each notify() asking would queue a task per notice: a sweep escalating a
    thousand cases once queued a thousand tasks, and the next tick waited behind them)."""
    held = _held_kick.get()
    if held is not None:
        held.append(True)
        return
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(func is _deliver for _ids, func, _r in conn.run_on_commit):
        return
    transaction.on_commit(_deliver)


@contextmanager
def one_delivery_task():
    """Within the block, notices of many transactions (the sweep's batches, then each
    escalation in its own short transaction) start a single delivery task at the end."""
    if _held_kick.get() is not None:
        yield
        return
    token = _held_kick.set([])
    try:
        yield
    finally:
        wanted = bool(_held_kick.get())
        _held_kick.reset(token)
        if wanted:
            _kick_delivery()


def _insert_with_outbox(rows: list[tuple], *, not_before: datetime, now: datetime):
    """PostgreSQL: the inbox rows and their email/SMS rows in one statement (the outbox
    rows selected from the notifications as they are inserted), so the ids never travel
    to Python and back. Returns (notification ids, outbox rows queued)."""
    quote = connection.ops.quote_name
    notification, outbox, user = (
        quote(m._meta.db_table) for m in (Notification, OutboxMessage, User)
    )
    ncol = {f.name: quote(f.column) for f in Notification._meta.concrete_fields}
    ocol = {f.name: quote(f.column) for f in OutboxMessage._meta.concrete_fields}
    email, phone = (quote(User._meta.get_field(f).column) for f in ("email", "phone"))
    address = f"CASE ch.channel WHEN %s THEN u.{email} ELSE u.{phone} END"
    sql = (
        f"WITH n AS (INSERT INTO {notification} ({ncol['recipient']}, {ncol['case']}, "
        f"{ncol['kind']}, {ncol['title']}, {ncol['body']}, {ncol['created_at']}) "
        "SELECT r, c, k, t, b, %s::timestamptz FROM unnest(%s::bigint[], %s::bigint[], "
        "%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS v(r, c, k, t, b, o) "
        f"ORDER BY v.o RETURNING {ncol['id']} AS id, {ncol['recipient']} AS recipient), "
        f"q AS (INSERT INTO {outbox} ({ocol['notification']}, {ocol['channel']}, "
        f"{ocol['address']}, {ocol['status']}, {ocol['not_before']}, {ocol['attempts']}, "
        f"{ocol['last_error']}, {ocol['created_at']}) "
        f"SELECT n.id, ch.channel, {address}, %s, %s::timestamptz, 0, '', %s::timestamptz "
        f"FROM n JOIN {user} u ON u.id = n.recipient "
        "CROSS JOIN (VALUES (%s), (%s)) AS ch(channel) "
        f"WHERE {address} <> '' ORDER BY n.id, ch.channel RETURNING 1) "
        "SELECT (SELECT array_agg(id ORDER BY id) FROM n), (SELECT count(*) FROM q)"
    )
    email_channel, sms_channel = str(OutboxMessage.Channel.EMAIL), str(OutboxMessage.Channel.SMS)
    params = [
        now.isoformat(),
        *([row[i] for row in rows] for i in range(5)),
        email_channel,
        OutboxMessage.Status.PENDING.value,
        not_before.isoformat(),
        now.isoformat(),
        email_channel,
        sms_channel,
        email_channel,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids, queued = cursor.fetchone()
    return ids or [], queued


def _queue_outbox(notification_ids: list[int], *, not_before: datetime, now: datetime) -> int:
    """Elsewhere than PostgreSQL (SQLite in development): an email row for each recipient
    with an address and an SMS row for each with a phone, written by the database from the
    notifications just inserted (INSERT … SELECT), in chunks of SQLite's parameter limit."""
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in OutboxMessage._meta.concrete_fields}
    columns = ", ".join(
        column[name]
        for name in (
            "notification",
            "channel",
            "address",
            "status",
            "not_before",
            "attempts",
            "last_error",
            "created_at",
        )
    )
    outbox, notification, user = (
        quote(m._meta.db_table) for m in (OutboxMessage, Notification, User)
    )
    recipient = quote(Notification._meta.get_field("recipient").column)
    adapt = connection.ops.adapt_datetimefield_value
    queued = 0
    with connection.cursor() as cursor:
        for start in range(0, len(notification_ids), 900):  # at most 999 parameters
            chunk = notification_ids[start : start + 900]
            where = f"n.id IN ({', '.join(['%s'] * len(chunk))})"
            for channel, field in (
                (OutboxMessage.Channel.EMAIL, "email"),
                (OutboxMessage.Channel.SMS, "phone"),
            ):
                address = f"u.{quote(User._meta.get_field(field).column)}"
                cursor.execute(
                    f"INSERT INTO {outbox} ({columns}) "
                    f"SELECT n.id, %s, {address}, %s, %s, 0, '', %s "
                    f"FROM {notification} n JOIN {user} u ON u.id = n.{recipient} "
                    f"WHERE {where} AND {address} <> '' ORDER BY n.id",
                    [
                        str(channel),
                        OutboxMessage.Status.PENDING.value,
                        adapt(not_before),
                        adapt(now),
                        *chunk,
                    ],
                )
                queued += cursor.rowcount
    return queued


def holders(*, area, roles) -> list[User]:
    if area is None:
        return []
    return list(
        User.objects.filter(
            pk__in=Assignment.objects.active().filter(area=area, role__in=roles).values("user_id")
        )
    )


class Recipient(NamedTuple):
    """All notify_many needs of a user; the sweep looks up thousands, so no User instances."""

    pk: int
    is_active: bool


class Holders:
    """holders() for many areas, one query per batch of areas not seen yet, remembered for
    one SLA sweep (who holds a role changes far less often than a sweep runs)."""

    ROLES = (*ASSIGNER_ROLES, Role.GRID_WORKER)

    def __init__(self):
        self._by_area: dict[int, dict[str, list[Recipient]]] = {}
        self._known_roles = frozenset(self.ROLES)

    def prefetch(self, area_ids: Iterable[int | None]):
        missing = {a for a in area_ids if a is not None and a not in self._by_area}
        if not missing:
            return
        self._by_area.update({a: {} for a in missing})
        assignments = (
            Assignment.objects.active()
            .filter(area_id__in=missing, role__in=self.ROLES)
            .values_list("area_id", "role", "user_id", "user__is_active")
        )
        for area_id, role, user_id, is_active in assignments:
            by_role = self._by_area[area_id]
            by_role.setdefault(role, []).append(Recipient(user_id, is_active))

    def get(self, area_id: int | None, roles) -> list[Recipient]:
        if area_id is None:
            return []
        if not self._known_roles.issuperset(roles):
            raise ValueError(f"Holders does not load {set(roles) - self._known_roles}")
        by_role = self._by_area.get(area_id)
        if by_role is None:
            self.prefetch([area_id])
            by_role = self._by_area[area_id]
        users = {}
        for role in roles:
            for user in by_role.get(role, ()):
                users[user.pk] = user
        return list(users.values())


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.update(read_at=timezone.now())
    if marked:  # the badge in the user's other tabs and devices
        live.publish([live.user_group(user.pk)], {"type": "inbox"})
    return marked
