"""`make run` and `make test` leave `git status` clean: whatever they write is ignored."""

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.module_loading import import_string
from gunicorn.workers.gthread import ThreadWorker

ROOT = Path(__file__).resolve().parents[1]
# What the commands write: the venv, SQLite, the filesystem broker (its control folder
# included), results, media, the cache, beat's schedule, caches of the tools, benchmarks' data.
WRITTEN = [
    ".venv", "var/db.sqlite3", "var/broker/out/x.msg", "var/broker/control/x",
    "var/results/x", "var/media/x.png", "var/cache/x", "var/celerybeat-schedule",
    "var/staticfiles/x.css", ".ruff_cache/x", ".pytest_cache/x", "benchmarks/data/x.csv",
    "test-results/x.png", "tests/__pycache__/x.pyc",
]  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="no git")
@pytest.mark.parametrize("path", WRITTEN)
def test_what_the_commands_write_is_ignored(path):
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{path} is not git-ignored"


def test_the_filesystem_broker_keeps_its_control_folder_under_var():
    """The settings `make run` gets without Redis (read in a fresh process)."""
    code = (
        "from grid_governance import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS['control_folder'])"
    )
    env = {**os.environ, "REDIS_URL": "", "DEBUG": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    assert out[0] == "filesystem://"
    assert Path(out[1]).is_relative_to(ROOT / "var")


def test_gunicorn_keeps_slow_uploads_alive_wherever_it_is_started():
    """A photo on Slow 3G takes longer than gunicorn's default 30 s with sync workers: the
    served config (read from the working directory by make web, the image and compose) must
    use threaded workers, and nothing may start gunicorn with its own worker settings."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    worker = config["worker_class"]
    assert worker == "gthread" or issubclass(import_string(worker), ThreadWorker)
    assert config["threads"] >= 4 and config["timeout"] >= 120
    for name in ("Makefile", "Dockerfile", "docker-compose.yml"):
        text = (ROOT / name).read_text()
        assert re.search(r"gunicorn\W+grid_governance\.wsgi", text), name
        started = [line for line in text.splitlines() if "gunicorn" in line and "wsgi" in line]
        assert not [line for line in started if "--workers" in line or "--timeout" in line]
