"""Who was responsible when (谁在何时负责): who held a grid on a day and a person's posts over
time, from the assignments' history, including a post moved by editing it in place, a date
corrected later, a backdated entry and a deleted record; for street and district staff,
within their own areas.

The story at 民生路社区第1网格 (G01; local dates, 2026):
  01-01  张网格 (gridworker) holds G01 (the demo seed)
  02-01  the admin edits that assignment in place: G02 instead of G01
  02-10  王网格 starts at G01; on 03-06 his start is corrected to 02-08
  02-15  李网格 is entered at G01; the row is deleted on 02-16
  03-01  王网格's assignment is ended
  03-05  赵网格 is entered at G01, backdated to start on 03-01
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from grids import responsibility, services
from grids.demo import seed
from grids.models import Area, Assignment, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGE = reverse("grids:responsibility")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(month, day, hour=9):
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def story(db):
    with time_machine.travel(at(1, 1, 0), tick=False):
        seed()
    admin = User.objects.get(username="admin")
    g01 = Area.objects.get(code="500103001001G01")
    g02 = Area.objects.get(code="500103001001G02")
    worker = User.objects.get(username="gridworker")
    wang = UserFactory(username="wang", real_name="王网格")
    li = UserFactory(username="li", real_name="李网格")
    zhao = UserFactory(username="zhao", real_name="赵网格")
    moved = Assignment.objects.get(user=worker, role=Role.GRID_WORKER)
    with time_machine.travel(at(2, 1), tick=False):
        moved.area = g02
        services.assignment_update(assignment=moved, actor=admin)
    with time_machine.travel(at(2, 10), tick=False):
        wangs = services.assignment_create(user=wang, role=Role.GRID_WORKER, area=g01,
                                           actor=admin)  # fmt: skip
    with time_machine.travel(at(2, 15), tick=False):
        lis = services.assignment_create(user=li, role=Role.GRID_WORKER, area=g01, actor=admin)
    with time_machine.travel(at(2, 16), tick=False):
        lis._history_user = admin
        lis.delete()
    with time_machine.travel(at(3, 1), tick=False):
        services.assignment_end(assignment=wangs, actor=admin)
    with time_machine.travel(at(3, 5), tick=False):
        services.assignment_create(user=zhao, role=Role.GRID_WORKER, area=g01,
                                   started_at=at(3, 1, 0), actor=admin)  # fmt: skip
    with time_machine.travel(at(3, 6), tick=False):
        wangs.refresh_from_db()
        wangs.started_at = at(2, 8)
        services.assignment_update(assignment=wangs, actor=admin)
    return {"g01": g01, "g02": g02, "worker": worker, "wang": wang, "li": li, "zhao": zhao,
            "street": User.objects.get(username="street"),
            "district": User.objects.get(username="district")}  # fmt: skip


def holders(story, area, day: str, user="street") -> list[str]:
    found = responsibility.who_held(
        user=story[user], area=story[area], day=datetime.fromisoformat(day).date()
    )
    return [h.user_name for h in found["here"] if h.role == Role.GRID_WORKER]


def test_it_answers_who_held_a_grid_on_each_day_of_the_story(story):
    assert holders(story, "g01", "2026-01-15") == ["张网格"]
    # Moved to G02 by an edit on 02-01: G01 until then, G02 from then, not both, not never.
    assert holders(story, "g01", "2026-02-01") == ["张网格"]
    assert holders(story, "g02", "2026-02-01") == ["张网格"]
    assert holders(story, "g02", "2026-01-15") == []
    assert holders(story, "g01", "2026-02-05") == []
    # A corrected start applies to the whole period.
    assert holders(story, "g01", "2026-02-09") == ["王网格"]
    # The deleted record still shows, marked.
    assert holders(story, "g01", "2026-02-15") == ["王网格", "李网格"]
    deleted = [h for h in responsibility.who_held(user=story["street"], area=story["g01"],
               day=datetime(2026, 2, 15).date())["here"] if h.user_name == "李网格"]  # fmt: skip
    assert deleted[0].deleted_at == at(2, 16)
    # Ended on 03-01 09:00; the backdated entry counts from its own start.
    assert holders(story, "g01", "2026-03-01") == ["王网格", "赵网格"]
    assert holders(story, "g01", "2026-03-02") == ["赵网格"]


def test_it_lists_who_was_responsible_above_the_grid_that_day(story):
    found = responsibility.who_held(user=story["street"], area=story["g01"],
                                    day=datetime(2026, 1, 15).date())  # fmt: skip
    above = {(h.role, h.user_name, h.area_name) for h in found["above"]}
    assert (Role.MEDIATOR, "赵调解", "民生路社区") in above
    assert (Role.COMMUNITY_SECRETARY, "王书记", "民生路社区") in above
    assert (Role.STREET_STAFF, "李综治", "解放碑街道") in above
    # The district's own posts are above the street's reach; the district sees them.
    assert all(h.area_name != "渝中区" for h in found["above"])
    found = responsibility.who_held(user=story["district"], area=story["g01"],
                                    day=datetime(2026, 1, 15).date())  # fmt: skip
    above = {(h.role, h.user_name, h.area_name) for h in found["above"]}
    assert (Role.DISTRICT_STAFF, "周区中心", "渝中区") in above


def test_it_lists_a_persons_posts_over_time(story):
    posts = responsibility.assignments_of(user=story["district"], person=story["worker"])
    assert [(h.area_name, h.start, h.end) for h in posts] == [
        ("民生路社区第2网格", at(2, 1), None),
        ("民生路社区第1网格", at(1, 1, 0), at(2, 1)),
    ]
    # What ended the first period, in words (the product's language is Chinese).
    assert [h.then for h in posts] == ["", "随后调至民生路社区第2网格"]


def test_the_page_shows_the_holders_with_when_each_record_was_entered(client, story):
    client.force_login(story["street"])
    response = client.get(PAGE, {"area": story["g01"].pk, "on": "2026-03-02"})
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "赵网格" in html and "王网格" not in html.split('id="who-held"')[1].split("held-above")[0]
    )
    assert 'data-testid="recorded-later"' in html  # 赵网格 was entered on 03-05
    assert "民生路社区" in html


def test_the_page_finds_an_area_by_name_and_a_person_by_name(client, story):
    client.force_login(story["street"])
    one = client.get(PAGE, {"q": "民生路社区第1网格", "on": "2026-01-15"}).content.decode()
    assert 'id="who-held"' in one and "张网格" in one
    many = client.get(PAGE, {"q": "民生路社区第"}).content.decode()
    assert 'data-testid="area-matches"' in many and "民生路社区第3网格" in many
    person = client.get(PAGE, {"who": "张网格"}).content.decode()
    assert 'id="person-posts"' in person and "民生路社区第2网格" in person


def test_it_keeps_each_street_to_its_own_areas(client, story):
    other = UserFactory(username="s2staff")
    services.assignment_create(user=other, role=Role.STREET_STAFF,
                               area=Area.objects.get(code="500103002"))  # fmt: skip
    client.force_login(other)
    assert client.get(PAGE, {"area": story["g01"].pk}).status_code == 404
    assert client.get(PAGE, {"person": story["worker"].pk}).status_code == 404
    found = client.get(PAGE, {"q": "民生路", "who": "张网格"}).content.decode()
    assert "民生路社区第1网格" not in found and "?person=" not in found
    assert client.get(PAGE, {"area": story["g01"].pk}).status_code == 404


def test_it_refuses_people_who_do_not_supervise(client, story):
    for username in ("gridworker", "mediator", "secretary", "labour"):
        client.force_login(User.objects.get(username=username))
        assert client.get(PAGE).status_code == 403


def test_it_answers_a_bad_date_with_400(client, story):
    client.force_login(story["district"])
    response = client.get(PAGE, {"area": story["g01"].pk, "on": "2026-13-40"})
    assert response.status_code == 400
    assert 'data-testid="form-errors"' in response.content.decode()


def test_it_builds_the_page_in_a_fixed_number_of_queries(
    client, story, django_assert_max_num_queries
):
    client.force_login(story["district"])
    # Session, user, scope (3); the area (1), its ancestors (1), every version of the posts
    # there (1); the person (1) and their posts (1, read twice: scope then list); unread (1).
    with django_assert_max_num_queries(11):
        response = client.get(
            PAGE, {"area": story["g01"].pk, "on": "2026-02-15", "person": story["worker"].pk}
        )
    assert response.status_code == 200
