"""Notifications: the inbox row is written at once; email and SMS wait in an outbox that a
worker drains, honouring quiet hours. Delivery claims each row with a conditional UPDATE, so
a retried task or a second worker never sends a message twice (at most once)."""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from common.prepared import Prepared
from grids.models import Assignment, Role, User

from . import live, selectors
from .delivery import quiet_hours_end
from .groups import Group, group_of
from .models import Notification, NotificationPreference, OutboxMessage, SmsTemplate
from .tasks import queue_delivery

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
        queued = _queue_outbox(ids, {row[2] for row in rows}, not_before=not_before, now=now)
    if queued and not_before <= now:
        _kick_delivery()
    # Open pages show the new message and badge: one event per recipient per transaction.
    live.publish(sorted({live.user_group(row[0]) for row in rows}), {"type": "inbox"})
    return ids


# Set inside `one_delivery_task()`: delivery wanted, the task not started yet.
_held_kick: ContextVar[list | None] = ContextVar("held_delivery_kick", default=None)


def _deliver():
    queue_delivery()


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


def _wanted(kinds: Iterable[str], *, recipient: str, kind: str, channel: str):
    """SQL for "the recipient wants this channel for this kind of notice": a LEFT JOIN of
    their preference for the kind's group (no row: yes, as before preferences existed) and
    the condition, with their parameters. The preferences of every recipient of a batch are
    read by the same statement that writes the outbox rows, never one by one."""
    quote = connection.ops.quote_name
    table = quote(NotificationPreference._meta.db_table)
    col = {f.name: quote(f.column) for f in NotificationPreference._meta.concrete_fields}
    kinds = sorted(set(kinds))
    group = "CASE " + kind + " " + " ".join(["WHEN %s THEN %s"] * len(kinds)) + " END"
    join = f"LEFT JOIN {table} p ON p.{col['user']} = {recipient} AND p.{col['group']} = {group}"
    chosen = f"CASE {channel} WHEN %s THEN p.{col['email']} ELSE p.{col['sms']} END"
    condition = f"COALESCE({chosen}, %s)"
    join_params = [value for k in kinds for value in (k, group_of(k))]
    return join, join_params, condition, [str(OutboxMessage.Channel.EMAIL), True]


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
    join, join_params, wanted, wanted_params = _wanted(
        {row[2] for row in rows}, recipient="n.recipient", kind="n.kind", channel="ch.channel"
    )
    sql = (
        f"WITH n AS (INSERT INTO {notification} ({ncol['recipient']}, {ncol['case']}, "
        f"{ncol['kind']}, {ncol['title']}, {ncol['body']}, {ncol['created_at']}) "
        "SELECT r, c, k, t, b, %s::timestamptz FROM unnest(%s::bigint[], %s::bigint[], "
        "%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS v(r, c, k, t, b, o) "
        f"ORDER BY v.o RETURNING {ncol['id']} AS id, {ncol['recipient']} AS recipient, "
        f"{ncol['kind']} AS kind), "
        f"q AS (INSERT INTO {outbox} ({ocol['notification']}, {ocol['channel']}, "
        f"{ocol['address']}, {ocol['status']}, {ocol['not_before']}, {ocol['attempts']}, "
        f"{ocol['last_error']}, {ocol['text']}, {ocol['created_at']}) "
        f"SELECT n.id, ch.channel, {address}, %s, %s::timestamptz, 0, '', '', %s::timestamptz "
        f"FROM n JOIN {user} u ON u.id = n.recipient "
        f"CROSS JOIN (VALUES (%s), (%s)) AS ch(channel) {join} "
        f"WHERE {address} <> '' AND {wanted} ORDER BY n.id, ch.channel RETURNING 1) "
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
        *join_params,
        email_channel,
        *wanted_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids, queued = cursor.fetchone()
    return ids or [], queued


def _queue_outbox(
    notification_ids: list[int], kinds: set[str], *, not_before: datetime, now: datetime
) -> int:
    """Elsewhere than PostgreSQL (SQLite in development): an email row for each recipient
    with an address and an SMS row for each with a phone, unless their preference says no,
    written by the database from the notifications just inserted (INSERT … SELECT), in
    chunks of SQLite's parameter limit."""
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
            "text",
            "created_at",
        )
    )
    outbox, notification, user = (
        quote(m._meta.db_table) for m in (OutboxMessage, Notification, User)
    )
    recipient = quote(Notification._meta.get_field("recipient").column)
    kind = quote(Notification._meta.get_field("kind").column)
    adapt = connection.ops.adapt_datetimefield_value
    size = 990 - 2 * len(kinds) - 8  # at most 999 parameters a statement
    queued = 0
    with connection.cursor() as cursor:
        for start in range(0, len(notification_ids), size):
            chunk = notification_ids[start : start + size]
            where = f"n.id IN ({', '.join(['%s'] * len(chunk))})"
            for channel, field in (
                (OutboxMessage.Channel.EMAIL, "email"),
                (OutboxMessage.Channel.SMS, "phone"),
            ):
                address = f"u.{quote(User._meta.get_field(field).column)}"
                join, join_params, wanted, wanted_params = _wanted(
                    kinds, recipient=f"n.{recipient}", kind=f"n.{kind}", channel="%s"
                )
                cursor.execute(
                    f"INSERT INTO {outbox} ({columns}) "
                    f"SELECT n.id, %s, {address}, %s, %s, 0, '', '', %s "
                    f"FROM {notification} n JOIN {user} u ON u.id = n.{recipient} {join} "
                    f"WHERE {where} AND {address} <> '' AND {wanted} ORDER BY n.id",
                    [
                        str(channel),
                        OutboxMessage.Status.PENDING.value,
                        adapt(not_before),
                        adapt(now),
                        *join_params,
                        *chunk,
                        str(channel),
                        *wanted_params,
                    ],
                )
                queued += cursor.rowcount
    return queued


