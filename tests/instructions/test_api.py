"""The API: send (201; 400 with field errors; 403 outside the area; nothing saved), list and
detail with progress (404 outside scope), received, 已签收 (idempotent), remind (409 when
nobody is left). Every endpoint in a fixed number of queries; the schema lists them."""

from datetime import timedelta

import pytest

from grids.models import Role
from instructions import services
from instructions.models import Instruction, InstructionRecipient
from notifications.models import Notification, OutboxMessage

from .conftest import NOW, api_for

URL = "/api/v1/instructions/"


def payload(world, **change):
    return {
        "area": world.c1.pk,
        "roles": [Role.GRID_WORKER],
        "title": "今晚防汛值守",
        "body": "请到岗",
        "ack_due_at": (NOW + timedelta(hours=4)).isoformat(),
    } | change


def test_it_sends_and_answers_with_the_progress(
    world, django_assert_max_num_queries, django_capture_on_commit_callbacks, celery_eager
):
    client = api_for(world.street)
    with (
        django_capture_on_commit_callbacks(execute=True) as after,
        django_assert_max_num_queries(16),
    ):
        response = client.post(URL, payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["recipient_count"] == 4
    assert body["progress"] == {"total": 4, "read": 0, "acked": 0, "waiting": 4}
    assert body["area"]["id"] == world.c1.pk and body["sender"] == "李综治"
    assert {b["area"]["id"] for b in body["branches"]} == {g.pk for g in world.tree.grids[:2]}
    assert len(after) == 1  # the inbox notices, written once the send committed
    assert Notification.objects.filter(kind="instruction").count() == 4


@pytest.mark.parametrize(
    "who, area",
    [("secretary", "c3"), ("secretary", "s1"), ("street", "s2"), ("street", None),
     ("workers", "c1"), ("nobody", "c1")],
)  # fmt: skip
def test_it_refuses_an_area_outside_the_senders_scope_with_403(world, who, area):
    actor = getattr(world, who)
    actor = actor[0] if isinstance(actor, list) else actor
    area = getattr(world, area).pk if area else None
    response = api_for(actor).post(URL, payload(world, area=area), format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}
    assert not Instruction.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"roles": []}, "roles"),
        ({"roles": ["admin"]}, "roles.0"),
        ({"title": ""}, "title"),
        ({"ack_due_at": "yesterday"}, "ack_due_at"),
        ({"ack_due_at": (NOW - timedelta(hours=1)).isoformat()}, "ack_due_at"),
        ({"area": 999999}, "area"),
        ({"roles": [Role.LAWYER]}, "roles"),  # nobody there holds it
    ],
)
def test_it_refuses_bad_input_with_400_and_saves_nothing(world, change, field):
    response = api_for(world.secretary).post(URL, payload(world, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Instruction.objects.exists() and not InstructionRecipient.objects.exists()


def test_it_lists_and_shows_followed_instructions_in_fixed_queries(
    world, django_assert_max_num_queries
):
    first = world.send()
    client = api_for(world.street)
    with django_assert_max_num_queries(6) as few:
        client.get(URL)
    for n in range(5):
        world.send(actor=world.street, area=world.s1, title=f"第{n}条")
    world.send(actor=world.secretary3, area=world.c3, title="第二街道的")
    services.instruction_ack(instruction=first, actor=world.double)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    results = response.json()["results"]
    assert len(results) == 6 and "第二街道的" not in [r["title"] for r in results]
    mine = next(r for r in results if r["id"] == first.pk)
    assert mine["progress"] == {"total": 4, "read": 1, "acked": 1, "waiting": 3}

    with django_assert_max_num_queries(6):
        detail = client.get(f"{URL}{first.pk}/")
    assert detail.status_code == 200
    branches = {b["area"]["id"]: b["progress"]["acked"] for b in detail.json()["branches"]}
    assert branches == {world.tree.grids[0].pk: 1, world.tree.grids[1].pk: 0}
    for outsider in (world.secretary3, world.workers[0], world.nobody):
        assert api_for(outsider).get(f"{URL}{first.pk}/").status_code == 404


def test_it_acknowledges_once_for_a_recipient_only(
    world, django_assert_max_num_queries, time_machine
):
    instruction = world.send()
    client = api_for(world.workers[0])
    with django_assert_max_num_queries(4):
        response = client.post(f"{URL}{instruction.pk}/ack/")
    assert response.status_code == 200
    first = response.json()
    assert first["status"] == "acked" and first["acked_at"] == first["read_at"]
    time_machine.shift(timedelta(minutes=5))
    again = client.post(f"{URL}{instruction.pk}/ack/").json()
    assert again["acked_at"] == first["acked_at"]
    for outsider in (world.secretary, world.micro_head, world.nobody):
        assert api_for(outsider).post(f"{URL}{instruction.pk}/ack/").status_code == 404
    assert api_for(world.workers[0]).post(f"{URL}999999/ack/").status_code == 404
    assert api_for(world.workers[0]).post(f"{URL}{2**63}/ack/").status_code == 404
    assert api_for(world.street).get(f"{URL}{2**63}/").status_code == 404
    assert InstructionRecipient.objects.filter(acked_at__isnull=False).count() == 1


def test_it_lists_what_was_sent_to_me(world, django_assert_max_num_queries):
    first = world.send()
    client = api_for(world.workers[1])
    with django_assert_max_num_queries(4) as few:
        client.get(f"{URL}received/")
    for n in range(4):
        world.send(title=f"第{n}条")
    services.instruction_ack(instruction=first, actor=world.workers[1])
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{URL}received/")
    results = response.json()["results"]
    assert [r["instruction"] for r in results][-1] == first.pk
    assert results[0]["status"] == "received"


def test_it_reminds_and_answers_409_when_everyone_acknowledged(
    world, django_assert_max_num_queries
):
    instruction = world.send()
    client = api_for(world.secretary)
    with django_assert_max_num_queries(12):
        response = client.post(f"{URL}{instruction.pk}/remind/")
    assert response.json() == {"reminded": 4}
    assert client.post(f"{URL}{instruction.pk}/remind/").json() == {"reminded": 0}
    for user in world.c1_workers:
        services.instruction_ack(instruction=instruction, actor=user)
    assert client.post(f"{URL}{instruction.pk}/remind/").status_code == 409
    assert api_for(world.secretary3).post(f"{URL}{instruction.pk}/remind/").status_code == 404
    assert OutboxMessage.objects.count() == 4


def test_it_lists_the_endpoints_in_the_schema(world, client):
    client.force_login(world.street)
    schema = client.get("/api/schema/").content.decode()
    for path in ("", "{id}/", "{id}/ack/", "{id}/remind/", "received/"):
        assert f"/api/v1/instructions/{path}:" in schema
