"""Keeps photos a grid worker already chose when the filing form comes back with an error.

Browsers cannot re-fill a file input, and re-taking photos in the field is exactly the
"typed work lost" users hate. Valid uploads are parked in storage under a random token that
is bound to the user's session; the re-rendered form carries the tokens as hidden inputs."""

import secrets
import time
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from common.limits import FILES_MAX

from .attachments import attachment_check

SESSION_KEY = "upload_stash"
MAX_AGE_SECONDS = 24 * 3600


def _entries(request) -> dict:
    return request.session.setdefault(SESSION_KEY, {})


def stash(request, uploads, *, keep=()) -> list[dict]:
    """Park the valid uploads for the re-rendered form. `keep`: the tokens the form is
    still carrying (restored earlier); those and the new ones are never evicted."""
    entries = _entries(request)
    _expire(request)
    kept = []
    for upload in uploads:
        try:
            attachment_check(upload)
        except ValidationError:
            continue  # the form shows why; a bad file is not worth keeping
        token = secrets.token_hex(16)
        path = default_storage.save(f"stash/{token}", upload)
        entries[token] = {"path": path, "name": upload.name, "at": time.time()}
        kept.append({"token": token, "name": upload.name})
    # A session keeps at most one filing's worth: files left behind by an earlier form
    # (abandoned, or filed from another tab) go first, oldest first. What the form on
    # screen still shows is never dropped, even above the cap: the filing then says
    # "at most 9 files" and the worker chooses which to remove.
    in_use = {*keep, *(k["token"] for k in kept)}
    spare = sorted((t for t in entries if t not in in_use), key=lambda t: entries[t]["at"])
    for token in spare[: max(0, len(entries) - FILES_MAX)]:
        default_storage.delete(entries.pop(token)["path"])
    request.session.modified = True
    return kept


def restore(request, tokens) -> tuple[list[File], list[dict]]:
    """Files for the tokens this session owns (others are ignored)."""
    entries = _entries(request)
    files, kept = [], []
    for token in tokens:
        entry = entries.get(token)
        if entry is None or not default_storage.exists(entry["path"]):
            continue
        handle = default_storage.open(entry["path"], "rb")
        files.append(File(handle, name=entry["name"]))
        kept.append({"token": token, "name": entry["name"]})
    return files, kept


def clear(request, tokens):
    entries = _entries(request)
    for token in tokens:
        entry = entries.pop(token, None)
        if entry:
            default_storage.delete(entry["path"])
    request.session.modified = True


def _expire(request):
    entries = _entries(request)
    cutoff = time.time() - MAX_AGE_SECONDS
    for token in [t for t, e in entries.items() if e["at"] < cutoff]:
        default_storage.delete(entries.pop(token)["path"])


def purge(now=None) -> int:
    """Delete parked files older than MAX_AGE_SECONDS whatever session parked them (one
    that never came back would otherwise keep them for ever). Hourly, from beat."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=MAX_AGE_SECONDS)
    try:
        _dirs, names = default_storage.listdir("stash")
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        path = f"stash/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)
            removed += 1
    return removed
