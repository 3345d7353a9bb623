"""Every page is served with a Content-Security-Policy that allows scripts only from our own
static files, and no template relies on an inline script or handler (the browser tests fail
on any CSP violation in the console, see tests/e2e/conftest.py)."""

import re
from pathlib import Path

import pytest

from tests.factories import SuperuserFactory

ROOT = Path(__file__).resolve().parents[2]
# A script element that runs (data blocks, json_script's application/json, do not), an
# on… handler attribute, or a javascript: URL.
INLINE = re.compile(
    r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|\son[a-z]+=\"|javascript:", re.I
)


def directives(header: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in parts}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/cases/new/", "/dashboard/", "/api/docs/"]
)
def test_pages_carry_a_policy_without_inline_scripts(client, path):
    client.force_login(SuperuserFactory())
    response = client.get(path)

    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    body = response.content.decode()
    assert not INLINE.search(body), INLINE.search(body)


APPS = ("disputes", "residents", "dashboards", "grids", "reception_days", "notifications")


def test_no_template_has_an_inline_script_or_handler():
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for base in ("templates", *APPS)
        for path in (ROOT / base).rglob("*.html")
        for match in INLINE.finditer(path.read_text())
    ]
    assert found == []