def sms_send(*, phone: str, event: str, default: str, values: dict[str, str]) -> int:
    """Queue one SMS to a phone that is not a user's (a party of a case): the wording is
    the admin's SmsTemplate for `event` (or `default` if it has none), its placeholders
    replaced by `values`, read and written by one INSERT … SELECT. Quiet hours and
    at-most-once delivery as for every outbox row. Returns the rows queued (1)."""
    now = timezone.now()
    not_before = quiet_hours_end(now)
    quote = connection.ops.quote_name
    outbox, template = (quote(m._meta.db_table) for m in (OutboxMessage, SmsTemplate))
    col = {f.name: quote(f.column) for f in OutboxMessage._meta.concrete_fields}
    tcol = {f.name: quote(f.column) for f in SmsTemplate._meta.concrete_fields}
    text = f"COALESCE((SELECT t.{tcol['text']} FROM {template} t WHERE t.{tcol['event']} = %s), %s)"
    params = [event, default]
    for name, value in values.items():
        text = f"REPLACE({text}, %s, %s)"
        params += ["{" + name + "}", value]
    adapt = connection.ops.adapt_datetimefield_value
    columns = ("notification", "channel", "address", "text", "status", "not_before")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {outbox} ({', '.join(col[c] for c in columns)}, {col['attempts']}, "
            f"{col['last_error']}, {col['created_at']}) "
            f"SELECT NULL, %s, %s, {text}, %s, %s, 0, '', %s",
            [
                str(OutboxMessage.Channel.SMS),
                phone,
                *params,
                OutboxMessage.Status.PENDING.value,
                adapt(not_before),
                adapt(now),
            ],
        )
        queued = cursor.rowcount
    if queued and not_before <= now:
        _kick_delivery()
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


# The header's badge on every page: compiled once per connection (common.prepared).
UNREAD = Prepared(
    lambda user_id: Notification.objects.filter(recipient_id=user_id, read_at__isnull=True)
)


def unread_count(user) -> int:
    return UNREAD.count(user.pk)


def mark_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.update(read_at=timezone.now())
    if marked:  # the badge in the user's other tabs and devices
        live.publish([live.user_group(user.pk)], {"type": "inbox"})
    return marked


@transaction.atomic
def preferences_save(*, user: User, actor: User, choices: dict[str, dict[str, bool]]):
    """Set which groups of notices `user` also gets by SMS and by email: `choices` maps a
    group to {"sms": bool, "email": bool} (a group left out, or a channel left out of a
    group, keeps what it was). Only the user themself may; each group that changes is saved
    with its history row (who, when, before → after). Returns the preferences as shown."""
    if actor.pk != user.pk:
        raise PermissionDenied(_("You may change only your own notification settings."))
    unknown = sorted(set(choices) - set(Group.values))
    if unknown:
        message = _("Unknown group of notices: %(groups)s.") % {"groups": ", ".join(unknown)}
        raise ValidationError({"groups": [message]})
    existing = {
        p.group: p
        for p in NotificationPreference.objects.select_for_update().filter(user_id=user.pk)
    }
    for group, wanted in choices.items():
        preference = existing.get(group) or NotificationPreference(user_id=user.pk, group=group)
        changed = False
        for channel in ("sms", "email"):
            if channel in wanted and getattr(preference, channel) != bool(wanted[channel]):
                setattr(preference, channel, bool(wanted[channel]))
                changed = True
        if changed:
            preference._history_user = actor
            preference.save()
            existing[group] = preference
    return selectors.preferences_of(user, existing=existing)
