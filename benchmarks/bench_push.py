"""Benchmark: the live pages' push at scale.

Starts uvicorn serving the ASGI app (as `make asgi` does) with the Redis channel layer, opens
2,000 WebSockets to it from load-client processes on this machine (each a signed-in user,
each page following its own user group and one street's dashboard, as 2,000 open dashboards
would), then publishes one event to that street from this process, as a web or Celery worker
does after a commit, and times its arrival on every socket. Several rounds; p50/p99/max of
arrival time, the time to open the sockets, and the uvicorn process's memory per socket (RSS
after opening them minus RSS before, divided by their number).

Needs PostgreSQL (sessions and users, on the bench database) and Redis (REDIS_URL, or
redis://127.0.0.1:6379/0): every key and channel it writes carries a prefix of its own and
is removed at the end.

    python -m benchmarks.bench_push [--connections 2000] [--rounds 5] [--servers 1] [--clients 2]

`--servers 2` splits the sockets over two uvicorn processes: one publish reaches both
through Redis (how the push scales out).
"""

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

from benchmarks.common import ROOT, prepare_database, print_table, setup_django

GOAL_P99_MS = 1000.0
GROUP = "area-1"  # one street's dashboard, opened on every socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def start_uvicorn(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "grid_governance.asgi:application", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
         "--ws-ping-interval", "60", "--backlog", "4096"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    # A first request loads the app (Django is set up lazily on the first one).
    # A redirect to HTTPS (DEBUG off) is answer enough.
    with contextlib.suppress(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)
    return process, port


# --- the load client (separate processes) --------------------------------------------------


def client_main(port: int, sockets: list[tuple[str, str]], rounds: int, ready, results):
    """Opens `sockets` (session, token) to the server, says how long that took, then for
    each round reports when each socket received the event (time.time(), this machine)."""
    asyncio.run(_client(port, sockets, rounds, ready, results))


async def _client(port, sockets, rounds, ready, results):
    from websockets.asyncio.client import connect

    limit = asyncio.Semaphore(64)  # handshakes in flight at once, per client process
    failures = 0

    async def open_one(session, token):
        nonlocal failures
        async with limit:
            try:
                ws = await connect(
                    f"ws://127.0.0.1:{port}/ws/live/?token={token}",
                    origin=f"http://127.0.0.1:{port}",
                    additional_headers={"Cookie": f"sessionid={session}"},
                    open_timeout=60, ping_interval=None, close_timeout=1,
                    max_queue=4, compression=None,
                )  # fmt: skip
                await ws.recv()  # hello
                return ws
            except Exception:
                failures += 1
                return None

    started = time.perf_counter()
    opened = [ws for ws in await asyncio.gather(*(open_one(*s) for s in sockets)) if ws]
    ready.put((len(opened), failures, time.perf_counter() - started))
    for _ in range(rounds):

        async def arrival(ws):
            await ws.recv()
            return time.time()

        results.put(await asyncio.gather(*(arrival(ws) for ws in opened)))
    await asyncio.gather(*(ws.close() for ws in opened))


# --- the benchmark ---------------------------------------------------------------------------


