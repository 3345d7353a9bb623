"""Live pages: services publish small "something changed" events after their transaction
commits; the WebSocket consumer (consumers.py) relays them to the pages that follow the
group; the page then fetches the parts it shows again (static/js/live.js). An event carries
no content, only what changed ({"type": "case", "ids": [7]} or {"type": "inbox"}), so what
a page shows is always read through the views and their scope.

Groups: `user-<id>` (a person's inbox), `case-<id>` (an open case page), `area-<id>` (the
dashboard of that area; a case's events reach every area above it) and `area-all` (the
dashboard of the whole system).

Which groups a page may follow is decided by the view that renders it, which has checked
the scope: it signs the list (`sign`) and the consumer only checks the signature and that
the token is the signed-in user's (`groups_from_token`). So this app, below `disputes`,
never needs to know who may see which case.

Delivery is at most once (Redis pub/sub): a page that was disconnected refreshes itself on
reconnecting, and the hello message tells a page whether anything was published for its
groups since it was rendered (`last`, from `last_published`)."""

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import redis
from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings
from django.core import signing
from django.db import transaction

logger = logging.getLogger(__name__)

ALL_AREAS = "area-all"
GROUP_NAME = re.compile(r"\A(user|case|area)-(\d+|all)\Z")
# A page follows its user, at most a case or an area, and never many groups.
MAX_GROUPS = 8
# Case ids listed in one message; beyond this the page is told "many" (ids: []).
MAX_IDS = 50
# Publishing waits this long for the channel layer at most (a request after its commit).
SEND_TIMEOUT = 2.0
TOKEN_SALT = "notifications.live"
# When each group last had news (`last_published`): a sorted set in Redis (group → ms),
# in this process's memory without it. A page connects seconds after it is rendered, so
# `last` only has to outlive that.
LAST_KEY = "live-last"
LAST_TTL = 3600


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def area_group(area_id: int | None) -> str:
    """The group of a dashboard; None is the whole system's."""
    return ALL_AREAS if area_id is None else f"area-{area_id}"


# --- the page's token ---------------------------------------------------------------------


def sign(user, groups: Iterable[str] = ()) -> str:
    """The token a page passes to the socket: the user's own group plus the groups the view
    has checked this user may follow."""
    names = list(dict.fromkeys([user_group(user.pk), *groups]))[:MAX_GROUPS]
    return signing.dumps({"u": user.pk, "g": names}, salt=TOKEN_SALT, compress=True)


