"""The signed agreement's PDF made by a real Celery worker process on Redis (as in
production: its own interpreter importing WeasyPrint, the Debian CJK fonts, the files written
to MEDIA_ROOT), against the test database. The agreement is signed in this process (its
first rendering runs here, eagerly); the final document is then put back to pending and the
project's task is sent to the worker, and the test waits, by a bounded poll, for the file."""

import subprocess
import tempfile

import pytest
import redis
from celery import Celery
from django.db import connection

from mediation import tasks as _registers_the_task  # noqa: F401  (shared_task)
from mediation.models import Agreement, Document
from tests.conftest import service_missing
from tests.integration.test_celery_sla import KEY_PREFIX, WAIT, Workers, poll, private_redis_url
from tests.mediation.test_races import w  # noqa: F401  (the demo world, committed)
from tests.mediation.world import make_agreement, sign_everyone

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_renders_the_signed_agreement(
    w,  # noqa: F811
    tmp_path,
    settings,
    monkeypatch,
    celery_eager,
):
    redis_url = private_redis_url()
    if connection.vendor != "postgresql":
        service_missing("the Celery integration test needs PostgreSQL (set DATABASE_URL)")
    agreement = sign_everyone(w, make_agreement(w))
    final = Document.objects.get(agreement=agreement, final=True)
    Document.objects.filter(pk=final.pk).update(
        status="pending", file="", masked_file="", sha256=""
    )
    Agreement.objects.filter(pk=agreement.pk).update(sha256="")
    monkeypatch.setenv("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    client = Celery("mediation-integration-test", broker=redis_url, backend=redis_url)
    client.conf.task_default_queue = "celery"
    client.conf.broker_transport_options = {"global_keyprefix": KEY_PREFIX}
    client.conf.result_backend_transport_options = {"global_keyprefix": KEY_PREFIX}
    workers = Workers(1, redis_url=redis_url, logs=tmp_path)
    try:
        workers.wait_ready()
        result = client.tasks["mediation.tasks.render_document"].apply_async(
            args=[final.pk], ignore_result=False
        )
        seconds = result.get(timeout=WAIT, disable_sync_subtasks=False)
        poll(
            lambda: Document.objects.get(pk=final.pk).status == "ready",
            "the worker's PDF",
            workers,
        )
    finally:
        workers.stop()
        client.close()
        store = redis.Redis.from_url(redis_url)
        for key in store.scan_iter(f"{KEY_PREFIX}*"):
            store.delete(key)
        store.close()
    final.refresh_from_db()
    agreement.refresh_from_db()
    assert seconds is not None and final.pages >= 1
    assert agreement.sha256 == final.sha256 and len(final.sha256) == 64
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(final.file.read())
        handle.flush()
        text = subprocess.run(
            ["pdftotext", handle.name, "-"], capture_output=True, text=True, check=True
        ).stdout
    text = text.replace(" ", "").replace("\n", "")
    assert agreement.number in text and "李秀英" in text and "支付维修费用" in text
