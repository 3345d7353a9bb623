"""The scenario for reception-day tests.

Tree (tests/factories.py): a district, streets S1 and S2, communities C1, C2 (in S1) and
C3 (in S2), each with two grids. C1 has the full team (judge, prosecutor, police officer,
lawyer); C3 has its own lawyer (the officer of another community); C2 has no team. The
community secretary of C1, the street staff of S1 and a grid worker of C1 complete the cast.
The clock stands at Wednesday 2026-11-25 10:00 in Shanghai."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from disputes.models import Category, HandlingLevel
from grids.models import Role
from reception_days import services
from reception_days.models import ServiceItem, SessionKind
from tests.factories import SuperuserFactory, Tree, UserFactory, assign

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def staff(role, area=None, **user):
    person = UserFactory(**user)
    assign(person, role, area=area, started_at=datetime(2026, 1, 1, tzinfo=SH))
    return person


class World:
    def __init__(self):
        self.tree = t = Tree()
        self.district = t.district
        self.s1, self.s2 = t.streets
        self.c1, self.c2, self.c3, self.c4 = t.communities
        self.judge = staff(Role.JUDGE, self.c1, real_name="郑法官")
        self.prosecutor = staff(Role.PROSECUTOR, self.c1, real_name="冯检察")
        self.police = staff(Role.POLICE, self.c1, real_name="何警官")
        self.lawyer = staff(Role.LAWYER, self.c1, real_name="马律师")
        self.other_lawyer = staff(Role.LAWYER, self.c3, real_name="钱律师")
        self.secretary = staff(Role.COMMUNITY_SECRETARY, self.c1, real_name="王书记")
        self.street = staff(Role.STREET_STAFF, self.s1, real_name="李综治")
        self.district_staff = staff(Role.DISTRICT_STAFF, self.district, real_name="周区")
        self.worker = staff(Role.GRID_WORKER, t.grids[0], real_name="张网格")
        self.admin = SuperuserFactory()
        self.nobody = UserFactory()
        parent = Category.objects.create(code="02", name="邻里纠纷")
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.services = {s.code: s for s in ServiceItem.objects.all()}

    def session(self, community=None, *, day=TODAY, kind=SessionKind.THEMATIC, theme="普法",
                with_team=True, **extra):  # fmt: skip
        return services.session_create(
            actor=self.admin, community=community or self.c1, kind=kind, date=day,
            starts_at=time(9, 0), ends_at=time(11, 30), venue="社区党群服务中心",
            theme=theme, with_team=with_team, **extra,
        )  # fmt: skip

    def visit(self, session, actor=None, **fields):
        values = {"resident_name": "李大妈", "issue": "楼上漏水到我家厨房"} | fields
        return services.visit_record(session=session, actor=actor or self.lawyer, **values)


@pytest.fixture
def world(db):
    return World()


def day(text: str) -> date:
    return date.fromisoformat(text)
