"""The pages: send (scoped picker, errors, nothing saved), the sent list with progress, the
progress page and its polled partial, reminders, the recipients' list, one instruction and
已签收 in place, and the banner on every page. Every page in a fixed number of queries."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grids.models import Role
from instructions import services
from instructions.models import Instruction, InstructionRecipient, RecipientStatus
from notifications.models import Notification, OutboxMessage
from tests.factories import UserFactory, assign

from .conftest import NOW, SH, STARTED

HTMX = {"HTTP_HX_REQUEST": "true"}


def send_data(world, **change):
    return {
        "area": world.c1.pk,
        "roles": [Role.GRID_WORKER],
        "title": "今晚防汛值守",
        "body": "请到岗",
        "ack_due_at": "2026-11-25T18:00",
    } | change


# --- sending -------------------------------------------------------------------------------


def test_it_offers_only_the_senders_areas_and_sends(client, world, django_assert_max_num_queries):
    client.force_login(world.street)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("instructions:send"))
    assert response.status_code == 200
    offered = {pk for pk, _label in response.context["form"].fields["area"].choices}
    assert offered == {world.s1.pk, world.c1.pk, world.c2.pk, *(g.pk for g in world.tree.grids[:4])}
    assert "全部区域" not in response.content.decode()

    # session, user, scope, the area, the children, the instruction, its recipients, the
    # count saved, the event, two timers (and savepoints): however many recipients there are
    with django_assert_max_num_queries(16):
        response = client.post(reverse("instructions:send"), send_data(world))
    instruction = Instruction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("instructions:detail", args=[instruction.pk])
    assert instruction.recipient_count == 4
    assert instruction.ack_due_at == datetime(2026, 11, 25, 18, 0, tzinfo=SH)


def test_it_refuses_an_area_outside_the_senders_scope_and_saves_nothing(client, world):
    client.force_login(world.secretary)
    response = client.post(reverse("instructions:send"), send_data(world, area=world.c3.pk))
    assert response.status_code == 400
    assert response.context["form"].errors["area"]
    assert not Instruction.objects.exists() and not Notification.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"roles": []}, "roles"),
        ({"title": ""}, "title"),
        ({"ack_due_at": "2026-11-25T09:00"}, "ack_due_at"),
        ({"ack_due_at": "明天"}, "ack_due_at"),
        ({"roles": [Role.LAWYER]}, "roles"),  # nobody there holds it
    ],
)
def test_it_shows_bad_input_beside_the_field_and_saves_nothing(client, world, change, field):
    client.force_login(world.secretary)
    response = client.post(reverse("instructions:send"), send_data(world, **change))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Instruction.objects.exists() and not InstructionRecipient.objects.exists()


@pytest.mark.parametrize("who", ["workers", "mediator", "nobody"])
def test_it_forbids_the_send_page_to_those_who_send_nothing(client, world, who):
    actor = getattr(world, who)
    client.force_login(actor[0] if isinstance(actor, list) else actor)
    assert client.get(reverse("instructions:send")).status_code == 403
    assert client.post(reverse("instructions:send"), send_data(world)).status_code == 403
    assert not Instruction.objects.exists()


def test_it_lets_an_administrator_send_to_every_area(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("instructions:send"))
    assert "全部区域" in response.content.decode()
    response = client.post(reverse("instructions:send"), send_data(world, area=""))
    assert response.status_code == 302
    assert Instruction.objects.get().area is None


# --- following -----------------------------------------------------------------------------


def test_it_lists_followed_instructions_with_progress_in_fixed_queries(
    client, world, django_assert_max_num_queries
):
    first = world.send()
    client.force_login(world.street)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("instructions:list"))
    for n in range(6):
        world.send(title=f"第{n}条", actor=world.street, area=world.s1)
    services.instruction_ack(instruction=first, actor=world.workers[0])
    world.send(actor=world.secretary3, area=world.c3, title="第二街道的")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("instructions:list"))
    rows = dict(response.context["rows"])
    assert len(rows) == 7  # its own six and the secretary's to C1; not C3's
    assert (rows[first].acked, rows[first].total) == (1, 4)
    assert "第二街道的" not in response.content.decode()
    # The secretary follows their own; the grid worker none.
    client.force_login(world.secretary)
    assert len(client.get(reverse("instructions:list")).context["rows"]) == 1
    client.force_login(world.workers[0])
    assert client.get(reverse("instructions:list")).context["rows"] == []


def test_it_shows_progress_per_child_area_and_who_has_not_acknowledged(
    client, world, django_assert_max_num_queries
):
    instruction = world.send(actor=world.street, area=world.s1,
                             roles=[Role.GRID_WORKER, Role.COMMUNITY_SECRETARY])  # fmt: skip
    client.force_login(world.street)
    url = reverse("instructions:detail", args=[instruction.pk])
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for user in (world.workers[0], world.secretary, world.workers[2]):
        services.instruction_ack(instruction=instruction, actor=user)
    services.instruction_open(instruction=instruction, actor=world.workers[3])
    services.instruction_remind(instruction=instruction, actor=world.street)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    report = response.context["report"]
    assert (report.overall.total, report.overall.read, report.overall.acked) == (7, 4, 3)
    rows = {row.area: row.progress for row in report.rows}
    assert (rows[world.c1].total, rows[world.c1].acked) == (5, 2)
    assert (rows[world.c2].total, rows[world.c2].read, rows[world.c2].acked) == (2, 2, 1)
    laggards = {r.user for r in response.context["page"]}
    assert laggards == {world.workers[1], world.micro_worker, world.double, world.workers[3]}
    body = response.content.decode()
    assert 'hx-trigger="every 5s"' in body
    assert world.micro_worker.real_name in body

    narrowed = client.get(url, {"branch": world.c2.pk})
    assert {r.user for r in narrowed.context["page"]} == {world.workers[3]}
    for nonsense in ("²", "-1", "x", str(2**63)):
        assert len(client.get(url, {"branch": nonsense}).context["page"].object_list) == 4


def test_it_pages_the_people_who_have_not_acknowledged(client, world):
    for n in range(25):
        staff = UserFactory(real_name=f"新网格员{n:02d}")
        assign(staff, Role.GRID_WORKER, world.tree.grids[n % 2], started_at=STARTED)
    instruction = world.send()
    client.force_login(world.secretary)
    url = reverse("instructions:detail", args=[instruction.pk])
    first = client.get(url)
    second = client.get(url, {"page": 2})
    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 9


def test_it_serves_the_polled_counts_alone_and_stops_polling_when_all_acknowledged(
    client, world, django_assert_max_num_queries
):
    instruction = world.send()
    client.force_login(world.secretary)
    url = reverse("instructions:progress", args=[instruction.pk])
    with django_assert_max_num_queries(6):
        response = client.get(url, **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith("<section") or "<section" in body
    assert "<html" not in body and 'data-testid="acked-count">0/4<' in body
    assert 'hx-trigger="every 5s"' in body and "?seen=4-0-0" in body
    seen = client.get(url, {"seen": "4-0-0"}, **HTMX)
    assert "HX-Trigger" not in seen  # nothing moved since the page looked
    services.instruction_open(instruction=instruction, actor=world.double)
    moved = client.get(url, {"seen": "4-0-0"}, **HTMX)
    assert moved["HX-Trigger"] == "instruction-progress-changed"
    assert "?seen=4-1-0" in moved.content.decode()
    for user in world.c1_workers:
        services.instruction_ack(instruction=instruction, actor=user)
    body = client.get(url, **HTMX).content.decode()
    assert 'data-testid="acked-count">4/4<' in body
    assert "hx-trigger" not in body


@pytest.mark.parametrize("who", ["secretary3", "workers", "nobody"])
def test_it_hides_an_instruction_from_those_who_may_not_follow_it(client, world, who):
    instruction = world.send()
    actor = getattr(world, who)
    client.force_login(actor[0] if isinstance(actor, list) else actor)
    for name in ("detail", "progress"):
        assert client.get(reverse(f"instructions:{name}", args=[instruction.pk])).status_code == 404
    response = client.post(reverse("instructions:remind", args=[instruction.pk]), **HTMX)
    assert response.status_code == 404
    assert not OutboxMessage.objects.exists()


def test_it_reminds_in_place_and_says_when_nobody_is_due(
    client, world, django_assert_max_num_queries
):
    instruction = world.send()
    client.force_login(world.secretary)
    url = reverse("instructions:remind", args=[instruction.pk])
    with django_assert_max_num_queries(12):
        response = client.post(url, **HTMX)
    assert response.status_code == 200
    assert "4" in response.content.decode()
    assert OutboxMessage.objects.filter(channel="sms").count() == 4
    again = client.post(url, **HTMX)
    assert again.status_code == 200 and "alert-info" in again.content.decode()
    assert OutboxMessage.objects.count() == 4
    for user in world.c1_workers:
        services.instruction_ack(instruction=instruction, actor=user)
    done = client.post(url, **HTMX)
    assert done.status_code == 409
    # Without JavaScript: back to the page with a message.
    plain = client.post(url)
    assert plain.status_code == 302


# --- recipients ----------------------------------------------------------------------------


def test_it_lists_what_was_sent_to_me_unacknowledged_first(
    client, world, django_assert_max_num_queries
):
    worker = world.workers[0]
    client.force_login(worker)
    sent = [world.send(title="第0条")]
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("instructions:received"))
    sent += [world.send(title=f"第{n}条") for n in range(1, 5)]
    services.instruction_ack(instruction=sent[-1], actor=worker)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("instructions:received"))
    order = [r.instruction for r in response.context["page"]]
    assert order == [*reversed(sent[:-1]), sent[-1]]


def test_it_marks_read_on_opening_and_acknowledges_in_place(
    client, world, django_assert_max_num_queries, time_machine
):
    instruction = world.send()
    worker = world.workers[0]
    client.force_login(worker)
    url = reverse("instructions:view", args=[instruction.pk])
    with django_assert_max_num_queries(7):
        response = client.get(url)
    assert response.status_code == 200
    assert "请各网格员今晚20:00前到岗" in response.content.decode()
    row = InstructionRecipient.objects.get(instruction=instruction, user=worker)
    assert (row.status, row.read_at) == (RecipientStatus.READ, NOW)

    time_machine.shift(timedelta(minutes=3))
    ack = reverse("instructions:ack", args=[instruction.pk])
    with django_assert_max_num_queries(5):  # and the banner, refreshed
        response = client.post(ack, **HTMX)
    body = response.content.decode()
    assert 'id="ack-panel"' in body and 'data-testid="acked"' in body
    # Nothing else waits: the banner goes, out of band.
    assert '<div id="instruction-banner" hx-swap-oob="delete">' in body
    other = world.send(title="另一条")
    response = client.post(
        reverse("instructions:ack", args=[instruction.pk]),
        HTTP_HX_CURRENT_URL=f"http://testserver{url}",
        **HTMX,
    )
    body = response.content.decode()
    assert 'id="instruction-banner"' in body and 'hx-swap-oob="true"' in body
    assert other.title in body and f'name="next" value="{url}"' in body
    row.refresh_from_db()
    assert row.acked_at == NOW + timedelta(minutes=3)
    # Again (a double tap): the same answer, the first time kept.
    time_machine.shift(timedelta(minutes=3))
    client.post(ack, **HTMX)
    row.refresh_from_db()
    assert row.acked_at == NOW + timedelta(minutes=3)


def test_it_acknowledges_from_the_banner_and_without_javascript(client, world):
    instruction = world.send()
    client.force_login(world.workers[1])
    ack = reverse("instructions:ack", args=[instruction.pk])
    response = client.post(ack, {"from": "banner"}, **HTMX)
    assert 'data-testid="banner-acked"' in response.content.decode()
    other = world.send(title="第二条")
    response = client.post(reverse("instructions:ack", args=[other.pk]), {"next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    evil = client.post(
        reverse("instructions:ack", args=[other.pk]), {"next": "https://evil.example/"}
    )
    assert evil["Location"] == reverse("instructions:view", args=[other.pk])
    acked = InstructionRecipient.objects.filter(user=world.workers[1], acked_at__isnull=False)
    assert acked.count() == 2


@pytest.mark.parametrize("who", ["secretary", "micro_head", "nobody", "secretary3"])
def test_it_hides_an_instruction_from_those_it_was_not_sent_to(client, world, who):
    instruction = world.send()
    client.force_login(getattr(world, who))
    assert client.get(reverse("instructions:view", args=[instruction.pk])).status_code == 404
    ack = client.post(reverse("instructions:ack", args=[instruction.pk]), **HTMX)
    assert ack.status_code == 404
    assert not InstructionRecipient.objects.filter(read_at__isnull=False).exists()


def test_it_refuses_to_acknowledge_by_get(client, world):
    instruction = world.send()
    client.force_login(world.workers[0])
    assert client.get(reverse("instructions:ack", args=[instruction.pk])).status_code == 405
    assert not InstructionRecipient.objects.filter(acked_at__isnull=False).exists()


# --- the banner ----------------------------------------------------------------------------


def test_it_shows_the_banner_on_an_ordinary_page_for_one_more_query(
    client, world, django_assert_num_queries
):
    worker = world.workers[0]
    client.force_login(worker)
    with CaptureQueriesContext(connection) as quiet:
        response = client.get(reverse("home"))
    assert 'data-testid="instruction-banner"' not in response.content.decode()
    banner_queries = [q["sql"] for q in quiet.captured_queries if "instructions_" in q["sql"]]
    assert len(banner_queries) == 1

    sent = [world.send(title=f"第{n}条") for n in range(5)]
    services.instruction_ack(instruction=sent[0], actor=worker)
    with django_assert_num_queries(len(quiet.captured_queries)):
        response = client.get(reverse("home"))
    body = response.content.decode()
    assert body.count('data-testid="banner-instruction"') == 3
    assert "第4条" in body and "第3条" in body and "第2条" in body and "第1条" not in body
    assert reverse("instructions:received") in body  # "more"


def test_it_shows_no_banner_to_whom_nothing_is_waiting(client, world):
    world.send()
    client.force_login(world.secretary)
    assert 'data-testid="instruction-banner"' not in client.get(reverse("home")).content.decode()
