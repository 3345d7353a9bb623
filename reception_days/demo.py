"""Demo reception days: individual services in the catalogue, a second community team, a
market with a weekly duty rota, this month's and next month's sessions, and a thematic
session TODAY at 民生路社区 for the demo lawyer to open. Idempotent, and written through the
services like real use. Runs after grids.demo and disputes.demo (seed_demo's order)."""

from datetime import date, time

from django.db import transaction
from django.utils import timezone

from disputes.models import Category, Outcome
from disputes.services import case_assign, case_progress, case_resolve
from grids.demo import DEMO_PASSWORD
from grids.models import Area, Assignment, Department, Role, User
from grids.services import assignment_create

from . import services
from .calendar import third_wednesday
from .models import (
    MediationUnit,
    ReceptionSession,
    RotaSlot,
    ServiceItem,
    SessionKind,
    SessionStatus,
    UnitKind,
)

MINSHENG = "500103001001"
TONGYUANMEN = "500103002001"
# code, common service code, name
INDIVIDUAL_SERVICES = [
    ("publicity-fraud", "publicity", "反诈宣传"),
    ("publicity-school", "publicity", "法治进校园"),
    ("consultation-family", "consultation", "婚姻家庭法律咨询"),
    ("consultation-labour", "consultation", "劳动权益咨询"),
    ("consultation-aid", "consultation", "法律援助申请指引"),
    ("screening-dispute", "screening", "矛盾纠纷排查登记"),
    ("screening-fire", "screening", "消防安全隐患排查"),
    ("mediation-neighbour", "mediation", "邻里纠纷调解"),
    ("mediation-property", "mediation", "物业纠纷调解"),
    ("mediation-court", "mediation", "诉前调解引导"),
]
COMMON = [("publicity", "普法宣传"), ("consultation", "法律咨询"), ("screening", "风险排查"),
          ("mediation", "矛盾调解")]  # fmt: skip
# A second community's team, so more than one community has sessions.
TEAM = [
    ("lawyer2", "钱律师", "13800000014", Role.LAWYER, TONGYUANMEN),
    ("police2", "孙警官", "13800000015", Role.POLICE, TONGYUANMEN),
]
ROTA = [(0, "lawyer"), (1, "police"), (2, "judge"), (3, "prosecutor"), (4, "lawyer")]


def seed_catalogue():
    parents = {}
    for order, (code, name) in enumerate(COMMON, start=1):
        parents[code], _created = ServiceItem.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order * 10}
        )
    for order, (code, parent, name) in enumerate(INDIVIDUAL_SERVICES, start=1):
        ServiceItem.objects.get_or_create(
            code=code, defaults={"name": name, "parent": parents[parent], "sort_order": order}
        )


def seed_team() -> dict[str, str]:
    logins = {}
    community = Area.objects.get(code=TONGYUANMEN)
    for username, real_name, phone, role, _code in TEAM:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, real_name=real_name, phone=phone)
            user.set_password(DEMO_PASSWORD)
            user.save()
        if not Assignment.objects.active().filter(user=user, role=role, area=community).exists():
            assignment_create(user=user, role=role, area=community)
        logins[username] = str(Role(role).label)
    return logins


def seed_unit() -> MediationUnit:
    community = Area.objects.get(code=MINSHENG)
    unit, _created = MediationUnit.objects.get_or_create(
        community=community,
        name="民生路农贸市场",
        defaults={"kind": UnitKind.MARKET, "address": "民生路120号农贸市场管理处",
                  "duty_starts_at": time(9, 0), "duty_ends_at": time(11, 30)},
    )  # fmt: skip
    users = {u.username: u for u in User.objects.filter(username__in=[n for _d, n in ROTA])}
    for weekday, username in ROTA:
        RotaSlot.objects.get_or_create(unit=unit, weekday=weekday, user=users[username])
    return unit


