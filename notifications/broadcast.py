"""Notices to everyone a query picks (an instruction to every grid worker of a city, a
reminder to all who have not acknowledged it): the inbox rows are made by the database from
the query (INSERT … SELECT) and the email/SMS rows from the inbox rows, so however many
people there are, not one id travels to Python and back. notify_many (services.py) is the
twin for notices whose recipients are already in hand."""

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import DateTimeField, QuerySet, Value
from django.utils import timezone

from common.bulk import insert_from_select
from grids.models import User

from .delivery import quiet_hours_end
from .groups import group_of
from .models import Notification, NotificationPreference, OutboxMessage
from .tasks import queue_delivery

INBOX_COLUMNS = ("recipient_id", "kind", "title", "body", "created_at")
ADDRESS_FIELD = {OutboxMessage.Channel.EMAIL: "email", OutboxMessage.Channel.SMS: "phone"}


def notify_query(
    *,
    users: QuerySet,
    kind: str,
    title: str,
    body: str = "",
    channels: Iterable[str] = (),
) -> tuple[int, int]:
    """An inbox notice for each active user among `users` (a queryset of one column of user
    ids, e.g. `recipients.values("user_id")`), and for each `channels` entry ("sms",
    "email") an outbox row to those with that address, sent after the quiet hours. Call
    inside the transaction of the change. Returns (notices written, outbox rows queued)."""
    now = timezone.now()
    channels = [OutboxMessage.Channel(c) for c in channels]
    rows = (
        User.objects.filter(is_active=True, pk__in=users)
        .order_by()
        .values_list(
            "pk",
            Value(kind),
            Value(title[:200]),
            Value(body),
            Value(now, output_field=DateTimeField()),
        )
    )
    if not channels:
        return insert_from_select(Notification, INBOX_COLUMNS, rows), 0
    not_before = quiet_hours_end(now)
    if connection.vendor == "postgresql":
        written, queued = _insert_with_outbox(
            rows, channels, kind=kind, not_before=not_before, now=now
        )
    else:
        written = insert_from_select(Notification, INBOX_COLUMNS, rows)
        queued = _queue_outbox(kind, now, channels, not_before=not_before)
    if queued and not_before <= now:
        transaction.on_commit(queue_delivery)
    return written, queued


def _outbox_select(
    source: str, source_params: list, channels, *, kind: str, not_before, now
) -> tuple[str, list]:
    """SELECT the outbox rows for the notices of `source` (a FROM item named n, with id and
    recipient columns): one per notice and channel whose address the recipient has and that
    the recipient has not turned off for this kind's group (/notifications/settings/; no
    row: wanted). The preferences are joined in the same statement, never read one by one:
    a city-wide instruction honours 217,000 people's choices without a round trip."""
    quote = connection.ops.quote_name
    user = quote(User._meta.db_table)
    whens = " ".join(
        f"WHEN %s THEN u.{quote(User._meta.get_field(ADDRESS_FIELD[c]).column)}" for c in channels
    )
    address = f"CASE ch.channel {whens} END"
    address_params = [c.value for c in channels]
    pref = quote(NotificationPreference._meta.db_table)
    pcol = {f.name: quote(f.column) for f in NotificationPreference._meta.concrete_fields}
    join = f"LEFT JOIN {pref} p ON p.{pcol['user']} = n.recipient AND p.{pcol['group']} = %s"
    wanted = (
        f"COALESCE(CASE ch.channel WHEN %s THEN p.{pcol['email']} ELSE p.{pcol['sms']} END, %s)"
    )
    wanted_params = [OutboxMessage.Channel.EMAIL.value, True]
    # A derived table rather than VALUES … AS ch(channel): SQLite has no column aliases there.
    values = " UNION ALL ".join(["SELECT %s AS channel"] * len(channels))
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"SELECT n.id, ch.channel, {address}, %s, %s, 0, '', %s, '' "
        f"FROM {source} JOIN {user} u ON u.id = n.recipient "
        f"CROSS JOIN ({values}) AS ch {join} "
        f"WHERE {address} <> '' AND {wanted} ORDER BY n.id, ch.channel"
    )
    params = [
        *address_params,
        OutboxMessage.Status.PENDING.value,
        adapt(not_before),
        adapt(now),
        *source_params,
        *address_params,
        group_of(kind),
        *address_params,
        *wanted_params,
    ]
    return sql, params


def _outbox_columns() -> str:
    quote = connection.ops.quote_name
    column = {f.name: quote(f.column) for f in OutboxMessage._meta.concrete_fields}
    names = (
        "notification",
        "channel",
        "address",
        "status",
        "not_before",
        "attempts",
        "last_error",
        "created_at",
        "text",  # only an SMS with no notice behind it has its own text
    )
    return ", ".join(column[name] for name in names)


def _insert_with_outbox(rows: QuerySet, channels, *, kind, not_before, now) -> tuple[int, int]:
    """PostgreSQL: inbox and outbox rows in one statement (a data-modifying CTE)."""
    quote = connection.ops.quote_name
    ncol = {f.name: quote(f.column) for f in Notification._meta.concrete_fields}
    select_sql, select_params = rows.query.sql_with_params()
    columns = ", ".join(ncol[c.removesuffix("_id")] for c in INBOX_COLUMNS)
    outbox_sql, outbox_params = _outbox_select(
        "n", [], channels, kind=kind, not_before=not_before, now=now
    )
    sql = (
        f"WITH n AS (INSERT INTO {quote(Notification._meta.db_table)} ({columns}) "
        f"{select_sql} RETURNING {ncol['id']} AS id, {ncol['recipient']} AS recipient), "
        f"q AS (INSERT INTO {quote(OutboxMessage._meta.db_table)} ({_outbox_columns()}) "
        f"{outbox_sql} RETURNING 1) "
        "SELECT (SELECT count(*) FROM n), (SELECT count(*) FROM q)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*select_params, *outbox_params])
        return cursor.fetchone()


def _queue_outbox(kind: str, now, channels, *, not_before) -> int:
    """Elsewhere (SQLite in development, one writer at a time): the outbox rows for the
    notices just written, found by their kind and their creation time to the microsecond."""
    quote = connection.ops.quote_name
    ncol = {f.name: quote(f.column) for f in Notification._meta.concrete_fields}
    source = (
        f"(SELECT {ncol['id']} AS id, {ncol['recipient']} AS recipient "
        f"FROM {quote(Notification._meta.db_table)} "
        f"WHERE {ncol['kind']} = %s AND {ncol['created_at']} = %s) AS n"
    )
    source_params = [kind, connection.ops.adapt_datetimefield_value(now)]
    outbox_sql, outbox_params = _outbox_select(
        source, source_params, channels, kind=kind, not_before=not_before, now=now
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(OutboxMessage._meta.db_table)} ({_outbox_columns()}) "
            + outbox_sql,
            outbox_params,
        )
        return cursor.rowcount
