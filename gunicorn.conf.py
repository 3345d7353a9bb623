"""gunicorn settings, read from the working directory by every way the app is served
(`make web`, the Dockerfile, docker-compose.yml).

Grid workers file from phones on weak signals: a 1 MB photo on "Slow 3G" takes half a minute
to arrive. With gunicorn's default sync workers, each such upload holds a whole worker
process, and the default 30 s timeout kills the worker mid-upload (the phone then got a
blank error and nothing was saved). Threaded workers read slow uploads on their own thread
while the worker keeps answering its heartbeat, so the timeout below only catches a worker
that is really stuck, not a slow client.

The worker class is gthread's, spreading requests over the processes by how busy each is
(grid_governance/gunicorn_worker.py): the stock one let one process serve most of a burst
while the other idled."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "grid_governance.gunicorn_worker.BalancedThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120
graceful_timeout = 30
keepalive = 5
accesslog = "-"


def post_worker_init(worker):
    """After the app has loaded in a worker process: everything loaded so far (Django, the
    URL patterns, the models, DRF: hundreds of thousands of objects that live as long as
    the process) is left out of garbage collection. Otherwise each full collection walked
    them all: a 150–190 ms pause, about once a second under load, in which the process
    answered nobody (measured through gunicorn with four clients on the case list API:
    p95 159–163 ms before, ≤ 122 ms after)."""
    gc.collect()
    gc.freeze()
