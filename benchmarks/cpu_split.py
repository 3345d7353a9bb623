"""Where a measured stretch's CPU went on this machine (Linux /proc): the load client (this
process), the gunicorn workers, the PostgreSQL backends of the bench database, and the
whole machine. A throughput figure alone cannot say whether the app, the database or the
client that drives them is the limit; divided by the requests made, these can.

Backends are found by the database name in their process title; one that connects and
disconnects within the stretch is missed (the app keeps its connections, CONN_MAX_AGE).
The machine's figure includes whatever else runs on it (another benchmark, a test run)."""

import os
import time
from pathlib import Path

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 10.0


def _process_ms(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0  # gone, or not Linux
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def _backends(database: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(int(entry.name))
    return found


def _machine_ms() -> float:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    busy = sum(int(v) for v in fields[:8]) - int(fields[3]) - int(fields[4])  # not idle/iowait
    return busy * TICK_MS


class CpuSplit:
    """Start before the stretch, `per(n)` after it: CPU milliseconds per request of each."""

    def __init__(self, server_pid: int, database: str):
        self.server_pid, self.database = server_pid, database
        self.start = self._sample()
        self.load = os.getloadavg()[0]

    def _sample(self) -> dict:
        return {
            "client": time.process_time() * 1000,
            "gunicorn": {pid: _process_ms(pid) for pid in _children(self.server_pid)},
            "postgres": {pid: _process_ms(pid) for pid in _backends(self.database)},
            "machine": _machine_ms(),
        }

    def per(self, requests: int) -> str:
        end = self._sample()
        n = max(requests, 1)

        def spent(kind):
            return sum(ms - self.start[kind].get(pid, 0.0) for pid, ms in end[kind].items())

        client = (end["client"] - self.start["client"]) / n
        machine = (end["machine"] - self.start["machine"]) / n
        return (
            f"CPU ms per request: client {client:.1f}, gunicorn {spent('gunicorn') / n:.1f}, "
            f"postgres backends {spent('postgres') / n:.1f}, machine {machine:.1f} "
            f"(load {self.load:.1f} → {os.getloadavg()[0]:.1f})"
        )