def groups_from_token(token: str, *, user_id: int) -> list[str] | None:
    """The groups in a token made for this user, or None: tampered with, made for someone
    else, older than a login lasts, or malformed."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=settings.SESSION_COOKIE_AGE)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    groups = data.get("g")
    if not isinstance(groups, list) or not 0 < len(groups) <= MAX_GROUPS:
        return None
    if not all(isinstance(g, str) and GROUP_NAME.match(g) for g in groups):
        return None
    return groups


# --- publishing -----------------------------------------------------------------------------


class _Clock:
    """Milliseconds since the epoch, never twice the same nor backwards in this process, so
    a page can tell which messages it has seen (`at`)."""

    def __init__(self):
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1)
            return self._last


clock = _Clock()


class _Batch:
    """What one transaction publishes: per group, one message per type of event, sent when
    the transaction commits (events of one type differ only by their "id"). The case ids
    are gathered (a dict: in order, without repeats) up to MAX_IDS; past that the message
    says "many" (a sweep batch tells `area-all` of thousands of cases)."""

    def __init__(self):
        self.events: dict[str, dict] = {}  # type -> the event without its id
        self.ids: dict[tuple[str, str], dict | None] = {}  # (group, type) -> ids, None: many

    def add(self, groups: Iterable[str], event: dict):
        kind, event_id = event["type"], event.get("id")
        if kind not in self.events:
            self.events[kind] = {k: v for k, v in event.items() if k != "id"}
        gathered = self.ids
        for group in groups:
            key = (group, kind)
            ids = gathered.get(key, _NEW)
            if ids is _NEW:
                gathered[key] = {} if event_id is None else {event_id: None}
            elif ids is not None and event_id is not None and event_id not in ids:
                if len(ids) < MAX_IDS:
                    ids[event_id] = None
                else:
                    gathered[key] = None

    def __call__(self):
        send(self.events, self.ids)


_NEW = object()


def publish(groups: Iterable[str], event: dict):
    """Tell the pages following `groups` that `event` happened, once the current transaction
    commits (at once outside one; never if it rolls back). Within one transaction each group
    gets one message per type of event, however often it is published to."""
    publish_many([(groups, event)])


def publish_many(items: Iterable[tuple[Iterable[str], dict]]):
    """`publish` for many (groups, event) at once (the sweep's batch: thousands of cases),
    looking for the transaction's batch once."""
    batch = None
    conn = transaction.get_connection()
    if conn.in_atomic_block:
        for _sids, func, _robust in reversed(conn.run_on_commit):
            if isinstance(func, _Batch):
                batch = func
                break
    new, batch = batch is None, batch or _Batch()
    for groups, event in items:
        groups = [g for g in groups if g]
        if groups:
            batch.add(groups, event)
    if new and batch.ids:
        # Robust: a channel layer that is down costs the pages their push (they poll),
        # never the request that already committed. (Outside a transaction: sent now.)
        transaction.on_commit(batch, robust=True)


# Consumers connected in this process: with the in-memory layer (no Redis) nobody else can
# hear a message, so a process without any (a WSGI worker, Celery) skips sending.
local_listeners = 0


def send(events: dict[str, dict], ids: dict[tuple[str, str], dict | None]):
    layer = get_channel_layer()
    if layer is None or (isinstance(layer, InMemoryChannelLayer) and not local_listeners):
        return
    at = clock.now()

    def message(group: str, kind: str) -> dict:
        # ids: [] when there were too many to list (the page refreshes what follows).
        body = {**events[kind], "ids": list(ids[group, kind] or ()), "at": at}
        return {"type": "live.event", "text": json.dumps(body)}

    try:
        redis_layer = isinstance(layer, RedisPubSubChannelLayer)
        if redis_layer and _publish_to_redis(layer, ids, message, at):
            return
        _remember((group for group, _kind in ids), at)
        _run(_send_all, layer, [(group, message(group, kind)) for group, kind in ids])
    except Exception:
        logger.warning("live: could not publish to %d groups", len(ids), exc_info=True)


_last: dict[str, int] = {}


def _remember(groups: Iterable[str], at: int):
    _last.update(dict.fromkeys(groups, at))
    if len(_last) > 100_000:  # forget what no page connecting now can need
        for group in [g for g, t in _last.items() if t < at - LAST_TTL * 1000]:
            del _last[group]


_redis_clients: dict[str, redis.Redis] = {}


def _redis_of_layer() -> tuple[redis.Redis, str] | None:
    """A pooled client for the Redis of the channel layer, and the layer's prefix; None for
    a sharded layer (several hosts)."""
    config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    hosts = config.get("hosts") or ["redis://localhost:6379"]
    if len(hosts) != 1 or not isinstance(hosts[0], str):
        return None
    client = _redis_clients.get(hosts[0])
    if client is None:
        client = redis.Redis.from_url(
            hosts[0], socket_timeout=SEND_TIMEOUT, socket_connect_timeout=SEND_TIMEOUT
        )
        _redis_clients[hosts[0]] = client
    return client, config.get("prefix", "asgi")


# Records `at` as every group's last news and answers the groups that have listeners, in
# one call whose groups travel as one argument: a sweep batch tells thousands of groups,
# and redis-py takes ~20 µs to pack each argument of a command.
# KEYS[1]: the sorted set of last times; ARGV: at, oldest kept, ttl (ms), prefix, groups.
_RECORD = """
local listened = {}
for group in string.gmatch(ARGV[5], "[^\\n]+") do
  redis.call("ZADD", KEYS[1], ARGV[1], group)
  if redis.call("PUBSUB", "NUMSUB", ARGV[4] .. "__group__" .. group)[2] > 0 then
    table.insert(listened, group)
  end
end
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[2])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return listened
"""


def _publish_to_redis(layer, ids, message, at: int) -> bool:
    """Redis pub/sub from sync code (a request after its commit, a Celery task): through
    one pooled connection, in two round trips whatever the number of groups: `last` for
    all and which have listeners (most case pages a sweep batch tells are not open), then
    the messages for those. The layer's own group_send needs an event loop, so from sync
    code a new loop and a new connection per transaction (5-20 ms), and a round trip per
    group. The channel names and the serializer are the layer's (channels_redis.pubsub: a
    group's channel is prefix + "__group__" + group); a test checks a consumer hears it.
    False for a sharded layer: its own path."""
    found = _redis_of_layer()
    if found is None:
        return False
    client, prefix = found
    groups = "\n".join(dict.fromkeys(group for group, _kind in ids))
    ttl = LAST_TTL * 1000
    listened = {
        name.decode() if isinstance(name, bytes) else name
        for name in client.eval(
            _RECORD, 1, f"{prefix}{LAST_KEY}", at, at - ttl, ttl, prefix, groups
        )
    }
    if listened:
        with client.pipeline(transaction=False) as pipe:
            for group, kind in ids:
                if group in listened:
                    pipe.publish(f"{prefix}__group__{group}", layer.serialize(message(group, kind)))
            pipe.execute()
    return True


def _run(function, *args):
    """async_to_sync, also from sync code that an event loop in this thread called (the
    browser tests' Playwright): there the coroutine runs on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return async_to_sync(function)(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(async_to_sync(function), *args).result()


async def _send_all(layer, messages):
    async with asyncio.timeout(SEND_TIMEOUT):
        for group, message in messages:
            await layer.group_send(group, message)


def last_published(groups: Iterable[str]) -> int:
    """When something was last published to any of the groups (ms; 0: not lately)."""
    groups = list(groups)
    found = isinstance(get_channel_layer(), RedisPubSubChannelLayer) and _redis_of_layer()
    if not found:
        return max((_last.get(g, 0) for g in groups), default=0)
    client, prefix = found
    with client.pipeline(transaction=False) as pipe:
        for group in groups:
            pipe.zscore(f"{prefix}{LAST_KEY}", group)
        scores = pipe.execute()
    return int(max((s for s in scores if s is not None), default=0))
