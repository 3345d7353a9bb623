"""Prepared reads (common.prepared) give exactly what the ORM gives for the same queryset:
the same rows in the same order, every column, the joined rows, the deferred fields; and
they refuse, or leave to the ORM, what they cannot run safely."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, connections
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIClient

from common.prepared import Prepared
from disputes import handoffs, selectors
from disputes.demo import seed_categories
from disputes.models import Category, HandlingLevel
from disputes.routing import AREAS_BY_PATH
from disputes.serializers import CaseCreateSerializer
from grids.models import Area, Assignment, Department, Role, User
from grids.sessions import LIVE_SESSION, SessionStore
from grids.tokens import TOKEN
from instructions.models import Instruction, InstructionRecipient, RecipientStatus
from instructions.selectors import BANNER
from notifications.models import Notification
from notifications.services import UNREAD
from sla.clock import POLICIES
from sla.models import SlaPolicy
from tests.factories import Tree, UserFactory, assign

pytestmark = pytest.mark.django_db


def columns(obj) -> dict:
    """Every loaded column of a row, and of the rows joined to it (select_related)."""
    values = {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in obj.get_deferred_fields()
    }
    forward = {f.name for f in obj._meta.concrete_fields if f.is_relation}
    for name, related in obj._state.fields_cache.items():
        if name in forward:  # (a joined row also points back at its owner: skipped)
            values[name] = None if related is None else (type(related), columns(related))
    return values


def assert_same(prepared: Prepared, *args) -> list:
    rows = prepared.rows(*args)
    expected = list(prepared.build(*args))
    assert [type(r) for r in rows] == [type(r) for r in expected]
    assert [columns(r) for r in rows] == [columns(r) for r in expected]
    assert [r.get_deferred_fields() for r in rows] == [r.get_deferred_fields() for r in expected]
    assert prepared.count(*args) == prepared.build(*args).count() == len(rows)
    if connection.vendor == "postgresql":  # compiled, not left to the ORM
        plans = connections["default"].__dict__["prepared_plans"]
        kinds = tuple(type(arg) for arg in args)
        assert plans[(prepared, kinds, False)] is not None
        assert plans[(prepared, kinds, True)] is not None
    return rows


@pytest.fixture
def tree():
    return Tree()


def test_assignments_of_the_scope(tree):
    now = timezone.now() + timedelta(seconds=1)  # after the assignments below start
    user = UserFactory()
    department = Department.objects.create(name="住建局", code="zj")
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[1])
    assign(user, Role.DEPARTMENT_LIAISON, department=department)
    assign(user, Role.STREET_STAFF, tree.streets[0], started_at=now - timedelta(days=9),
           ended_at=now - timedelta(days=1))  # fmt: skip
    assign(user, Role.STREET_STAFF, tree.streets[1], started_at=now + timedelta(days=1))
    assign(UserFactory(), Role.GRID_WORKER, tree.grids[0])
    rows = assert_same(Assignment.HELD, user.pk, now)
    assert {a.role for a in rows} == {Role.GRID_WORKER, Role.MEDIATOR, Role.DEPARTMENT_LIAISON}
    with CaptureQueriesContext(connection) as queries:  # the joined rows came with them
        assert {a.area.name if a.area_id else a.department.name for a in rows} == {
            tree.grids[0].name,
            tree.communities[1].name,
            "住建局",
        }
    assert not queries.captured_queries
    # A time before they all started: none.
    assert Assignment.HELD.rows(user.pk, now - timedelta(days=3650)) == []


def test_unread_count_and_banner(tree):
    user, other = UserFactory(), UserFactory()
    for n in range(3):
        Notification.objects.create(recipient=user, kind="x", title=f"通知{n}")
    Notification.objects.create(recipient=user, kind="x", title="已读", read_at=timezone.now())
    Notification.objects.create(recipient=other, kind="x", title="别人的")
    assert UNREAD.count(user.pk) == 3
    assert UNREAD.count(UserFactory().pk) == 0
    assert_same(UNREAD, user.pk)

    due = timezone.now() + timedelta(hours=4)
    for n in range(7):  # more than the banner shows
        instruction = Instruction.objects.create(
            sender=other, area=tree.district, title=f"指示{n}", ack_due_at=due
        )
        InstructionRecipient.objects.create(
            instruction=instruction,
            user=user,
            area=tree.district,
            status={2: RecipientStatus.ACKED, 3: RecipientStatus.READ}.get(n, "received"),
            acked_at=timezone.now() if n == 2 else None,
            read_at=timezone.now() if n in (2, 3) else None,
        )
    rows = assert_same(BANNER, user.pk)  # deferred columns, a joined row, a LIMIT
    assert rows and all(r.get_deferred_fields() for r in rows)
    assert [r.instruction.title for r in rows] == [
        f"指示{n}" for n in (6, 5, 4, 3, 1, 0) if n != 2
    ][: len(rows)]


def test_session_row_and_its_expiry():
    store = SessionStore()
    store["who"] = "网格员"
    store.save()
    key = store.session_key
    loaded = SessionStore(session_key=key)
    assert loaded["who"] == "网格员"
    assert_same(LIVE_SESSION, key, timezone.now())
    # The same statement Django's own database sessions run.
    plans = connections["default"].__dict__["prepared_plans"]
    plan = plans[(LIVE_SESSION, (str, type(timezone.now())), False)]
    orm_sql, _params = (
        Session.objects.filter(session_key=key, expire_date__gt=timezone.now())
        .query.get_compiler(using="default")
        .as_sql()
    )
    if connection.vendor == "postgresql":
        assert plan.sql == orm_sql
    else:  # SQLite writes a datetime as text: left to the ORM
        assert plan is None
    # Expired: nothing loaded, and a new key will be made (as Django's own).
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    expired = SessionStore(session_key=key)
    assert expired.load() == {}
    assert expired.session_key is None


def translated(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def test_token_and_its_answers():
    user = UserFactory()
    token = Token.objects.create(user=user)
    assert_same(TOKEN, token.key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/cases/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    answer = client.get("/api/v1/cases/")  # DRF's own answers (the API's first class: 403)
    assert answer.status_code == 403
    assert answer.json()["detail"] == translated("Invalid token.")
    User.objects.filter(pk=user.pk).update(is_active=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    answer = client.get("/api/v1/cases/")
    assert answer.status_code == 403
    assert answer.json()["detail"] == translated("User inactive or deleted.")


def test_filing_lookups(tree):
    seed_categories()
    child = Category.objects.filter(parent__isnull=False).first()
    top = Category.objects.filter(parent__isnull=True).first()
    SlaPolicy.objects.create(code="typed", name="按类型", category=child, risk_level="high")
    SlaPolicy.objects.create(code="parent", name="按上级", category=child.parent)
    SlaPolicy.objects.create(code="off", name="停用", category=child, is_active=False)
    # One category id or two (with its parent): a statement for each number of values.
    for risk in ("high", "low", ""):
        assert_same(POLICIES, risk, child.pk, child.parent_id)
        assert_same(POLICIES, risk, top.pk)
    grid = tree.micro_grids[5]
    paths = [grid.path[:i] for i in range(grid.steplen, len(grid.path), grid.steplen)]
    rows = assert_same(AREAS_BY_PATH, *paths)
    assert {a.pk for a in rows} == {a.pk for a in Area.objects.filter(path__in=paths)}
    assert len(rows) == 4
    assert_same(AREAS_BY_PATH, *paths[:2])
    field = CaseCreateSerializer._declared_fields["category"]  # the filing's type
    found = assert_same(field.read, child.pk)
    assert found[0].parent == child.parent
    assert field.to_internal_value(child.pk) == child
    Category.objects.filter(pk=child.pk).update(is_active=False)
    assert field.read.rows(child.pk) == []
    with pytest.raises(ValidationError):  # DRF's own answer
        field.to_internal_value(child.pk)
    assert_same(selectors.LAWS, child.pk)
    assert_same(selectors.TYPICAL_CASES, child.pk)


def test_who_is_told_of_a_handoff(tree):
    now = timezone.now() + timedelta(seconds=1)  # after the assignments below start
    street_staff = [UserFactory() for _ in range(2)]
    for user in street_staff:
        assign(user, Role.STREET_STAFF, tree.streets[0])
    assign(UserFactory(), Role.STREET_STAFF, tree.streets[0], started_at=now - timedelta(days=9),
           ended_at=now - timedelta(hours=1))  # fmt: skip
    worker = UserFactory()
    assign(worker, Role.GRID_WORKER, tree.streets[0])
    department = Department.objects.create(name="城管局", code="cg")
    liaison = UserFactory()
    assign(liaison, Role.DEPARTMENT_LIAISON, department=department)
    assert {u.pk for u in assert_same(handoffs.UNIT, tree.streets[0].pk, now)} == {
        u.pk for u in street_staff
    }
    grid_unit = assert_same(handoffs.GRID_UNIT, tree.streets[0].pk, now)
    assert worker.pk in {u.pk for u in grid_unit}
    assert [u.pk for u in assert_same(handoffs.LIAISONS, department.pk, now)] == [liaison.pk]
    assert HandlingLevel.GRID  # both queue kinds are covered above


def test_refuses_a_read_that_reads_the_clock_itself():
    user = UserFactory()
    hidden_clock = Prepared(
        lambda user_id: Assignment.objects.filter(user_id=user_id).active()  # now() inside
    )
    with pytest.raises(ValueError, match="depends on more than its arguments"):
        hidden_clock.rows(user.pk)


def test_leaves_to_the_orm_what_it_cannot_run_as_is():
    named = UserFactory(real_name="张三丰")
    UserFactory(real_name="李四")
    # A value transformed on the way (%…%) and a None (IS NULL): the ORM's own statement.
    contains = Prepared(lambda text: User.objects.filter(real_name__contains=text))
    assert [u.pk for u in contains.rows("三")] == [named.pk]
    assert contains.count("三") == 1
    by_email = Prepared(lambda email: User.objects.filter(email=email))
    assert by_email.rows(None) == list(User.objects.filter(email=None))
    plans = connections["default"].__dict__["prepared_plans"]
    assert plans[(contains, (str,), False)] is None
    assert (by_email, (type(None),), False) not in plans  # never compiled


def test_annotations_are_set_as_the_orm_sets_them(tree):
    user, idle = UserFactory(), UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[0])
    held = Prepared(
        lambda user_id: User.objects.filter(pk=user_id).annotate(held=Count("assignments"))
    )
    for person, expected in ((user, 2), (idle, 0)):
        (row,) = assert_same(held, person.pk)
        assert row.held == expected == held.build(person.pk).get().held
