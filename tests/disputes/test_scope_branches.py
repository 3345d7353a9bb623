"""The scope read branch by branch (disputes.scope, disputes.listing) against the scope as it
was written before (one OR with per-row subqueries, kept here as the reference): on random
cases, for every role, the same cases, in the same order, page after page, with every
colour filter, "most overdue first" and "My cases"."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Q

from disputes import selectors
from disputes.department_models import DepartmentTask
from disputes.listing import CaseListPaginator, capped_count
from disputes.models import LEVEL_COLUMN, Case, Category, HandlingLevel, Party
from grids.models import Area, Role, User
from grids.scope import user_scope
from sla import clock
from tests.factories import DepartmentFactory, SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

NAMES = ["张三", "李四", "王五"]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ROLES = [
    ("grid_worker", Role.GRID_WORKER, "grids"),
    ("micro_grid_head", Role.MICRO_GRID_HEAD, "micro_grids"),
    ("community_secretary", Role.COMMUNITY_SECRETARY, "communities"),
    ("mediator", Role.MEDIATOR, "communities"),
    ("street_staff", Role.STREET_STAFF, "streets"),
    ("district_staff", Role.DISTRICT_STAFF, "district"),
    ("judge", Role.JUDGE, "communities"),
    ("police", Role.POLICE, "communities"),
    ("lawyer", Role.LAWYER, "communities"),
    ("liaison", Role.DEPARTMENT_LIAISON, None),
    ("assisting", None, None),  # no post: sees only what they assist on / filed / mediate
    ("two_posts", Role.GRID_WORKER, "grids"),  # and a mediator post in another community
    ("admin", None, None),
]


def reference_scope_q(user) -> Q | None:
    """The scope as it was before the branches (the OR with `pk IN (subquery)`)."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    assisted = Case.assistants.through.objects.filter(user_id=user.pk).values("case_id")
    condition = Q(filed_by_id=user.pk) | Q(mediator_id=user.pk) | Q(pk__in=assisted)
    by_column: dict[str, list[int]] = {}
    for a in scope.assignments:
        if a.area_id:
            by_column.setdefault(LEVEL_COLUMN[a.area.level], []).append(a.area_id)
    for column, ids in by_column.items():
        condition |= Q(**{f"{column}__in": ids})
    if ids := scope.department_ids:
        tasks = DepartmentTask.objects.filter(department_id__in=ids).values("case_id")
        condition |= Q(lead_department_id__in=ids) | Q(referral_department_id__in=ids)
        condition |= Q(pk__in=tasks)
    return condition


def reference_list(user, filters=None):
    condition = reference_scope_q(user)
    qs = Case.objects.all() if condition is None else Case.objects.filter(condition)
    qs = Case.objects.filter(pk__in=qs.values("pk")).order_by("-filed_at", "-id")
    f = filters or {}
    if f.get("q"):  # the old search's join to the parties, made distinct by the id subquery
        text = f["q"]
        matching = Case.objects.filter(
            Q(cause__icontains=text) | Q(address__icontains=text)
            | Q(parties__name__icontains=text) | Q(parties__phone__icontains=text)
        )  # fmt: skip
        qs = qs.filter(pk__in=matching.values("pk"))
    if f.get("colour") or f.get("sort") == "sla":
        qs = qs.annotate_sla(NOW)
    if f.get("colour"):
        qs = qs.filter(sla_colour=f["colour"])
    if f.get("sort") == "sla":
        qs = qs.annotate(sla_due=selectors._deciding_deadline()).order_by(
            "sla_rank", F("sla_due").asc(nulls_last=True), "-filed_at", "-id"
        )
    return list(qs.values_list("pk", flat=True))


def fresh(user) -> User:
    return User.objects.get(pk=user.pk)


