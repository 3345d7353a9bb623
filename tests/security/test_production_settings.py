"""Production settings come from the environment, and the documented production environment
(docs/production.env.example) passes `manage.py check --deploy` without a warning."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "production.env.example"


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return {k.strip(): v.strip() for k, v in (p for p in pairs if len(p) == 2)
            if k.strip() and not k.startswith("#")}  # fmt: skip


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    # A fresh process: settings are read once, at start-up, from the environment.
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_documented_production_environment_passes_check_deploy(tmp_path):
    env = read_env(EXAMPLE) | {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    env.pop("REDIS_URL")  # nothing connects during the check; keep it offline

    result = check_deploy(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_is_https_only_by_default_and_says_what_it_lacks(tmp_path):
    env = {
        "SECRET_KEY": "k" * 60 + "-a-long-enough-random-looking-key-0123456789",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "grid.example.gov.cn",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }

    result = check_deploy(env)

    # Redirect, HSTS and secure cookies are on without being asked for; only the
    # preload list, which is hard to leave, waits for an explicit choice.
    output = result.stdout + result.stderr
    for code in ("W004", "W008", "W012", "W016"):
        assert code not in output
    assert "W021" in output


def test_a_plain_http_deployment_can_opt_out_and_is_warned(tmp_path):
    env = read_env(EXAMPLE) | {
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
    }
    env.pop("REDIS_URL")

    output = check_deploy(env).stderr

    assert "W008" in output and "W012" in output
