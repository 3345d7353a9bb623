"""A database at the old head (before the SLA policies, checks, notifications and outbox
moved out of the disputes app) migrates forward with every row, relation and permission
kept: the moves are state-only, the tables stay."""

from datetime import timedelta

import pytest
from django.apps import apps as current_apps
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

OLD_HEAD = [("disputes", "0009_sla_check_version"), ("sla", None), ("notifications", None)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def filled(model, **given):
    """A row of a historical model with every required field filled: given values first,
    then something of the right type (the test is about keeping rows, not their content)."""
    values = dict(given)
    for f in model._meta.concrete_fields:
        if f.name in values or f.attname in values or f.primary_key:
            continue
        if f.null or f.has_default() or getattr(f, "auto_now", False):
            continue
        if getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, models.ForeignKey):
            raise AssertionError(f"{model.__name__}.{f.name} must be given")
        if f.blank and isinstance(f, models.CharField | models.TextField):
            values[f.name] = ""
        elif isinstance(f, models.DateTimeField):
            values[f.name] = timezone.now()
        elif isinstance(f, models.DateField):
            values[f.name] = timezone.localdate()
        elif isinstance(f, models.BooleanField):
            values[f.name] = False
        elif isinstance(f, models.IntegerField | models.DecimalField):
            values[f.name] = 1
        elif isinstance(f, models.JSONField):
            values[f.name] = {}
        else:
            values[f.name] = (f.choices[0][0] if f.choices else "x")[: f.max_length or 50]
    return model.objects.create(**values)


@pytest.mark.django_db(transaction=True)
def test_a_database_at_the_old_head_migrates_forward_with_its_rows():
    try:
        executor = migrate(OLD_HEAD)
        old = executor.loader.project_state(OLD_HEAD[0]).apps
        now = timezone.now()
        User = old.get_model("grids", "User")
        Area = old.get_model("grids", "Area")
        user = filled(User, username="old-head", password="!")
        area = filled(
            Area, path="0001", depth=1, numchild=0, code="OLD", name="旧区", level="district"
        )
        Category = old.get_model("disputes", "Category")
        category = filled(Category, code="0203", name="房屋漏水", parent=None)
        SlaPolicy = old.get_model("disputes", "SlaPolicy")
        policy = filled(SlaPolicy, code="old-policy", name="旧策略", category=category)
        Case = old.get_model("disputes", "Case")
        case = filled(
            Case, number="JF2026-999999", area=area, handling_area=area, category=category,
            filed_by=user, sla_policy=policy, assign_due_at=now, close_due_at=now,
        )  # fmt: skip
        SlaCheck = old.get_model("disputes", "SlaCheck")
        SlaCheck.objects.create(case=case, next_check_at=now, breached_assign=True, version=3)
        Notification = old.get_model("disputes", "Notification")
        notification = Notification.objects.create(
            recipient=user, case=case, kind="sla_not_assigned", title="未按时分配"
        )
        Outbox = old.get_model("disputes", "OutboxMessage")
        Outbox.objects.create(
            notification=notification, channel="sms", address="13800000000", not_before=now
        )
        ContentType = old.get_model("contenttypes", "ContentType")
        Permission = old.get_model("auth", "Permission")
        ct, _ = ContentType.objects.get_or_create(app_label="disputes", model="notification")
        ct_id = ct.pk
        permission = Permission.objects.create(
            content_type=ct, codename="view_old_inbox", name="Can view the old inbox"
        )
    finally:
        migrate(leaf_nodes())

    # The current models read the same rows from the same tables.
    SlaPolicy = current_apps.get_model("sla", "SlaPolicy")
    SlaCheck = current_apps.get_model("sla", "SlaCheck")
    Notification = current_apps.get_model("notifications", "Notification")
    Outbox = current_apps.get_model("notifications", "OutboxMessage")
    Case = current_apps.get_model("disputes", "Case")
    case = Case.objects.get(number="JF2026-999999")
    assert case.sla_policy == SlaPolicy.objects.get(code="old-policy")
    check = SlaCheck.objects.get(case=case)
    assert (check.breached_assign, check.version) == (True, 3)
    # The warnings arrived (sla 0005): the open case has its warning times from its policy
    # (75 % of 24 hours and of 30 days), and the next tick looks at it once.
    assert check.warn_assign_at == case.assign_due_at - timedelta(hours=6)
    assert check.warn_close_at == case.close_due_at - timedelta(days=7.5)
    assert (check.progress_due_at, check.warned_assign) == (None, False)  # not assigned
    assert check.next_check_at <= timezone.now()
    notification = Notification.objects.get(case=case)
    assert notification.title == "未按时分配"
    assert Outbox.objects.get(notification=notification).address == "13800000000"
    # Permissions and admin history follow the model: its content type moved with it.
    ContentType = current_apps.get_model("contenttypes", "ContentType")
    moved = ContentType.objects.get(pk=ct_id)
    assert (moved.app_label, moved.model) == ("notifications", "notification")
    assert (
        current_apps.get_model("auth", "Permission").objects.get(pk=permission.pk).content_type_id
        == ct_id
    )
    # New rows still get ids (sequences intact on PostgreSQL).
    fresh = Notification.objects.create(
        recipient_id=case.filed_by_id, case=case, kind="x", title="新"
    )
    assert fresh.pk > notification.pk
    policy = SlaPolicy.objects.create(code="new-policy", name="新策略")
    assert policy.pk > case.sla_policy_id
