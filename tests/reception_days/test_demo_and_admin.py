"""The catalogue every database starts with, the demo data, and the admin pages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import Area, User
from reception_days.demo import seed
from reception_days.models import (
    MediationUnit,
    ReceptionSession,
    RotaSlot,
    ServiceItem,
    SessionKind,
    SessionStaff,
    SessionStatus,
    TeamMember,
    Visit,
)


def test_it_starts_every_database_with_the_four_common_services(db):
    # From the data migration: no seeding needed.
    common = ServiceItem.objects.filter(parent__isnull=True).order_by("sort_order")
    assert [(s.code, s.name) for s in common] == [
        ("publicity", "普法宣传"), ("consultation", "法律咨询"),
        ("screening", "风险排查"), ("mediation", "矛盾调解"),
    ]  # fmt: skip


@pytest.fixture
def demo_all(demo):
    from disputes.demo import seed as seed_disputes

    seed_disputes()
    seed()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            ServiceItem,
            MediationUnit,
            RotaSlot,
            ReceptionSession,
            SessionStaff,
            Visit,
            User,
        )
    }


def test_it_seeds_a_session_today_for_the_demo_lawyer(demo_all):
    today = timezone.localdate()
    minsheng = Area.objects.get(name="民生路社区")
    session = ReceptionSession.objects.get(community=minsheng, date=today,
                                           kind=SessionKind.THEMATIC)  # fmt: skip
    assert session.status == SessionStatus.PLANNED
    assert session.staff.filter(user__username="lawyer").exists()
    assert session.staff.filter(user=None, duty="消防专干").exists()
    # Sessions this month and next for both demo teams, and a market with a rota.
    months = {(today.year, today.month), ((today.replace(day=28) + timezone.timedelta(days=4)).year,
              (today.replace(day=28) + timezone.timedelta(days=4)).month)}  # fmt: skip
    monthly = ReceptionSession.objects.filter(kind=SessionKind.MONTHLY)
    assert {s.community.name for s in monthly} == {"民生路社区", "通远门社区"}
    assert {(s.date.year, s.date.month) for s in monthly} <= months
    unit = MediationUnit.objects.get(name="民生路农贸市场")
    assert unit.rota.count() == 5
    assert ServiceItem.objects.filter(parent__isnull=False).count() >= 10


def test_it_is_idempotent(demo_all):
    first = counts()
    seed()
    assert counts() == first


@pytest.mark.parametrize(
    "name",
    ["receptionsession", "visit", "serviceitem", "mediationunit", "teammember"],
)
def test_it_shows_every_admin_list_and_form(admin_client, demo_all, name):
    url = reverse(f"admin:reception_days_{name}_changelist")
    assert admin_client.get(url).status_code == 200
    if name in ("receptionsession", "serviceitem", "mediationunit"):
        assert admin_client.get(reverse(f"admin:reception_days_{name}_add")).status_code == 200


def test_it_links_a_session_to_its_communitys_team_in_the_admin(admin_client, demo_all):
    session = ReceptionSession.objects.filter(community__name="民生路社区").first()
    changelist = admin_client.get(reverse("admin:reception_days_receptionsession_changelist"))
    team = f"/admin/reception_days/teammember/?area__id__exact={session.community_id}"
    assert team in changelist.content.decode()
    response = admin_client.get(team)
    assert response.status_code == 200
    shown = {m.user.username for m in response.context["cl"].result_list}
    assert shown == {"judge", "prosecutor", "police", "lawyer"}
    assert TeamMember.objects.count() >= 6  # the proxy lists ordinary assignments


def test_it_creates_a_session_in_the_admin_through_the_service(admin_client, demo_all):
    minsheng = Area.objects.get(name="民生路社区")
    data = {"community": minsheng.pk, "kind": "thematic", "theme": "法律进公园",
            "venue": "鹅岭公园", "date": "2026-12-05", "starts_at": "09:00",
            "ends_at": "11:00", "unit": ""}  # fmt: skip
    # Inline formsets of the change page (read-only, nothing to add).
    for prefix in ("staff", "visits"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = admin_client.post(reverse("admin:reception_days_receptionsession_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    session = ReceptionSession.objects.get(theme="法律进公园")
    assert session.staff.count() == 4  # the service scheduled the team
    held = ReceptionSession.objects.filter(status=SessionStatus.HELD).first()
    url = reverse("admin:reception_days_receptionsession_change", args=[held.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
