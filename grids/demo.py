"""Demo data: one district, 3 streets, 8 communities, their grids and micro-grids,
departments and a user for every role. Idempotent: running it twice changes nothing."""

from decimal import Decimal

from django.db import transaction

from .models import Area, AreaLevel, Assignment, Department, Role, User
from .services import area_create, assignment_create

DEMO_PASSWORD = "demo12345"

DISTRICT = ("500103", "渝中区")
STREETS = [
    (
        "500103001",
        "解放碑街道",
        [("001", "民生路社区"), ("002", "五一路社区"), ("003", "新华路社区")],
    ),
    (
        "500103002",
        "七星岗街道",
        [("001", "通远门社区"), ("002", "金汤街社区"), ("003", "双钢路社区")],
    ),
    ("500103003", "大坪街道", [("001", "大坪正街社区"), ("002", "秀山路社区")]),
]
DEDICATED = [
    ("500103001001D1", "民生路社区", "解放碑小学专属网格", "school"),
    ("500103002001D1", "通远门社区", "七星岗农贸市场专属网格", "market"),
]
DEPARTMENTS = [
    ("HRSS", "区人力资源和社会保障局"),
    ("HOUSING", "区住房和城乡建设委员会"),
    ("WATER", "区水利局"),
    ("URBAN", "区城市管理局"),
    ("MARKET", "区市场监督管理局"),
    ("JUSTICE", "区司法局"),
    ("POLICE", "区公安分局"),
    ("EDU", "区教育委员会"),
    ("HEALTH", "区卫生健康委员会"),
]
# username, real name, phone, role, area code or department code, is a superuser
USERS = [
    ("admin", "管理员", "13800000000", Role.ADMIN, None, True),
    ("district", "周区中心", "13800000001", Role.DISTRICT_STAFF, "500103", False),
    ("street", "李综治", "13800000002", Role.STREET_STAFF, "500103001", False),
    ("streetleader", "陈街道", "13800000003", Role.STREET_LEADER, "500103001", False),
    ("secretary", "王书记", "13800000004", Role.COMMUNITY_SECRETARY, "500103001001", False),
    ("mediator", "赵调解", "13800000005", Role.MEDIATOR, "500103001001", False),
    ("gridworker", "张网格", "13800000006", Role.GRID_WORKER, "500103001001G01", False),
    ("gridworker2", "刘网格", "13800000007", Role.GRID_WORKER, "500103002001G01", False),
    ("microhead", "孙楼长", "13800000008", Role.MICRO_GRID_HEAD, "500103001001G01M01", False),
    ("labour", "吴人社", "13800000009", Role.DEPARTMENT_LIAISON, "dept:HRSS", False),
    ("judge", "郑法官", "13800000010", Role.JUDGE, "500103001001", False),
    ("prosecutor", "冯检察", "13800000011", Role.PROSECUTOR, "500103001001", False),
    ("police", "何警官", "13800000012", Role.POLICE, "500103001001", False),
    ("lawyer", "马律师", "13800000013", Role.LAWYER, "500103001001", False),
]


def _area(code, name, level, parent=None, households=0, kind="", at=None):
    existing = Area.objects.filter(code=code).first()
    if existing:
        return existing
    latitude, longitude = at or (None, None)
    return area_create(
        code=code, name=name, level=level, parent=parent, households=households,
        dedicated_kind=kind, latitude=latitude, longitude=longitude,
    )  # fmt: skip


# Where the demo's grids lie: Yuzhong district, Chongqing, a few hundred metres apart, so
# "use my current location" on the filing page has something to find.
ORIGIN = (Decimal("29.556000"), Decimal("106.568000"))


def _spot(street: int, community: int, grid: int, micro: int = 0):
    return (
        ORIGIN[0] + Decimal("0.02") * street + Decimal("0.004") * grid + Decimal("0.0005") * micro,
        ORIGIN[1] + Decimal("0.02") * community + Decimal("0.004") * grid,
    )


@transaction.atomic
def seed() -> dict[str, str]:
    district = _area(DISTRICT[0], DISTRICT[1], AreaLevel.DISTRICT, households=260000)
    communities = {}
    for s, (street_code, street_name, community_list) in enumerate(STREETS):
        street = _area(street_code, street_name, AreaLevel.STREET, district, 30000)
        for c, (suffix, community_name) in enumerate(community_list):
            code = street_code + suffix
            community = _area(code, community_name, AreaLevel.COMMUNITY, street, 3500)
            communities[community_name] = community
            for g in (1, 2, 3):
                grid = _area(
                    f"{code}G0{g}", f"{community_name}第{g}网格", AreaLevel.GRID, community, 500,
                    at=_spot(s, c, g),
                )  # fmt: skip
                for m in (1, 2):
                    _area(
                        f"{code}G0{g}M0{m}",
                        f"{community_name}第{g}网格{m}号楼微网格",
                        AreaLevel.MICRO_GRID,
                        grid,
                        70,
                        at=_spot(s, c, g, m),
                    )
    for code, community_name, name, kind in DEDICATED:
        _area(code, name, AreaLevel.DEDICATED, communities[community_name], 0, kind)

    departments = {}
    for code, name in DEPARTMENTS:
        departments[code], _created = Department.objects.get_or_create(
            code=code, defaults={"name": name, "district": district}
        )

    logins = {}
    for username, real_name, phone, role, place, superuser in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                real_name=real_name,
                phone=phone,
                is_staff=superuser,
                is_superuser=superuser,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        logins[username] = f"{Role(role).label}"
        area = department = None
        if place and place.startswith("dept:"):
            department = departments[place[5:]]
        elif place:
            area = Area.objects.get(code=place)
        if not Assignment.objects.filter(user=user, role=role, ended_at__isnull=True).exists():
            assignment_create(user=user, role=role, area=area, department=department)
    return logins
