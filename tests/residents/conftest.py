"""Residents scenario: the demo district. The resident reports in grid 1 of 民生路社区
(street 解放碑); the responsible people are the grid worker, the community secretary (the
handler's supervisor) and the mediator; street staff of 解放碑 make the callbacks; the
outsider is the grid worker of another street (七星岗)."""

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from disputes import services as case_services
from disputes.models import Case, Outcome
from disputes.selectors import mediator_candidates
from grids.models import Area, User
from residents import services

SH = ZoneInfo("Asia/Shanghai")
# Everything happens after the demo people's assignments start (they start "now" at seeding).
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=SH)
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Rate-limit counters live in the cache: every test gets an empty one of its own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"residents-{uuid.uuid4()}",
        }
    }


def png(name="photo.png", size=(16, 12)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def pdf(name="paper.pdf"):
    return SimpleUploadedFile(name, PDF, "application/pdf")


@dataclass
class World:
    clock: object
    users: dict
    grid: Area
    micro: Area
    community: Area
    street: Area
    other_grid: Area
    streets: list

    def u(self, name) -> User:
        return self.users[name]

    def at(self, when: datetime):
        self.clock.move_to(when, tick=False)


@pytest.fixture(scope="module")
def _demo_district(django_db_setup, django_db_blocker):
    """The demo district seeded once per module inside a transaction that is rolled back at
    the end; each test's own transaction nests inside it (a savepoint). Seeding per test would
    cost seconds each."""
    from disputes.demo import seed_categories
    from grids.demo import seed

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with time_machine.travel(T0, tick=False):
                seed()
                seed_categories()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_demo_district, db, time_machine):
    time_machine.move_to(T0, tick=False)
    return World(
        clock=time_machine,
        users={u.username: u for u in User.objects.all()},
        grid=Area.objects.get(code="500103001001G01"),
        micro=Area.objects.get(code="500103001001G01M01"),
        community=Area.objects.get(code="500103001001"),
        street=Area.objects.get(code="500103001"),
        other_grid=Area.objects.get(code="500103002001G01"),
        streets=list(Area.objects.filter(level="street").order_by("code")),
    )


def report(world, area=None, *, phone=PHONE, topic="neighbours", text="楼上每天深夜装修，噪音很大",
           photos=(), name="王阿姨"):  # fmt: skip
    filed, key = services.report_submit(
        area=area or world.grid, topic=topic, text=text, address="民生路12号3单元", name=name,
        phone=phone, photos=photos, ip="10.0.0.1",
    )  # fmt: skip
    filed.key = key  # shown once to the reporter; the tests play the reporter
    return filed


def handle_to_close(world, case: Case, *, closed_at: datetime, note="已上门协调") -> Case:
    """Assign, mediate, resolve and close through the services, the last step at closed_at."""
    admin = world.u("admin")
    world.at(closed_at - timedelta(minutes=30))
    mediator = mediator_candidates(case=case).first()
    case = case_services.case_assign(case=case, mediator=mediator, actor=admin)
    case = case_services.case_progress(case=case, actor=admin, note=note)
    case = case_services.case_resolve(case=case, actor=mediator, outcome=Outcome.AGREEMENT)
    world.at(closed_at)
    return case_services.case_close(case=case, actor=admin)  # the check passed


def staff_case(world, area: Area, cause="楼道堆物") -> Case:
    from disputes.models import Category

    return case_services.case_file(
        actor=world.u("admin"), area=area, category=Category.objects.get(code="0201"),
        cause=cause, address="某路1号", channel="grid_worker",
        parties=[{"side": "applicant", "name": "赵大妈", "phone": "13700000000"}],
    )  # fmt: skip


@pytest.fixture
def client_factory():
    """A fresh browser (its own cookies and session) per call: another person's phone."""
    from django.test import Client

    return lambda: Client()
