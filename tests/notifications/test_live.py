"""Live pages: the socket at /ws/live/ (notifications/consumers.py) relays what services
publish after commit (notifications/live.py) to the groups a page's signed token lists.
Every test runs on the in-memory channel layer and again on Redis pub/sub (database 5, a
key prefix of its own), through the real ASGI application, real commits and real services.

Each test is one coroutine run by async_to_sync: the database work is done through
sync_to_async, which runs it back on the test's own thread (and connection)."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core import signing
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from disputes import services
from disputes.ledger import append_event
from disputes.models import Case, CaseEvent, Category, Channel, HandlingLevel
from disputes.sweep import sla_sweep_step
from grid_governance.asgi import application
from grids.models import Role
from notifications import live
from notifications.models import Notification
from notifications.services import mark_read, notify
from tests.conftest import service_missing
from tests.factories import Tree, UserFactory, assign

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("LIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture(params=["memory", "redis"])
def layer(request, settings):
    """The channel layer the product uses without Redis, then the one it uses with it."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        yield request.param
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_missing(f"Redis at {REDIS_URL} is not reachable: {exc}")
    prefix = f"test-live-{uuid.uuid4().hex}:"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels are not per database: a prefix of this run's own.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }
    yield request.param
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


class World:
    """A community with its secretary, a mediator, an outsider in another street, a case."""

    def __init__(self):
        self.tree = Tree()
        parent = Category.objects.create(code="02", name="邻里纠纷")
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=parent,
            default_handling_level=HandlingLevel.COMMUNITY,
        )  # fmt: skip
        self.worker = UserFactory()
        assign(self.worker, Role.GRID_WORKER, self.tree.grids[0])
        self.secretary = UserFactory()
        assign(self.secretary, Role.COMMUNITY_SECRETARY, self.tree.communities[0])
        self.mediator = UserFactory()
        assign(self.mediator, Role.MEDIATOR, self.tree.communities[0])
        self.outsider = UserFactory()
        assign(self.outsider, Role.GRID_WORKER, self.tree.grids[-1])
        self.case = self.file()

    def file(self, area=None) -> Case:
        return services.case_file(
            actor=self.worker, area=area or self.tree.micro_grids[0], category=self.category,
            cause="楼上漏水", address="民生路12号", channel=Channel.GRID_WORKER,
            parties=[{"side": "applicant", "name": "李秀英"}],
        )  # fmt: skip


