"""The dashboard's live parts: the counts and the triage queue are fetched again when a
case in the area changes (static/js/live.js); the page's token lets it follow its area.
Users as in test_dashboard.py: the street centre, the district above, outsiders."""

import pytest
from django.urls import reverse

from notifications import live
from tests.dashboards.dashboard_world import NOW, seeded_world

pytestmark = pytest.mark.django_db
QUEUE = reverse("dashboard:queue")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    yield from seeded_world(django_db_blocker)


@pytest.fixture
def w(seeded, db, time_machine):
    time_machine.move_to(NOW, tick=False)
    return seeded


def token_groups(body: str, user) -> list[str]:
    token = body.split('data-live-token="', 1)[1].split('"', 1)[0]
    return live.groups_from_token(token, user_id=user.pk)


def test_it_serves_the_queue_alone_as_the_page_shows_it(client, w):
    client.force_login(w.street)
    page = client.get(reverse("dashboard:index"))

    response = client.get(QUEUE, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="col-12 col-lg-7" id="triage"')
    numbers = [row["case"].number for row in response.context["queue"]]
    assert numbers == [row["case"].number for row in page.context["queue"]]
    assert numbers == [w.cases["e"].number, w.cases["d"].number]
    assert f'data-live-refresh="{QUEUE}?area={w.s1.pk}" data-live-on="case"' in body


def test_it_keeps_the_chosen_area_in_the_live_parts(client, w):
    client.force_login(w.district)

    body = client.get(reverse("dashboard:index"), {"area": w.s1.pk}).content.decode()

    assert f'data-live-refresh="{QUEUE}?area={w.s1.pk}"' in body
    assert f'data-live-refresh="{reverse("dashboard:counts")}?area={w.s1.pk}"' in body
    assert token_groups(body, w.district) == [
        live.user_group(w.district.pk), live.area_group(w.s1.pk)]  # fmt: skip
    queue = client.get(QUEUE, {"area": w.s1.pk}).context["queue"]
    assert {row["case"].number for row in queue} == {w.cases["e"].number, w.cases["d"].number}


def test_it_follows_the_whole_system_for_those_who_see_everything(client, w, django_user_model):
    admin = django_user_model.objects.create_superuser("root-live", password="x")
    client.force_login(admin)

    body = client.get(reverse("dashboard:index")).content.decode()

    assert token_groups(body, admin) == [live.user_group(admin.pk), live.ALL_AREAS]


def test_it_never_serves_another_streets_queue(client, w):
    client.force_login(w.street)

    response = client.get(QUEUE, {"area": w.s2.pk})

    assert response.status_code == 400
    numbers = {row["case"].number for row in response.context["queue"]}
    assert numbers == {w.cases["e"].number, w.cases["d"].number}  # their own street's


def test_it_refuses_the_queue_to_users_without_a_dashboard(client, w):
    for user in (w.gridworker, w.judge):
        client.force_login(user)
        assert client.get(QUEUE).status_code == 403
        assert token_groups(client.get("/").content.decode(), user) == [live.user_group(user.pk)]
    client.logout()
    assert client.get(QUEUE).status_code == 302


def test_it_serves_the_queue_in_a_fixed_number_of_queries(client, w, django_assert_max_num_queries):
    # Session, user, scope and the ?area= lookup (4); the summary (1); the queue (1).
    client.force_login(w.district)
    with django_assert_max_num_queries(6):
        assert client.get(QUEUE, {"area": w.s1.pk}).status_code == 200
