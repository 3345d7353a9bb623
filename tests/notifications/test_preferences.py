"""Notification settings: per group of notices, in-app only, + SMS, + email. The outbox
consults them when it writes the email/SMS rows (the same statement, for every recipient of
a batch at once); a user who has set nothing gets what everyone got before.

Scenario: a secretary with a phone and an email address chooses; an outsider tries to read
or change the secretary's settings."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from grids.models import User
from notifications.groups import Group, group_of
from notifications.models import NotificationPreference, OutboxMessage
from notifications.services import Message, notify, notify_many, preferences_save
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/notifications/settings/"
API = "/api/v1/notifications/preferences/"


@pytest.fixture(autouse=True)
def _daytime(settings):
    settings.NOTIFY_QUIET_HOURS = (0, 0)  # no quiet hours: rows are due at once


@pytest.fixture
def secretary():
    return UserFactory(phone="13800001111", email="mishu@example.cn")


@pytest.fixture
def outsider():
    return UserFactory(phone="13900002222", email="other@example.cn")


def channels(user: User, kind: str) -> set[str]:
    """The outbox rows one notice of `kind` to `user` makes."""
    (pk,) = notify(users=[user], case=None, kind=kind, title="标题")
    return set(OutboxMessage.objects.filter(notification_id=pk).values_list("channel", flat=True))


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the groups ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "group"),
    [
        ("case_filed", Group.NEW_WORK),
        ("case_assigned", Group.NEW_WORK),
        ("resident_report", Group.NEW_WORK),
        ("dispatched", Group.NEW_WORK),
        ("case_accepted", Group.HANDOFFS),
        ("case_closed", Group.HANDOFFS),
        ("case_dept_signed", Group.HANDOFFS),
        ("sla_not_assigned", Group.DEADLINES),
        ("sla_warn_not_handled", Group.DEADLINES),
        ("sla_not_signed_for", Group.DEADLINES),
        ("escalated", Group.ESCALATIONS),
        ("extension_requested", Group.ESCALATIONS),
        ("supervision_reply_due", Group.ESCALATIONS),
        ("instruction_issued", Group.INSTRUCTIONS),
        ("something_new", Group.SYSTEM),
    ],
)
def test_it_puts_each_kind_of_notice_in_one_group(kind, group):
    assert group_of(kind) == group


# --- the outbox consults them ------------------------------------------------------------------


def test_it_keeps_todays_behaviour_when_nothing_is_set(secretary):
    for kind in ("case_filed", "case_accepted", "sla_not_assigned", "escalated", "other"):
        assert channels(secretary, kind) == {"email", "sms"}
    assert not NotificationPreference.objects.exists()


def test_it_sends_no_sms_for_a_group_turned_off_and_still_for_the_others(secretary):
    preferences_save(user=secretary, actor=secretary, choices={"deadlines": {"sms": False}})
    assert channels(secretary, "sla_not_assigned") == {"email"}
    assert channels(secretary, "sla_past_close") == {"email"}
    assert channels(secretary, "case_filed") == {"email", "sms"}


def test_it_sends_no_email_for_a_group_turned_off(secretary):
    preferences_save(user=secretary, actor=secretary, choices={"new_work": {"email": False}})
    assert channels(secretary, "case_filed") == {"sms"}
    assert channels(secretary, "case_accepted") == {"email", "sms"}


def test_it_keeps_in_app_only_and_still_writes_the_inbox(secretary):
    preferences_save(
        user=secretary, actor=secretary, choices={"handoffs": {"sms": False, "email": False}}
    )
    (pk,) = notify(users=[secretary], case=None, kind="case_closed", title="已结案")
    assert secretary.notifications.filter(pk=pk).exists()
    assert not OutboxMessage.objects.filter(notification_id=pk).exists()


def test_it_applies_each_recipients_own_choice_in_one_batch(secretary, outsider):
    preferences_save(user=outsider, actor=outsider, choices={"deadlines": {"sms": False}})
    notify_many(
        [
            Message(users=[secretary, outsider], case=None, kind="sla_not_handled", title="a"),
            Message(users=[secretary, outsider], case=None, kind="case_filed", title="b"),
        ]
    )
    rows = set(
        OutboxMessage.objects.values_list(
            "notification__recipient", "notification__kind", "channel"
        )
    )
    assert rows == {
        (secretary.pk, "sla_not_handled", "email"),
        (secretary.pk, "sla_not_handled", "sms"),
        (secretary.pk, "case_filed", "email"),
        (secretary.pk, "case_filed", "sms"),
        (outsider.pk, "sla_not_handled", "email"),
        (outsider.pk, "case_filed", "email"),
        (outsider.pk, "case_filed", "sms"),
    }


def test_it_turns_a_channel_back_on(secretary):
    preferences_save(user=secretary, actor=secretary, choices={"deadlines": {"sms": False}})
    preferences_save(user=secretary, actor=secretary, choices={"deadlines": {"sms": True}})
    assert channels(secretary, "sla_not_assigned") == {"email", "sms"}


def _many_users(n: int) -> list[User]:
    users = User.objects.bulk_create(
        [User(username=f"many{i}", phone=f"138{i:08d}", email=f"m{i}@example.cn") for i in range(n)]
    )
    # Every other one wants no SMS for deadlines, every third one no email for new work.
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=u, group="deadlines", sms=False) for u in users[::2]]
        + [NotificationPreference(user=u, group="new_work", email=False) for u in users[::3]]
    )
    return users


def _queries_of_notify_many(users) -> int:
    """Queries for one batch to all `users` (a breach and a new case); its rows are kept."""
    messages = [
        Message(users=users, case=None, kind="sla_not_assigned", title="超时"),
        Message(users=users, case=None, kind="case_filed", title="新案件"),
    ]
    with CaptureQueriesContext(connection) as ctx:
        notify_many(messages)
    return len(ctx.captured_queries)


def test_it_reads_the_preferences_of_a_thousand_recipients_in_a_constant_number_of_queries():
    users = _many_users(1000)
    with_preferences = _queries_of_notify_many(users)
    if connection.vendor == "postgresql":
        # The inbox rows, the preferences and the outbox rows: one statement, however many.
        assert with_preferences == _queries_of_notify_many(users[:3]) == 1
    else:
        # SQLite: the inbox rows in batches of its parameter limit, then per channel one
        # INSERT … SELECT per chunk of ids; the preferences are joined, never looked up.
        assert with_preferences <= 2000 * 7 // 999 + 1 + 2 * 3
    outbox = list(OutboxMessage.objects.values_list("notification_id", "channel"))
    saved = list(NotificationPreference.objects.all())
    NotificationPreference.objects.all().delete()
    assert _queries_of_notify_many(users) == with_preferences  # the same with none set
    NotificationPreference.objects.bulk_create(saved)
    OutboxMessage.objects.exclude(notification_id__in={pk for pk, _c in outbox}).delete()
    sms = set(OutboxMessage.objects.filter(channel="sms").values_list(
        "notification__recipient", "notification__kind"))  # fmt: skip
    email = set(OutboxMessage.objects.filter(channel="email").values_list(
        "notification__recipient", "notification__kind"))  # fmt: skip
    assert len(sms) == 1000 + 500  # case_filed to all, deadlines to the odd half
    assert len(email) == 1000 + 1000 - 334
    assert (users[0].pk, "sla_not_assigned") not in sms
    assert (users[1].pk, "sla_not_assigned") in sms
    assert (users[3].pk, "case_filed") not in email


# --- the service -------------------------------------------------------------------------------


def test_it_keeps_a_history_of_who_changed_what(secretary):
    preferences_save(user=secretary, actor=secretary, choices={"deadlines": {"sms": False}})
    preferences_save(user=secretary, actor=secretary, choices={"deadlines": {"sms": True}})
    history = NotificationPreference.history.filter(user=secretary).order_by("history_date")
    assert [(h.history_type, h.sms, h.history_user_id) for h in history] == [
        ("+", False, secretary.pk),
        ("~", True, secretary.pk),
    ]


def test_it_saves_nothing_when_nothing_changes(secretary):
    preferences_save(
        user=secretary, actor=secretary, choices={"system": {"sms": True, "email": True}}
    )
    assert not NotificationPreference.objects.exists()
    assert not NotificationPreference.history.exists()


def test_it_lets_nobody_change_someone_elses_settings(secretary, outsider):
    with pytest.raises(PermissionDenied):
        preferences_save(user=secretary, actor=outsider, choices={"deadlines": {"sms": False}})
    assert not NotificationPreference.objects.exists()


def test_it_refuses_an_unknown_group_and_saves_nothing(secretary):
    with pytest.raises(ValidationError) as exc:
        preferences_save(
            user=secretary,
            actor=secretary,
            choices={"deadlines": {"sms": False}, "gossip": {"sms": False}},
        )
    assert "gossip" in str(exc.value.message_dict["groups"])
    assert not NotificationPreference.objects.exists()


# --- the page ----------------------------------------------------------------------------------


def test_it_shows_every_group_with_in_app_always_on_in_chinese(client, secretary):
    client.force_login(secretary)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    labels = [
        "新的待办工作",
        "我的案件交接",
        "时限预警与超时",
        "升级与督办",
        "批示指示",
        "系统消息",
    ]
    assert all(label in html for label in labels)
    assert html.count('id="new_work_in_app" checked disabled') == 1
    assert 'name="deadlines_sms"' in html and 'name="deadlines_email"' in html
    assert "短信" in html and "邮件" in html and "站内消息" in html


def test_it_saves_from_the_page(client, secretary):
    client.force_login(secretary)
    data = {f"{g}_{c}": "on" for g in Group.values for c in ("sms", "email")}
    del data["deadlines_sms"], data["handoffs_email"]
    response = client.post(URL, data)
    assert response.status_code == 302 and response["Location"] == URL
    assert channels(secretary, "sla_not_assigned") == {"email"}
    assert channels(secretary, "case_closed") == {"sms"}
    assert channels(secretary, "case_filed") == {"email", "sms"}
    page = client.get(URL).content.decode()
    assert "通知设置已保存" in page
    assert 'name="deadlines_sms" class="form-check-input" role="switch" id="id_deadlines_sms">' in (
        page
    )


def test_it_warns_when_the_account_has_no_phone(client):
    user = UserFactory(phone="", email="")
    client.force_login(user)
    html = client.get(URL).content.decode()
    assert 'data-testid="no-phone"' in html and 'data-testid="no-email"' in html


def test_it_is_linked_from_the_inbox_and_the_user_menu(client, secretary):
    client.force_login(secretary)
    html = client.get(reverse("inbox:list")).content.decode()
    assert f'href="{URL}" data-testid="settings-link"' in html
    assert f'href="{URL}" data-testid="menu-settings-link"' in html


def test_it_requires_a_login_for_the_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(URL, {"deadlines_sms": ""}).status_code == 302
    assert not NotificationPreference.objects.exists()


def test_it_saves_only_for_the_signed_in_user(client, secretary, outsider):
    client.force_login(outsider)
    client.post(URL, {"user": secretary.pk})  # no way to name someone else: ignored
    assert not NotificationPreference.objects.filter(user=secretary).exists()
    assert NotificationPreference.objects.filter(user=outsider).count() == len(Group.values)


@pytest.mark.parametrize("preferences", [0, 6])
def test_it_renders_the_page_with_a_fixed_number_of_queries(
    client, secretary, django_assert_max_num_queries, preferences
):
    for group in Group.values[:preferences]:
        preferences_save(user=secretary, actor=secretary, choices={group: {"sms": False}})
    client.force_login(secretary)
    client.get(URL)
    with django_assert_max_num_queries(6):  # session, user, scope, unread count, preferences
        assert client.get(URL).status_code == 200


# --- the API ---------------------------------------------------------------------------------


def test_it_shows_my_preferences_in_the_api(secretary):
    preferences_save(user=secretary, actor=secretary, choices={"system": {"email": False}})
    body = api_for(secretary).get(API).json()
    assert [g["group"] for g in body["groups"]] == Group.values
    system = next(g for g in body["groups"] if g["group"] == "system")
    assert system == system | {"in_app": True, "sms": True, "email": False}


def test_it_changes_my_preferences_in_the_api(secretary):
    response = api_for(secretary).put(
        API, {"groups": [{"group": "deadlines", "sms": False}]}, format="json"
    )
    assert response.status_code == 200
    deadlines = next(g for g in response.json()["groups"] if g["group"] == "deadlines")
    assert (deadlines["sms"], deadlines["email"]) == (False, True)
    assert channels(secretary, "sla_not_handled") == {"email"}


@pytest.mark.parametrize(
    "payload",
    [
        {"groups": [{"group": "gossip", "sms": False}]},
        {"groups": [{"group": "deadlines", "sms": "maybe"}]},
        {"groups": [{"group": "deadlines", "sms": False}, {"group": "deadlines", "sms": True}]},
        {},
    ],
)
def test_it_refuses_bad_input_in_the_api_and_saves_nothing(secretary, payload):
    response = api_for(secretary).put(API, payload, format="json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not NotificationPreference.objects.exists()


def test_it_requires_authentication_for_the_api(secretary):
    client = APIClient()
    assert client.get(API).status_code in (401, 403)
    put = client.put(API, {"groups": [{"group": "deadlines", "sms": False}]}, format="json")
    assert put.status_code in (401, 403)
    assert not NotificationPreference.objects.exists()


def test_it_shows_and_changes_only_my_own_in_the_api(secretary, outsider):
    preferences_save(user=secretary, actor=secretary, choices={"system": {"sms": False}})
    body = api_for(outsider).get(API, {"user": secretary.pk}).json()
    assert all(g["sms"] for g in body["groups"])  # the outsider's own (defaults)
    api_for(outsider).put(
        API, {"user": secretary.pk, "groups": [{"group": "system", "sms": True}]}, format="json"
    )
    assert NotificationPreference.objects.get(user=secretary, group="system").sms is False


def test_it_answers_the_api_with_a_fixed_number_of_queries(
    secretary, django_assert_max_num_queries
):
    client = api_for(secretary)
    with django_assert_max_num_queries(1):
        client.get(API)
    payload = {"groups": [{"group": g, "sms": False} for g in Group.values]}
    with django_assert_max_num_queries(2 + 2 * len(Group.values) + 2):
        assert client.put(API, payload, format="json").status_code == 200
