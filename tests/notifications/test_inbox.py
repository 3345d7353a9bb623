"""The inbox: the unread badge in the header, the messages page with htmx "mark read", and
the API. Notifications are written by `notifications.notify`, as the SLA engine does."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from disputes import services
from disputes.models import Category, Channel, HandlingLevel
from grids.models import Role, User
from notifications.models import Notification
from notifications.services import notify
from tests.factories import Tree, UserFactory, assign

pytestmark = pytest.mark.django_db


class World:
    def __init__(self):
        tree = Tree()
        parent = Category.objects.create(code="02", name="邻里纠纷")
        category = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.worker = UserFactory()
        assign(self.worker, Role.GRID_WORKER, tree.grids[0])
        self.secretary = UserFactory()
        assign(self.secretary, Role.COMMUNITY_SECRETARY, tree.communities[0])
        self.other = UserFactory()  # the outsider, with messages of their own
        assign(self.other, Role.GRID_WORKER, tree.grids[-1])
        self.case = services.case_file(
            actor=self.worker, area=tree.grids[0], category=category, cause="楼上漏水",
            address="民生路12号", channel=Channel.GRID_WORKER,
            parties=[{"side": "applicant", "name": "李秀英"}],
        )  # fmt: skip
        # Filing told the secretary (a hand-off, tested in test_handoffs.py); these tests
        # count the messages they send themselves.
        Notification.objects.all().delete()

    def send(self, user: User, n: int, time_machine=None, **extra) -> list[Notification]:
        sent = []
        for i in range(n):
            if time_machine is not None:
                time_machine.shift(timedelta(minutes=1))
            (pk,) = notify(
                users=[user], case=self.case, kind="sla_not_assigned",
                title=f"未按时分配：第{i + 1}条", body="请尽快分派", **extra,
            )  # fmt: skip
            sent.append(Notification.objects.get(pk=pk))
        return sent


@pytest.fixture
def world():
    return World()


@pytest.fixture
def clock(world, time_machine):
    """A stopped clock, moved on by hand (after the world's people took up their posts)."""
    time_machine.move_to(timezone.now() + timedelta(minutes=1), tick=False)
    return time_machine


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def titles(notifications) -> list[str]:
    return [n.title for n in notifications]


# --- the header badge ---------------------------------------------------------------------------


def test_it_shows_the_unread_count_in_the_header(client, world):
    first, *_rest = world.send(world.secretary, 3)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    world.send(world.other, 4)
    client.force_login(world.secretary)

    response = client.get(reverse("home"))

    assert response.context["unread_notifications"] == 2
    body = response.content.decode()
    assert 'data-testid="unread-count">2<' in body
    assert reverse("inbox:list") in body


def test_it_shows_no_badge_without_unread_messages(client, world):
    client.force_login(world.secretary)

    body = client.get(reverse("home")).content.decode()

    assert 'data-testid="inbox-link"' in body
    assert 'data-testid="unread-count"' not in body


def test_it_counts_unread_messages_with_one_query(client, world):
    world.send(world.secretary, 30)
    client.force_login(world.secretary)

    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("home"))

    inbox = [q["sql"] for q in captured if "disputes_notification" in q["sql"]]
    assert len(inbox) == 1 and "COUNT(" in inbox[0].upper()


def test_it_offers_the_inbox_in_the_navigation(client, world):
    client.force_login(world.worker)

    items = client.get(reverse("home")).context["nav_items"]

    assert reverse("inbox:list") in [item["url"] for item in items]


# --- the messages page ---------------------------------------------------------------------------


def test_it_lists_my_messages_newest_first_in_pages(client, world, clock):
    world.send(world.secretary, 25, clock)
    world.send(world.other, 2, clock)
    client.force_login(world.secretary)

    first = client.get(reverse("inbox:list"))
    second = client.get(reverse("inbox:list"), {"page": 2})

    assert titles(first.context["page"].object_list) == [
        f"未按时分配：第{i}条" for i in range(25, 5, -1)
    ]
    assert titles(second.context["page"].object_list) == [
        f"未按时分配：第{i}条" for i in range(5, 0, -1)
    ]
    body = first.content.decode()
    assert reverse("disputes:detail", args=[world.case.pk]) in body
    assert world.case.number in body