class RandomWorld:
    def __init__(self, seed: int, cases: int = 90):
        rng = random.Random(seed)
        self.tree = t = Tree()
        self.departments = [DepartmentFactory(), DepartmentFactory()]
        parent = Category.objects.create(code=f"P{seed}", name="邻里纠纷")
        category = Category.objects.create(
            code=f"C{seed}", name="噪音", parent=parent, default_handling_level=HandlingLevel.GRID
        )
        self.users = {}
        for name, role, level in ROLES:
            if name == "admin":
                self.users[name] = SuperuserFactory()
                continue
            person = UserFactory()
            if role == Role.DEPARTMENT_LIAISON:
                assign(person, role, department=self.departments[0])
            elif role is not None:
                places = getattr(t, level)
                area = places if level == "district" else rng.choice(places)
                assign(person, role, area=area)
            if name == "two_posts":
                assign(person, Role.MEDIATOR, area=rng.choice(t.communities))
            self.users[name] = person
        people = list(self.users.values())
        statuses = ["filed", "accepted", "assigned", "in_mediation", "resolved", "closed"]
        for n in range(cases):
            area = rng.choice(t.micro_grids + t.grids)
            grid = area if area.level == "grid" else Area.objects.get(pk=area.parent_id)
            community = Area.objects.get(pk=grid.parent_id)
            filed = NOW - timedelta(hours=rng.uniform(0, 24 * 60))
            assigned = rng.random() < 0.6
            status = rng.choice(statuses)
            case = Case.objects.create(
                number=f"T{seed}-{n:05d}",
                cause="纠纷",
                address=rng.choice(["民生路", "解放路"]),
                area=area,
                grid=grid,
                community=community,
                street_id=community.parent_id,
                district=t.district,
                category=category,
                risk_level="ordinary",
                channel="hotline",
                handling_level="grid",
                handling_area=grid,
                status=status,
                outcome="resolved" if status == "closed" else "",
                filed_by=rng.choice([None, *people]),
                mediator=rng.choice([None, None, *people]),
                lead_department=rng.choice([None, None, None, *self.departments]),
                referral_department=rng.choice([None, None, None, None, *self.departments]),
                # Equal filing times break ties by id: the order's second key.
                filed_at=filed if rng.random() < 0.8 else NOW - timedelta(days=1),
                assigned_at=filed + timedelta(hours=2) if assigned else None,
                first_progress_at=filed + timedelta(hours=5) if rng.random() < 0.3 else None,
                assign_due_at=filed + timedelta(hours=24),
                first_update_due_at=filed + timedelta(hours=48) if assigned else None,
                close_due_at=filed + timedelta(days=30),
                clock_paused_at=NOW if rng.random() < 0.05 else None,
            )
            if rng.random() < 0.4:
                Party.objects.create(case=case, side="applicant", name=rng.choice(NAMES),
                                     phone=rng.choice(["13800001111", "13900002222"]))  # fmt: skip
            if rng.random() < 0.2:
                case.assistants.add(*rng.sample(people, 2))
            if rng.random() < 0.15:
                DepartmentTask.objects.create(
                    case=case,
                    department=rng.choice(self.departments),
                    dispatched_at=filed,
                    sign_due_at=filed + timedelta(days=1),
                )


def paged(qs, per_page: int) -> list[int]:
    paginator = CaseListPaginator(qs, per_page)
    return [c.pk for number in paginator.page_range for c in paginator.page(number).object_list]


@pytest.fixture(params=[1, 2, 3])
def world(request):
    return RandomWorld(request.param)


FILTERS = [
    {},
    {"colour": clock.RED},
    {"colour": clock.ORANGE},
    {"colour": clock.GREEN},
    {"sort": "sla"},
    {"sort": "sla", "colour": clock.ORANGE},
    {"q": "李四"},  # a party's name
    {"q": "0000222"},  # a party's phone
    {"q": "解放"},  # the address
    {"q": "李四", "sort": "sla"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "-".join(f.values()) or "all")
def test_it_lists_what_the_reference_scope_lists_for_every_role(world, filters):
    for name, user in world.users.items():
        expected = reference_list(fresh(user), filters)
        qs = selectors.case_list(user=fresh(user), filters={**filters, "now": NOW})
        assert sorted(qs.values_list("pk", flat=True)) == sorted(expected), name
        assert paged(qs, per_page=7) == expected, name
        assert capped_count(qs) == len(expected), name
        assert capped_count(qs, cap=5) == min(len(expected), 6), name


def test_it_finds_my_cases_as_before(world):
    for name, user in world.users.items():
        mine = Q(filed_by=user) | Q(mediator=user) | Q(assistants=user)
        expected = list(
            Case.objects.filter(pk__in=Case.objects.filter(mine).values("pk"))
            .order_by("-filed_at", "-id")
            .values_list("pk", flat=True)
        )
        assert paged(selectors.my_cases(user=fresh(user)), per_page=6) == expected, name


def test_it_caps_the_count_and_says_so(world):
    qs = selectors.case_list(user=fresh(world.users["district_staff"]))
    paginator = CaseListPaginator(qs, 10)
    paginator.cap = 25
    assert paginator.count == 25 and paginator.capped
    assert paginator.num_pages == 3
    everything = reference_list(fresh(world.users["district_staff"]))
    assert [c.pk for c in paginator.page(3).object_list] == everything[20:30]


@pytest.mark.parametrize("name", ["two_posts", "street_staff", "assisting"])
def test_a_listed_queryset_keeps_its_branches_and_a_narrower_one_reads_its_own(world, name):
    # The branches are built once per queryset (listing._branches): read again, the same
    # queryset lists the same cases, and one filtered from it lists only its own.
    user = fresh(world.users[name])
    qs = selectors.case_list(user=user, filters={"now": NOW})
    everything = reference_list(fresh(user))
    assert paged(qs, per_page=7) == everything
    for filters in ({"colour": clock.RED}, {"sort": "sla"}, {"q": "李四", "sort": "sla"}):
        narrower = selectors.filters_apply(qs, {**filters, "now": NOW})
        expected = reference_list(fresh(user), filters)
        assert paged(narrower, per_page=5) == expected, filters
        assert capped_count(narrower) == len(expected), filters
    assert paged(qs, per_page=6) == everything
    assert capped_count(qs) == len(everything)
