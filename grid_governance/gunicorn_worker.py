"""gunicorn's threaded worker, with requests spread over the worker processes by how busy
each one is (gunicorn.conf.py's `worker_class`).

The stock threaded worker accepts whatever connection reaches it first and then keeps it
(keep-alive). Two processes with four clients often ended up three to one: Python runs one
thread of a process at a time, so the three waited for each other on one core while the
other process sat mostly idle. Measured at 2,000,000 cases (benchmarks/bench_lists.py, two
processes, four clients): filing 91–95 cases/s with the stock worker, 114–121/s with this
one; the list page's p95 with four clients 2.6–3.5× one client's, 2.6–2.7× with this one.

What it does, all on the worker's main thread:
- While BUSY requests are in flight, the process stops accepting new connections, so an
  idler process takes them. It accepts again as soon as one of its requests ends, or after
  DEFER seconds however busy it is: a process held by slow phone uploads (the reason for
  threads, see gunicorn.conf.py) still takes new connections, only DEFER later, and never
  more than one per DEFER while busy.
- A keep-alive connection whose request arrives while the process is already over BUSY is
  answered with "Connection: close": the client's next request reconnects and lands on
  whichever process is free.

It relies on gunicorn's ThreadWorker internals (enqueue_req, finish_request,
set_accept_enabled, the worker_connections and max_keepalived attributes, as of gunicorn
27.0); tests/architecture/test_gunicorn_worker.py serves real requests through it."""

import os
import time

from gunicorn.workers.gthread import ThreadWorker

BUSY = int(os.environ.get("GUNICORN_BUSY_REQUESTS", "2"))
DEFER = float(os.environ.get("GUNICORN_BUSY_DEFER", "0.05"))


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        # Changed and read on the main thread only (enqueue_req and finish_request run
        # there), read by request threads for the keep-alive decision.
        self.in_flight = 0
        self._accept_again_at = 0.0
        self._connections = 0
        self._keepalived = 0
        super().__init__(*args, **kwargs)

    def _holding_back(self) -> bool:
        return self.in_flight >= BUSY and time.monotonic() < self._accept_again_at

    # The stock main loop accepts while nr_conns < worker_connections: while holding back,
    # the limit reads 0.
    @property
    def worker_connections(self):
        return 0 if self._holding_back() else self._connections

    @worker_connections.setter
    def worker_connections(self, value):
        self._connections = value

    # A request thread closes its connection after the response when the kept-alive
    # connections reach max_keepalived: over BUSY, it reads 0.
    @property
    def max_keepalived(self):
        return 0 if self.in_flight > BUSY else self._keepalived

    @max_keepalived.setter
    def max_keepalived(self, value):
        self._keepalived = value

    def enqueue_req(self, conn):
        self.in_flight += 1
        if self.in_flight >= BUSY:
            # Stop now, not at the next turn of the loop: the connections of a burst
            # arrive together and would all be taken by whichever process woke first.
            self._accept_again_at = time.monotonic() + DEFER
            if self._accepting:
                self.set_accept_enabled(False)
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def wait_for_and_dispatch_events(self, timeout):
        # Wake when the hold ends, to accept again even if no request has ended.
        if self._holding_back():
            timeout = min(timeout, max(self._accept_again_at - time.monotonic(), 0.001))
        super().wait_for_and_dispatch_events(timeout)
