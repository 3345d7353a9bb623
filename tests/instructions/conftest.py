"""The scenario for instruction tests.

Tree (tests/factories.py): a district, streets S1 (communities C1, C2) and S2 (C3, C4), two
grids per community, two micro-grids per grid. Every grid has a grid worker; C1 also has a
grid worker on a micro-grid, one who serves two of its grids, a micro-grid head, a mediator
and its secretary (a sender); C3 has its secretary. S1 has its street centre staff, the
district its centre staff. Left out of every instruction: a grid worker whose assignment
ended, one whose account is disabled. The clock stands at Wednesday 2026-11-25 10:00 in
Shanghai (outside the quiet hours)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from grids.models import Role
from instructions import services
from tests.factories import SuperuserFactory, Tree, UserFactory, assign

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
STARTED = datetime(2026, 1, 1, tzinfo=SH)
C1 = object()  # World.send's default area


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def staff(role, area=None, **user):
    person = UserFactory(**user)
    assign(person, role, area=area, started_at=STARTED)
    return person


class World:
    def __init__(self):
        self.tree = t = Tree()
        self.district = t.district
        self.s1, self.s2 = t.streets
        self.c1, self.c2, self.c3, self.c4 = t.communities
        # t.grids: C1 → 0, 1; C2 → 2, 3; C3 → 4, 5; C4 → 6, 7 (two micro-grids each)
        self.workers = [
            staff(Role.GRID_WORKER, grid, real_name=f"网格员{i}") for i, grid in enumerate(t.grids)
        ]
        self.micro_worker = staff(Role.GRID_WORKER, t.micro_grids[0], real_name="微网格员")
        self.double = staff(Role.GRID_WORKER, t.grids[0], real_name="兼两格")
        assign(self.double, Role.GRID_WORKER, t.grids[1], started_at=STARTED)
        self.micro_head = staff(Role.MICRO_GRID_HEAD, t.micro_grids[1], real_name="楼长")
        self.mediator = staff(Role.MEDIATOR, self.c1, real_name="调解员")
        self.secretary = staff(Role.COMMUNITY_SECRETARY, self.c1, real_name="王书记")
        self.secretary3 = staff(Role.COMMUNITY_SECRETARY, self.c3, real_name="钱书记")
        self.street = staff(Role.STREET_STAFF, self.s1, real_name="李综治")
        self.district_staff = staff(Role.DISTRICT_STAFF, self.district, real_name="周区")
        self.admin = SuperuserFactory(real_name="管理员")
        self.nobody = UserFactory(real_name="路人")
        self.gone = UserFactory(real_name="已调离")
        assign(self.gone, Role.GRID_WORKER, t.grids[0], started_at=STARTED,
               ended_at=NOW - timedelta(days=1))  # fmt: skip
        self.disabled = staff(Role.GRID_WORKER, t.grids[0], real_name="已停用", is_active=False)

    @property
    def c1_workers(self):
        """The grid workers under C1: its two grids' workers, the micro-grid's, the double."""
        return {self.workers[0], self.workers[1], self.micro_worker, self.double}

    def send(self, actor=None, area=C1, roles=(Role.GRID_WORKER,), **extra):
        values = {
            "title": "今晚防汛值守",
            "body": "请各网格员今晚20:00前到岗，排查低洼地带。",
            "ack_due_at": NOW + timedelta(hours=4),
        } | extra
        return services.instruction_send(
            actor=actor or self.secretary,
            area=self.c1 if area is C1 else area,
            roles=list(roles),
            **values,
        )


@pytest.fixture
def world(db):
    return World()


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