def test_it_filters_unread_messages(client, world):
    read, unread = world.send(world.secretary, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    client.force_login(world.secretary)

    response = client.get(reverse("inbox:list"), {"unread": "1"})

    assert [n.pk for n in response.context["page"].object_list] == [unread.pk]


def test_it_marks_one_message_read_in_place_and_updates_the_badge(client, world):
    first, second, third = world.send(world.secretary, 3)
    client.force_login(world.secretary)

    response = client.post(reverse("inbox:read", args=[second.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="list-group-item" id="notification-{second.pk}"')
    assert 'data-read="1"' in body
    assert 'id="inbox-link"' in body and 'hx-swap-oob="true"' in body
    assert 'data-testid="unread-count">2<' in body
    assert list(Notification.objects.filter(read_at__isnull=True).order_by("pk")) == [
        first, third]  # fmt: skip


def test_it_marks_one_message_read_without_javascript(client, world):
    (message,) = world.send(world.secretary, 1)
    client.force_login(world.secretary)

    response = client.post(reverse("inbox:read", args=[message.pk]))

    assert response.status_code == 302 and response.url == reverse("inbox:list")
    message.refresh_from_db()
    assert message.read_at is not None


def test_it_keeps_the_first_read_time(client, world, clock):
    (message,) = world.send(world.secretary, 1)
    client.force_login(world.secretary)
    client.post(reverse("inbox:read", args=[message.pk]))
    message.refresh_from_db()
    first_read = message.read_at
    clock.shift(timedelta(hours=1))

    client.post(reverse("inbox:read", args=[message.pk]), HTTP_HX_REQUEST="true")

    message.refresh_from_db()
    assert message.read_at == first_read


def test_it_refuses_to_mark_someone_elses_message(client, world):
    (theirs,) = world.send(world.other, 1)
    client.force_login(world.secretary)

    response = client.post(reverse("inbox:read", args=[theirs.pk]), HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_marks_all_my_messages_read(client, world):
    world.send(world.secretary, 3)
    world.send(world.other, 2)
    client.force_login(world.secretary)

    response = client.post(reverse("inbox:read_all"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=world.secretary, read_at=None).exists()
    assert Notification.objects.filter(recipient=world.other, read_at=None).count() == 2
    page = client.get(reverse("inbox:list"))
    assert 'data-testid="unread-count"' not in page.content.decode()


def test_it_changes_messages_only_by_post(client, world):
    (message,) = world.send(world.secretary, 1)
    client.force_login(world.secretary)

    assert client.get(reverse("inbox:read", args=[message.pk])).status_code == 405
    assert client.get(reverse("inbox:read_all")).status_code == 405
    message.refresh_from_db()
    assert message.read_at is None


def test_it_requires_a_login_for_the_inbox(client, world):
    response = client.get(reverse("inbox:list"))

    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_it_shows_an_empty_inbox(client, world):
    client.force_login(world.worker)

    body = client.get(reverse("inbox:list")).content.decode()

    assert 'data-testid="empty"' in body
    assert 'data-testid="read-all"' not in body


@pytest.mark.parametrize("count", [3, 30])
def test_it_renders_the_inbox_with_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries, count
):
    world.send(world.secretary, count)
    client.force_login(world.secretary)

    # session, user, scope (navigation), count, page of messages with their cases, unread,
    # the banner of instructions to acknowledge
    with django_assert_max_num_queries(7):
        assert client.get(reverse("inbox:list")).status_code == 200


# --- the API ---------------------------------------------------------------------------------


def test_it_lists_my_messages_in_the_api_newest_first(world, clock):
    world.send(world.secretary, 25, clock)
    world.send(world.other, 2, clock)
    api = api_for(world.secretary)

    body = api.get("/api/v1/notifications/").json()

    assert body["count"] == 25
    assert [n["title"] for n in body["results"]][:2] == ["未按时分配：第25条", "未按时分配：第24条"]
    first = body["results"][0]
    assert first["case"] == world.case.pk and first["case_number"] == world.case.number
    assert first["is_read"] is False and first["read_at"] is None
    assert api.get("/api/v1/notifications/", {"page": 2}).json()["results"][-1]["title"] == (
        "未按时分配：第1条"
    )


def test_it_lists_only_unread_messages_in_the_api_when_asked(world):
    read, unread = world.send(world.secretary, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

    body = api_for(world.secretary).get("/api/v1/notifications/", {"unread": "true"}).json()

    assert [n["id"] for n in body["results"]] == [unread.pk]


def test_it_marks_messages_read_in_the_api(world):
    first, *_others = world.send(world.secretary, 3)
    (theirs,) = world.send(world.other, 1)
    api = api_for(world.secretary)

    response = api.post(
        "/api/v1/notifications/mark-read/", {"ids": [first.pk, theirs.pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None  # someone else's message is left alone

    response = api.post("/api/v1/notifications/mark-read/", {"all": True}, format="json")
    assert response.json() == {"marked": 2, "unread": 0}


@pytest.mark.parametrize(
    "payload, field",
    [({}, "non_field_errors"), ({"ids": [1], "all": True}, "non_field_errors"),
     ({"ids": ["x"]}, "ids.0"), ({"ids": "1,2"}, "ids")],
)  # fmt: skip
def test_it_rejects_an_unclear_mark_read_request(world, payload, field):
    world.send(world.secretary, 2)

    response = api_for(world.secretary).post(
        "/api/v1/notifications/mark-read/", payload, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["errors"][field]
    assert Notification.objects.filter(read_at=None).count() == 2


def test_it_requires_authentication_for_the_inbox_api(world):
    response = APIClient().get("/api/v1/notifications/")

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize("count", [3, 30])
def test_it_lists_messages_in_the_api_with_a_fixed_number_of_queries(
    world, django_assert_max_num_queries, count
):
    world.send(world.secretary, count)
    api = api_for(world.secretary)

    with django_assert_max_num_queries(2):  # count, page of messages with their cases
        assert api.get("/api/v1/notifications/").status_code == 200


# --- the parts a live page fetches again (notifications/live.py, static/js/live.js) -------------


def test_it_serves_the_header_badge_alone(client, world, django_assert_max_num_queries):
    world.send(world.secretary, 3)
    world.send(world.other, 1)
    client.force_login(world.secretary)

    # session, user, the count
    with django_assert_max_num_queries(3):
        response = client.get(reverse("inbox:badge"), HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<a id="inbox-link"')
    assert 'data-testid="unread-count">3<' in body
    assert f'data-live-refresh="{reverse("inbox:badge")}" data-live-on="inbox"' in body


def test_it_lists_the_newest_unread_messages_for_the_home_page(
    client, world, clock, django_assert_max_num_queries
):
    sent = world.send(world.secretary, 7, clock)
    Notification.objects.filter(pk=sent[-1].pk).update(read_at=timezone.now())
    world.send(world.other, 2, clock)
    client.force_login(world.secretary)

    # session, user, the five newest unread with their case, the count
    with django_assert_max_num_queries(4):
        response = client.get(reverse("inbox:recent"))

    assert titles(response.context["recent"]) == [f"未按时分配：第{i}条" for i in range(6, 1, -1)]
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="recent-messages"')
    assert 'data-testid="all-unread"' in body  # six unread, five shown
    # Following one marks it read (static/js/app.js posts to the same URL as the button).
    assert f'data-mark-read="{reverse("inbox:read", args=[sent[5].pk])}"' in body
    assert world.case.number in body


def test_it_says_when_there_is_nothing_new(client, world):
    client.force_login(world.worker)

    body = client.get(reverse("inbox:recent")).content.decode()

    assert 'data-testid="no-new-messages"' in body


def test_it_loads_the_new_messages_on_the_home_page_and_keeps_them_live(client, world):
    client.force_login(world.secretary)

    body = client.get(reverse("home")).content.decode()

    assert f'hx-get="{reverse("inbox:recent")}" hx-trigger="load"' in body
    assert 'id="recent-messages"' in body and 'data-live-on="inbox"' in body


def test_it_marks_a_message_read_when_followed_only_while_unread(client, world):
    read, unread = world.send(world.secretary, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    client.force_login(world.secretary)

    body = client.get(reverse("inbox:list")).content.decode()

    assert f'data-mark-read="{reverse("inbox:read", args=[unread.pk])}"' in body
    assert f'data-mark-read="{reverse("inbox:read", args=[read.pk])}"' not in body


def test_it_serves_the_live_parts_to_signed_in_users_only(client, world):
    for name in ("inbox:badge", "inbox:recent"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response.url
        client.force_login(world.worker)
        assert client.post(reverse(name)).status_code == 405
        client.logout()
