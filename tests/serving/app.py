"""A WSGI app for tests/serving: answers its process id. `?hold=NAME` holds the request
until the test releases NAME: it leaves a file saying it arrived, then waits for NAME's
release file (in SERVING_DIR), so a test knows which requests are in flight at once
without timing anything."""

import os
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs


def application(environ, start_response):
    hold = parse_qs(environ.get("QUERY_STRING", "")).get("hold", [""])[0]
    if hold:
        folder = Path(os.environ["SERVING_DIR"])
        (folder / f"{hold}.{uuid.uuid4().hex}.arrived").touch()
        for _ in range(6000):  # at most a minute, should the test die before releasing
            if (folder / f"{hold}.release").exists():
                break
            time.sleep(0.01)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
