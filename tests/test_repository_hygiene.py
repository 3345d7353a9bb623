"""`make run` and `make test` leave `git status` clean: whatever they write is ignored."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
# What the commands write: the venv, SQLite, the filesystem broker (its control folder
# included), results, media, the cache, beat's schedule, caches of the tools, benchmarks' data.
WRITTEN = [
    ".venv/bin/python", "var/db.sqlite3", "var/broker/out/x.msg", "var/broker/control/x",
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
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    if "control_folder" not in options:
        pytest.skip("Redis is the broker here")
    assert Path(options["control_folder"]).is_relative_to(ROOT / "var")