def make_people(count: int, prefix: str) -> list[tuple[str, str]]:
    """`count` users, each signed in (a session row), with a page token following GROUP."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from grids.models import User
    from notifications import live

    User.objects.filter(username__startswith="bench-push-").delete()
    users = User.objects.bulk_create(
        [User(username=f"bench-push-{i}", password="!") for i in range(count)]
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(hours=2)
    sessions, pairs = [], []
    for user in users:
        key = f"bp{uuid.uuid4().hex}"
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        session = Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        sessions.append(session)
        pairs.append((key, live.sign(user, [GROUP])))
    Session.objects.bulk_create(sessions, batch_size=1000)
    return pairs


def remove_people():
    from django.contrib.sessions.models import Session

    from grids.models import User

    Session.objects.filter(session_key__startswith="bp").delete()
    User.objects.filter(username__startswith="bench-push-").delete()


def run(args) -> int:
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    prefix = f"bench-push-{uuid.uuid4().hex[:12]}:"
    os.environ.update(
        REDIS_URL=redis_url, LIVE_CHANNEL_PREFIX=prefix, CACHE_KEY_PREFIX=prefix,
        CELERY_KEY_PREFIX=prefix,
    )  # fmt: skip
    prepare_database(quiet=True)
    setup_django()
    import redis
    from django.conf import settings

    from notifications import live

    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        print(f"bench_push: Redis at {redis_url} does not answer ({exc}); skipped")
        return 0
    assert "RedisPubSub" in settings.CHANNEL_LAYERS["default"]["BACKEND"]

    people = make_people(args.connections, prefix)
    env = {**os.environ}
    servers = [start_uvicorn(env) for _ in range(args.servers)]
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    clients = []
    try:
        time.sleep(1)
        before = [rss_kib(p.pid) for p, _port in servers]
        # Sockets dealt round-robin to the servers, then to the client processes.
        for c in range(args.clients):
            for s, (_process, port) in enumerate(servers):
                share = people[s * args.clients + c :: args.servers * args.clients]
                process = ctx.Process(
                    target=client_main, args=(port, share, args.rounds, ready, results)
                )
                process.start()
                clients.append(process)
        opened = failed = 0
        open_seconds = 0.0
        for _ in clients:
            n, f, seconds = ready.get(timeout=600)
            opened, failed, open_seconds = opened + n, failed + f, max(open_seconds, seconds)
        time.sleep(2)  # let the servers settle (subscriptions, garbage)
        after = [rss_kib(p.pid) for p, _port in servers]

        latencies, rounds = [], []
        for _ in range(args.rounds):
            published = time.time()
            live.publish([GROUP], {"type": "case", "id": 1})  # autocommit: sent at once
            send_ms = (time.time() - published) * 1000
            arrivals = [t for _ in clients for t in results.get(timeout=120)]
            ms = sorted((t - published) * 1000 for t in arrivals)
            latencies += ms
            rounds.append((len(ms), send_ms, ms[len(ms) // 2], ms[-1]))
            time.sleep(0.5)
        for process in clients:
            process.join(timeout=30)
    finally:
        for process in clients:
            if process.is_alive():
                process.kill()
        for process, _port in servers:
            process.send_signal(signal.SIGINT)
        for process, _port in servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        remove_people()
        client = redis.Redis.from_url(redis_url)
        for pattern in (f"{prefix}*", f":1:{prefix}*"):
            for key in client.scan_iter(match=pattern, count=1000):
                client.delete(key)

    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, round(q * (len(latencies) - 1)))]

    print(f"bench_push: {opened:,} sockets open on {args.servers} uvicorn process(es) "
          f"({failed} failed), opened in {open_seconds:.1f} s by {args.clients} client "
          f"process(es) per server; {args.rounds} publishes to one group")  # fmt: skip
    print_table(
        ["round", "sockets reached", "publish call ms", "p50 ms", "max ms"],
        [(i + 1, *row) for i, row in enumerate(rounds)],
    )
    print()
    print_table(
        ["arrival (all rounds)", "ms"],
        [("p50", pct(0.5)), ("p90", pct(0.9)), ("p99", pct(0.99)), ("max", latencies[-1]),
         ("mean", statistics.fmean(latencies))],
    )  # fmt: skip
    print()
    per_server = opened / args.servers
    print_table(
        ["uvicorn", "RSS before MiB", "RSS with sockets MiB", "KiB per socket"],
        [(f"#{i + 1}", b / 1024, a / 1024, (a - b) / per_server)
         for i, (b, a) in enumerate(zip(before, after, strict=True))],
    )  # fmt: skip
    print(f"goal: p99 arrival ≤ {GOAL_P99_MS:.0f} ms at {args.connections:,} sockets: "
          f"{'met' if pct(0.99) <= GOAL_P99_MS else 'MISSED'} ({pct(0.99):.1f} ms)")  # fmt: skip
    every = all(n == opened for n, *_ in rounds)
    if failed or not every:
        print("bench_push: some sockets did not open or did not get every event")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=2, help="load-client processes per server")
    parser.add_argument("--scale", type=float, default=None, help="ignored (bin/bench passes it)")
    args, _unknown = parser.parse_known_args()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
