"""The served worker class (gunicorn.conf.py) answering real requests through gunicorn: a
burst of requests is spread over the processes, and processes busy with slow requests still
take new connections. A tiny WSGI app stands in for Django (tests/serving/app.py): what is
tested is how gunicorn hands out connections, not the pages. Requests are held and released
by the test (files), so nothing here depends on how fast the machine is."""

import gc
import runpy
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Served:
    def __init__(self, port: int, folder: Path):
        self.port, self.folder = port, folder

    def get(self, hold: str = "", connection: HTTPConnection | None = None) -> tuple[int, str]:
        connection = connection or HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request("GET", f"/?hold={hold}")
        response = connection.getresponse()
        return response.status, response.read().decode()

    def arrived(self, hold: str) -> int:
        return len(list(self.folder.glob(f"{hold}.*.arrived")))

    def wait_until_arrived(self, hold: str, count: int) -> None:
        for _ in range(3000):
            if self.arrived(hold) >= count:
                return
            time.sleep(0.01)
        raise AssertionError(f"only {self.arrived(hold)} of {count} requests arrived")

    def release(self, hold: str) -> None:
        (self.folder / f"{hold}.release").touch()


@pytest.fixture
def served(tmp_path):
    """gunicorn with 2 processes of the served worker class, serving tests/serving/app.py."""
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "app:application",
         "--chdir", str(HERE), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "8", "--keep-alive", "5",
         "--worker-class", "grid_governance.gunicorn_worker.BalancedThreadWorker"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "SERVING_DIR": str(tmp_path)},
    )  # fmt: skip
    served = Served(port, tmp_path)
    try:
        _wait_for_both_processes(served)
        yield served
    finally:
        server.kill()  # held requests (a failed test) need no graceful end
        server.wait(timeout=30)
        log.close()


def _wait_for_both_processes(served: Served) -> None:
    """Until two different processes have answered (gunicorn listens before they boot)."""
    seen = set()
    for _ in range(600):
        try:
            seen.add(served.get()[1])
        except OSError:
            time.sleep(0.05)
            continue
        if len(seen) == 2:
            return
    raise RuntimeError("gunicorn's two processes did not both answer")


def _in_threads(count: int, work) -> tuple[list, list[threading.Thread]]:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index):
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    return results, threads


def _round(served: Served, name: str, connections=None) -> list[int]:
    """Four requests at once, held until all four are in flight: how many each process
    took, fewest first."""
    results, threads = _in_threads(
        4, lambda i: served.get(name, connections[i] if connections else None)
    )
    served.wait_until_arrived(name, 4)
    served.release(name)
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _pid in results] == [200] * 4
    pids = [pid for _status, pid in results]
    return sorted(pids.count(pid) for pid in set(pids))


def test_a_burst_of_four_is_spread_two_and_two(served):
    """The stock worker let whichever process woke first take three or all four."""
    assert [_round(served, f"burst{n}") for n in range(3)] == [[2, 2]] * 3


def test_kept_alive_clients_are_spread_too(served):
    """Four clients keeping their connections across rounds: every round two and two."""
    connections = [HTTPConnection("127.0.0.1", served.port, timeout=60) for _ in range(4)]
    assert [_round(served, f"kept{n}", connections) for n in range(4)] == [[2, 2]] * 4


def test_busy_processes_still_take_new_connections(served):
    """Both processes held by slow requests (as by uploads on a weak signal, six of them,
    over the two each takes before holding back): a new request is answered while they
    are still held."""
    results, threads = _in_threads(6, lambda _i: served.get("slow"))
    served.wait_until_arrived("slow", 6)
    assert served.get()[0] == 200
    assert served.arrived("slow") == 6 and not (served.folder / "slow.release").exists()
    served.release("slow")
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _pid in results] == [200] * 6


def test_what_a_worker_loaded_is_left_out_of_garbage_collection():
    """gunicorn.conf.py's post_worker_init freezes what the app loaded, so that a full
    collection no longer walks it (a 150–190 ms pause about once a second under load)."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000  # this test process has Django loaded
    finally:
        gc.unfreeze()
