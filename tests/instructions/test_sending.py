"""Sending: who receives (exactly the chosen roles in the subtree, once each), scope (nobody
sends outside their area), bad input (nothing saved), the inbox notice and the timer."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count

from grids.models import Role
from instructions.models import ACK_DUE, Instruction, InstructionEvent, InstructionRecipient
from instructions.notices import write_notices
from instructions.tasks import instruction_notices
from notifications.models import Notification, OutboxMessage
from sla import timers

from .conftest import NOW


def recipients(instruction) -> set:
    return {r.user for r in instruction.recipients.select_related("user")}


def test_it_reaches_exactly_the_chosen_roles_in_the_subtree_once_each(world):
    instruction = world.send()
    assert recipients(instruction) == world.c1_workers
    assert instruction.recipient_count == 4
    # Not the micro-grid head, the mediator, C2's workers, the ended or disabled worker.
    assert InstructionRecipient.objects.filter(user=world.double).count() == 1
    row = InstructionRecipient.objects.get(user=world.micro_worker)
    assert (row.area, row.branch, row.role) == (world.tree.micro_grids[0], world.tree.grids[0],
                                                Role.GRID_WORKER)  # fmt: skip
    assert row.status == "received" and row.read_at is None
    # The double holds the role at both grids: told once, under the earlier assignment.
    assert InstructionRecipient.objects.get(user=world.double).branch == world.tree.grids[0]


def test_it_reaches_several_roles_and_leaves_the_sender_out(world):
    instruction = world.send(
        actor=world.street,
        area=world.s1,
        roles=[Role.GRID_WORKER, Role.MICRO_GRID_HEAD, Role.MEDIATOR, Role.COMMUNITY_SECRETARY],
    )
    expected = world.c1_workers | {world.workers[2], world.workers[3], world.micro_head,
                                   world.mediator, world.secretary}  # fmt: skip
    assert recipients(instruction) == expected
    branches = dict(instruction.recipients.values_list("user", "branch"))
    assert branches[world.secretary.pk] == world.c1.pk
    assert branches[world.workers[3].pk] == world.c2.pk
    # The street staff sending to grid workers and street staff does not tell themselves.
    own = world.send(actor=world.street, area=world.s1, roles=[Role.STREET_STAFF, Role.GRID_WORKER])
    assert world.street not in recipients(own)


def test_it_writes_one_inbox_notice_per_recipient_after_commit_and_no_text_message(
    world, django_capture_on_commit_callbacks, celery_eager, time_machine
):
    with django_capture_on_commit_callbacks(execute=True):
        instruction = world.send()
    notices = Notification.objects.filter(kind="instruction")
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(
        u.pk for u in world.c1_workers
    )
    notice = notices.first()
    assert notice.title == "指令：今晚防汛值守"
    assert notice.case_id is None and notice.read_at is None
    assert not OutboxMessage.objects.exists()
    assert timers.pending(ACK_DUE, instruction.pk) == instruction.ack_due_at
    (event,) = instruction.events.all()
    assert (event.kind, event.actor, event.people) == (
        InstructionEvent.Kind.SENT,
        world.secretary,
        4,
    )
    # The sweep's fallback, two minutes later, finds them written and writes none again.
    time_machine.shift(timedelta(minutes=3))
    assert timers.sweep() == 1
    assert write_notices(instruction_id=instruction.pk) == 0
    assert notices.count() == 4


def test_the_sweep_writes_the_inbox_notices_once_if_the_task_was_lost(world, time_machine):
    instruction = world.send()  # the test's transaction never commits: no task ran
    assert not Notification.objects.exists()
    time_machine.shift(timedelta(minutes=1))
    assert timers.sweep() == 0
    time_machine.shift(timedelta(minutes=2))
    assert timers.sweep() == 1
    assert Notification.objects.filter(kind="instruction").count() == 4
    # The task arriving late writes nothing more.
    assert instruction_notices(instruction.pk) == 0
    assert Notification.objects.count() == 4


def test_it_lets_the_district_reach_every_grid_worker_of_the_district(world):
    instruction = world.send(actor=world.district_staff, area=world.district)
    assert instruction.recipient_count == 8 + 2
    counts = dict(
        instruction.recipients.values("branch").annotate(n=Count("id")).values_list("branch", "n")
    )
    assert counts == {world.s1.pk: 6, world.s2.pk: 4}


def test_it_lets_someone_who_sees_everything_send_to_every_area(world):
    instruction = world.send(actor=world.admin, area=None)
    assert instruction.area is None
    assert instruction.recipient_count == 10
    assert set(instruction.recipients.values_list("branch", flat=True)) == {world.district.pk}


@pytest.mark.parametrize(
    "who, where",
    [
        ("secretary", "c3"),  # another community
        ("secretary", "s1"),  # above their own
        ("street", "s2"),  # another street
        ("street", None),  # everywhere
        ("workers", "c1"),  # a grid worker sends nothing
        ("mediator", "c1"),  # nor does a mediator
        ("nobody", "c1"),
    ],
)
def test_it_refuses_to_send_outside_the_senders_area_and_saves_nothing(world, who, where):
    actor = getattr(world, who)
    actor = actor[0] if isinstance(actor, list) else actor
    area = getattr(world, where) if where else None
    with pytest.raises(PermissionDenied):
        world.send(actor=actor, area=area)
    assert not Instruction.objects.exists()
    assert not InstructionRecipient.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"roles": []}, "roles"),
        ({"roles": [Role.ADMIN]}, "roles"),
        ({"roles": [Role.DEPARTMENT_LIAISON]}, "roles"),
        ({"title": "  "}, "title"),
        ({"title": "长" * 101}, "title"),
        ({"body": "长" * 5001}, "body"),
        ({"ack_due_at": NOW - timedelta(minutes=1)}, "ack_due_at"),
        ({"ack_due_at": NOW}, "ack_due_at"),
        ({"ack_due_at": NOW + timedelta(days=91)}, "ack_due_at"),
        ({"roles": [Role.LAWYER]}, "roles"),  # nobody holds it there: nothing sent
    ],
)
def test_it_refuses_bad_input_and_saves_nothing(world, change, field):
    with pytest.raises(ValidationError) as error:
        world.send(**change)
    assert field in error.value.message_dict
    assert not Instruction.objects.exists()
    assert not InstructionRecipient.objects.exists()
    assert not Notification.objects.exists()
    assert not timers.pending(ACK_DUE, 1)