@pytest.fixture
def world():
    return World()


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def socket(query: str = "", session: str | None = None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if session:
        headers.append((b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session}".encode()))
    return WebsocketCommunicator(application, f"/ws/live/?{query}", headers=headers)


async def follow(user, groups=()) -> WebsocketCommunicator:
    """A page of this user's, connected and greeted, following its user group and `groups`."""
    session = await sync_to_async(session_of)(user)
    token = live.sign(user, groups)
    communicator = socket(urlencode({"token": token}), session)
    connected, _code = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from(timeout=2)
    assert hello["type"] == "hello"
    return communicator


def run(scenario):
    async_to_sync(scenario)()


async def received(communicator) -> dict:
    return await communicator.receive_json_from(timeout=2)


# --- who may connect ---------------------------------------------------------------------


def test_it_refuses_an_anonymous_socket(layer, world):
    token = live.sign(world.mediator)

    async def scenario():
        communicator = socket(urlencode({"token": token}))
        connected, _code = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    run(scenario)


def test_it_refuses_a_tampered_token_and_one_made_for_someone_else(layer, world):
    good = live.sign(world.outsider, [live.case_group(world.case.pk)])
    payload, _sep, signature = good.rpartition(":")
    forged = signing.dumps(
        {"u": world.outsider.pk, "g": [live.case_group(world.case.pk)]}, salt="another"
    )
    theirs = live.sign(world.mediator, [live.case_group(world.case.pk)])

    async def scenario():
        session = await sync_to_async(session_of)(world.outsider)
        for token in ("", "nonsense", f"{payload}x:{signature}", forged, theirs):
            communicator = socket(urlencode({"token": token}), session)
            connected, _code = await communicator.connect()
            assert not connected, token
            await communicator.disconnect()

    run(scenario)


def test_it_refuses_a_socket_from_another_site(layer, world):
    token = live.sign(world.mediator)

    async def scenario():
        session = await sync_to_async(session_of)(world.mediator)
        for origin in ((b"origin", b"http://evil.example"), None):
            communicator = socket(urlencode({"token": token}), session, origin=origin)
            connected, _code = await communicator.connect()
            assert not connected
            await communicator.disconnect()

    run(scenario)


def test_it_refuses_a_token_older_than_a_login_lasts(world, settings, time_machine):
    settings.SESSION_COOKIE_AGE = 3600
    token = live.sign(world.mediator)
    time_machine.move_to(timezone.now() + timedelta(hours=2))

    assert live.groups_from_token(token, user_id=world.mediator.pk) is None


def test_it_refuses_a_token_naming_what_is_not_a_group(world):
    names = [["user-1", "cases-everything"], [f"user-{i}" for i in range(20)], []]
    for groups in names:
        token = signing.dumps({"u": world.mediator.pk, "g": groups}, salt=live.TOKEN_SALT)
        assert live.groups_from_token(token, user_id=world.mediator.pk) is None


# --- what reaches a page ---------------------------------------------------------------------


def test_it_tells_the_user_of_a_new_message_and_nobody_else(layer, world):
    async def scenario():
        mediator = await follow(world.mediator)
        outsider = await follow(world.outsider)

        await sync_to_async(notify)(
            users=[world.mediator], case=world.case, kind="test", title="请处理"
        )

        event = await received(mediator)
        assert event["type"] == "inbox" and event["at"] > 0
        assert await outsider.receive_nothing(timeout=0.3)
        await mediator.disconnect()
        await outsider.disconnect()

    run(scenario)


def test_it_tells_the_other_tabs_when_messages_are_read(layer, world):
    def send_and_read():
        notify(users=[world.mediator], case=world.case, kind="test", title="请处理")
        return mark_read(user=world.mediator)

    async def scenario():
        mediator = await follow(world.mediator)
        assert await sync_to_async(send_and_read)() == 1
        assert (await received(mediator))["type"] == "inbox"
        assert (await received(mediator))["type"] == "inbox"
        # Nothing left unread: reading again tells nobody.
        assert await sync_to_async(mark_read)(user=world.mediator) == 0
        assert await mediator.receive_nothing(timeout=0.3)
        await mediator.disconnect()

    run(scenario)


def test_it_publishes_only_when_the_transaction_commits(layer, world):
    async def scenario():
        mediator = await follow(world.mediator)
        inside = await sync_to_async(transaction.atomic)()

        def write():
            inside.__enter__()
            notify(users=[world.mediator], case=world.case, kind="test", title="请处理")

        await sync_to_async(write)()
        assert await mediator.receive_nothing(timeout=0.3)  # written, not committed
        await sync_to_async(inside.__exit__)(None, None, None)
        assert (await received(mediator))["type"] == "inbox"
        await mediator.disconnect()

    run(scenario)


def test_it_publishes_nothing_when_the_transaction_rolls_back(layer, world):
    class Undo(Exception):
        pass

    def write_then_fail():
        with pytest.raises(Undo), transaction.atomic():
            notify(users=[world.mediator], case=world.case, kind="test", title="请处理")
            append_event(world.case, kind=CaseEvent.Kind.PROGRESS, actor=world.secretary)
            raise Undo

    async def scenario():
        mediator = await follow(world.mediator, [live.case_group(world.case.pk)])
        await sync_to_async(write_then_fail)()
        assert await mediator.receive_nothing(timeout=0.3)
        await mediator.disconnect()

    run(scenario)
    assert not Notification.objects.filter(kind="test").exists()


def test_a_timeline_entry_reaches_the_case_page_and_every_dashboard_above_it(layer, world):
    tree, case = world.tree, world.case
    above = [tree.micro_grids[0], tree.grids[0], tree.communities[0], tree.streets[0]]

    async def scenario():
        case_page = await follow(world.secretary, [live.case_group(case.pk)])
        dashboards = [
            await follow(world.secretary, [live.area_group(a.pk)]) for a in [*above, tree.district]
        ]
        whole = await follow(world.secretary, [live.area_group(None)])
        elsewhere = await follow(world.secretary, [live.area_group(tree.streets[1].pk)])
        other_case = await follow(world.secretary, [live.case_group(case.pk + 1000)])

        await sync_to_async(services.case_assign)(
            case=case, actor=world.secretary, mediator=world.mediator
        )

        for page in [case_page, *dashboards, whole]:
            event = await received(page)
            assert event["type"] == "case" and event["ids"] == [case.pk]
        for page in (elsewhere, other_case):
            assert await page.receive_nothing(timeout=0.3)
        for page in [case_page, *dashboards, whole, elsewhere, other_case]:
            await page.disconnect()

    run(scenario)


def test_a_transaction_publishes_once_per_group(layer, world):
    second = world.file(area=world.tree.micro_grids[1])

    def several_changes():
        with transaction.atomic():
            services.case_accept(case=world.case, actor=world.secretary)
            services.case_assign(case=world.case, actor=world.secretary, mediator=world.mediator)
            services.case_accept(case=second, actor=world.secretary)
            notify(users=[world.mediator], case=None, kind="test", title="一")
            notify(users=[world.mediator], case=None, kind="test", title="二")

    async def scenario():
        case_page = await follow(world.secretary, [live.case_group(world.case.pk)])
        community = await follow(world.secretary, [live.area_group(world.tree.communities[0].pk)])
        mediator = await follow(world.mediator)

        await sync_to_async(several_changes)()

        assert (await received(case_page))["ids"] == [world.case.pk]
        assert sorted((await received(community))["ids"]) == sorted([world.case.pk, second.pk])
        # The assignment's own notice and the two notices: one inbox event.
        assert (await received(mediator))["type"] == "inbox"
        for page in (case_page, community, mediator):
            assert await page.receive_nothing(timeout=0.3)
            await page.disconnect()

    run(scenario)


def test_a_transaction_about_very_many_cases_says_many_rather_than_listing_them(layer, world):
    group = live.area_group(world.tree.district.pk)

    def many():
        with transaction.atomic():
            for pk in range(1, live.MAX_IDS + 11):
                live.publish([group], {"type": "case", "id": pk})

    def few():
        with transaction.atomic():
            for pk in (3, 1, 3, 2):
                live.publish([group], {"type": "case", "id": pk})

    async def scenario():
        district = await follow(world.secretary, [group])
        await sync_to_async(many)()
        event = await received(district)
        assert event["type"] == "case" and event["ids"] == []  # many: refresh what follows
        await sync_to_async(few)()
        assert (await received(district))["ids"] == [3, 1, 2]
        await district.disconnect()

    run(scenario)


def test_a_breach_recorded_by_the_sweep_reaches_the_case_page(layer, world):
    later = timezone.now() + timedelta(days=10)  # not assigned in time

    async def scenario():
        case_page = await follow(world.secretary, [live.case_group(world.case.pk)])
        district = await follow(world.secretary, [live.area_group(world.tree.district.pk)])

        result = await sync_to_async(sla_sweep_step)(now=later)

        assert result.breaches >= 1
        assert (await received(case_page))["ids"] == [world.case.pk]
        assert (await received(district))["ids"] == [world.case.pk]
        await case_page.disconnect()
        await district.disconnect()

    run(scenario)
    assert CaseEvent.objects.filter(case=world.case, kind=CaseEvent.Kind.SLA_BREACH).exists()


def test_the_greeting_says_when_the_groups_last_had_news(layer, world):
    async def scenario():
        first = await follow(world.mediator)
        await sync_to_async(notify)(users=[world.mediator], case=None, kind="test", title="一")
        event = await received(first)

        session = await sync_to_async(session_of)(world.mediator)
        later = socket(urlencode({"token": live.sign(world.mediator)}), session)
        assert (await later.connect())[0]
        hello = await later.receive_json_from(timeout=2)
        assert hello["type"] == "hello" and hello["last"] == event["at"] < hello["at"]
        await first.disconnect()
        await later.disconnect()

    run(scenario)


# --- the pages' side ---------------------------------------------------------------------


def token_on(body: str) -> str:
    return body.split('data-live-token="', 1)[1].split('"', 1)[0]


def test_the_case_page_may_follow_its_case_and_the_dashboard_its_area(world, client):
    client.force_login(world.secretary)
    user_group = live.user_group(world.secretary.pk)

    case_page = client.get(reverse("disputes:detail", args=[world.case.pk])).content.decode()
    dashboard = client.get(reverse("dashboard:index")).content.decode()
    inbox = client.get(reverse("inbox:list")).content.decode()

    groups = lambda body: live.groups_from_token(token_on(body), user_id=world.secretary.pk)  # noqa: E731
    assert groups(case_page) == [user_group, live.case_group(world.case.pk)]
    assert groups(dashboard) == [user_group, live.area_group(world.tree.communities[0].pk)]
    assert groups(inbox) == [user_group]
    assert f'data-live-on="case:{world.case.pk}"' in case_page
    assert 'data-live-url="/ws/live/"' in inbox


def test_a_page_outside_the_scope_gives_no_token_for_it(world, client):
    client.force_login(world.outsider)

    response = client.get(reverse("disputes:detail", args=[world.case.pk]))

    assert response.status_code == 404
    body = response.content.decode()
    if "data-live-token" in body:
        groups = live.groups_from_token(token_on(body), user_id=world.outsider.pk)
        assert groups == [live.user_group(world.outsider.pk)]


def test_anonymous_pages_carry_no_token(client):
    body = client.get(reverse("login")).content.decode()

    assert "data-live-token" not in body


def test_the_socket_address_may_be_another_server_and_is_then_allowed_to_connect():
    """LIVE_URL with a host (an ASGI server on its own port): the policy lets pages reach it."""
    env = {
        **os.environ, "LIVE_URL": "wss://live.example.org/ws/live/", "SECRET_KEY": "t",
        "DJANGO_SETTINGS_MODULE": "grid_governance.settings",
    }  # fmt: skip
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=django_settings.BASE_DIR,
    ).stdout  # fmt: skip
    assert "wss://live.example.org" in out and "'self'" in out


def test_many_cases_published_at_once_reach_each_page_outside_a_transaction(layer, world):
    second = world.file(area=world.tree.micro_grids[1])
    community = world.tree.communities[0].pk

    async def scenario():
        page = await follow(world.secretary, [live.area_group(community)])
        first_case = await follow(world.secretary, [live.case_group(world.case.pk)])
        await sync_to_async(live.publish_many)(
            [
                ([live.area_group(community), live.case_group(c.pk)], {"type": "case", "id": c.pk})
                for c in (world.case, second)
            ]
        )
        # Sent at once (no transaction), as one message per group with every id.
        assert sorted((await received(page))["ids"]) == sorted([world.case.pk, second.pk])
        assert (await received(first_case))["ids"] == [world.case.pk]
        for each in (page, first_case):
            assert await each.receive_nothing(timeout=0.3)
            await each.disconnect()

    run(scenario)