def _visits_at(session, lawyer, today):
    """A past session as it went: three residents, one dispute converted into a case."""
    services_by_code = {s.code: s for s in ServiceItem.objects.all()}
    services.visit_record(
        session=session, actor=lawyer, resident_name="周阿姨", issue="咨询子女不履行赡养义务怎么办",
        services=[services_by_code["consultation"]], outcome="prescription",
        advice="先由社区组织家庭协商；协商不成可申请人民调解或向法院起诉。",
    )  # fmt: skip
    services.visit_record(
        session=session, actor=lawyer, resident_name="吴先生", issue="接到冒充客服的退款电话",
        services=[services_by_code["publicity"]], outcome="answered",
        advice="系诈骗电话，已讲解防骗要点并协助安装国家反诈中心APP。",
    )  # fmt: skip
    visit = services.visit_record(
        session=session, actor=lawyer, resident_name="郑女士", resident_phone="13900001234",
        issue="楼上住户装修导致我家天花板漏水，协商赔偿未果", people=2, is_dispute=True,
        services=[services_by_code["screening"], services_by_code["mediation"]],
    )  # fmt: skip
    case = services.visit_convert(
        visit=visit, actor=lawyer, category=Category.objects.get(code="0601"),
        respondent_name="楼上住户",
    )  # fmt: skip
    # Mediated to an agreement since, so the report card has a resolution to show.
    secretary, mediator = (
        User.objects.get(username="secretary"),
        User.objects.get(username="mediator"),
    )
    case_assign(case=case, mediator=mediator, actor=secretary)
    case_progress(
        case=case, actor=mediator, note="约双方到社区调解室协商，楼上住户同意修复防水层。"
    )
    case_resolve(
        case=case, actor=mediator, outcome=Outcome.AGREEMENT, note="楼上住户承担维修费用。"
    )
    services.visit_record(
        session=session, actor=lawyer, resident_name="冯师傅", issue="小区消防通道长期被占用",
        services=[services_by_code["screening"]], outcome="referred",
        department=Department.objects.filter(code="URBAN").first(),
    )  # fmt: skip
    staff = list(session.staff.all())
    services.session_hold(session=session, actor=lawyer, attended=[s.pk for s in staff])


def seed_sessions(today: date):
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    lawyer = User.objects.get(username="lawyer")
    minsheng = Area.objects.get(code=MINSHENG)
    # This month's monthly session, even when its day has passed (the scheduler only
    # creates sessions to come): held, with its visits, so the report card has data.
    due = third_wednesday(today.year, today.month)
    for community in services.communities_with_a_team():
        this_month = ReceptionSession.objects.filter(
            community=community, kind=SessionKind.MONTHLY, date__year=today.year,
            date__month=today.month,
        )  # fmt: skip
        if due < today and not this_month.exists():
            session = services.session_create(
                actor=admin, community=community, kind=SessionKind.MONTHLY, date=due,
                starts_at=services.MONTHLY_STARTS_AT, ends_at=services.MONTHLY_ENDS_AT,
            )  # fmt: skip
            if community == minsheng:
                _visits_at(session, lawyer, today)
            else:
                present = [s.pk for s in session.staff.all()]
                services.session_hold(session=session, actor=admin, attended=present)
    services.schedule_reception_days(months=2, weeks=2, today=today)
    if not ReceptionSession.objects.filter(
        community=minsheng, kind=SessionKind.THEMATIC, date=today
    ).exists():
        session = services.session_create(
            actor=admin, community=minsheng, kind=SessionKind.THEMATIC, date=today,
            theme="反诈宣传进社区", venue="民生路社区文化广场",
            starts_at=time(9, 0), ends_at=time(17, 0),
        )  # fmt: skip
        services.session_add_staff(session=session, actor=admin, name="何消防", duty="消防专干")
    return ReceptionSession.objects.exclude(status=SessionStatus.CANCELLED).count()


@transaction.atomic
def seed() -> dict[str, str]:
    seed_catalogue()
    logins = seed_team()
    seed_unit()
    seed_sessions(timezone.localdate())
    return logins
