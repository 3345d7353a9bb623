"""Sessions and visits through the services: who may, what is refused (and that nothing is
saved then), and converting a visit into exactly one dispute case."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from disputes.models import Case, CaseEvent, CaseStatus, Channel, PartySide
from grids.models import Role
from reception_days import services
from reception_days.models import (
    ReceptionSession,
    SessionKind,
    SessionStaff,
    SessionStatus,
    Visit,
    VisitOutcome,
)
from reception_days.services import SessionStateError
from tests.factories import DepartmentFactory
from tests.reception_days.conftest import TODAY, staff


def saved():
    return {
        "sessions": ReceptionSession.objects.count(),
        "staff": SessionStaff.objects.count(),
        "visits": Visit.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "held": ReceptionSession.objects.filter(status=SessionStatus.HELD).count(),
    }


# --- visits ------------------------------------------------------------------------------


def test_it_records_a_visit_with_the_services_given(world):
    session = world.session()
    visit = world.visit(
        session, resident_phone="139 1234 5678", people=2, is_dispute=True,
        services=[world.services["consultation"], world.services["screening"]],
        outcome=VisitOutcome.PRESCRIPTION, advice="先找物业出具漏水鉴定，再协商赔偿。",
    )  # fmt: skip
    visit.refresh_from_db()
    assert (visit.session, visit.recorded_by, visit.people, visit.outcome) == (
        session, world.lawyer, 2, VisitOutcome.PRESCRIPTION,
    )  # fmt: skip
    assert {s.code for s in visit.services.all()} == {"consultation", "screening"}
    assert visit.case is None


@pytest.mark.parametrize(
    "actor",
    ["lawyer", "judge", "secretary", "street", "district_staff", "admin"],
)
def test_it_lets_scheduled_officers_and_staff_above_record(world, actor):
    visit = world.visit(world.session(), actor=getattr(world, actor))
    assert visit.recorded_by == getattr(world, actor)


@pytest.mark.parametrize("actor", ["other_lawyer", "worker", "nobody"])
def test_it_refuses_recording_to_others_and_saves_nothing(world, actor):
    session = world.session()
    before = saved()
    with pytest.raises(PermissionDenied):
        world.visit(session, actor=getattr(world, actor))
    assert saved() == before


def test_it_refuses_an_officer_of_the_community_who_is_not_on_the_session(world):
    session = world.session(with_team=False)
    with pytest.raises(PermissionDenied):
        world.visit(session, actor=world.judge)


def test_it_lets_an_extra_worker_with_an_account_record_once_scheduled(world):
    session = world.session()
    petition = staff(Role.MEDIATOR, world.c3, real_name="信访干部")
    with pytest.raises(PermissionDenied):
        world.visit(session, actor=petition)
    services.session_add_staff(
        session=session, actor=world.secretary, name="", duty="信访干部", user=petition
    )
    assert world.visit(session, actor=petition).recorded_by == petition


BAD_VISITS = [
    pytest.param({"resident_name": "  "}, {"resident_name"}, id="no-name"),
    pytest.param({"issue": ""}, {"issue"}, id="no-issue"),
    pytest.param({"resident_phone": "call me"}, {"resident_phone"}, id="bad-phone"),
    pytest.param({"people": 0}, {"people"}, id="nobody"),
    pytest.param({"outcome": VisitOutcome.PRESCRIPTION}, {"advice"}, id="prescription-no-text"),
    pytest.param({"outcome": VisitOutcome.REFERRED}, {"department"}, id="referral-no-dept"),
    pytest.param({"outcome": VisitOutcome.CASE}, {"outcome"}, id="case-without-converting"),
    pytest.param({"outcome": "magic"}, {"outcome"}, id="unknown-outcome"),
    pytest.param(
        {"resident_name": "", "issue": "", "outcome": VisitOutcome.REFERRED},
        {"resident_name", "issue", "department"}, id="several",
    ),
]  # fmt: skip


@pytest.mark.parametrize("bad, fields", BAD_VISITS)
def test_it_refuses_bad_visits_with_field_errors_and_saves_nothing(world, bad, fields):
    session = world.session()
    before = saved()
    with pytest.raises(ValidationError) as exc:
        world.visit(session, **bad)
    assert set(exc.value.message_dict) == fields
    assert saved() == before


def test_it_records_a_referral_with_its_department(world):
    department = DepartmentFactory(name="区城市管理局")
    visit = world.visit(world.session(), outcome=VisitOutcome.REFERRED, department=department)
    assert visit.department == department


def test_it_refuses_visits_before_the_session_day_and_at_a_cancelled_session(world):
    tomorrow = world.session(day=TODAY + timedelta(days=1))
    with pytest.raises(SessionStateError):
        world.visit(tomorrow)
    cancelled = world.session(theme="停电取消")
    services.session_cancel(session=cancelled, actor=world.secretary, reason="停电")
    with pytest.raises(SessionStateError):
        world.visit(cancelled)
    assert not Visit.objects.exists()


# --- converting a visit into a case ---------------------------------------------------------


def test_it_converts_a_visit_into_exactly_one_linked_case(world):
    session = world.session()
    visit = world.visit(session, resident_phone="13912345678", people=3)
    before = Case.objects.count()

    case = services.visit_convert(
        visit=visit, actor=world.lawyer, category=world.category, respondent_name="楼上住户"
    )

    assert Case.objects.count() == before + 1
    case.refresh_from_db()
    visit.refresh_from_db()
    assert case.channel == Channel.RECEPTION_DAY
    assert case.area == world.tree.grids[0]  # the community's first grid
    assert case.community == world.c1
    assert case.filed_by == world.lawyer
    assert case.cause == "楼上漏水到我家厨房"
    assert case.address == "社区党群服务中心"
    assert case.people_involved == 4
    assert [(p.side, p.name, p.phone) for p in case.parties.all()] == [
        (PartySide.APPLICANT, "李大妈", "13912345678"),
        (PartySide.RESPONDENT, "楼上住户", ""),
    ]
    # Linked both ways.
    assert visit.case == case
    assert list(case.reception_visits.all()) == [visit]
    assert (visit.outcome, visit.is_dispute) == (VisitOutcome.CASE, True)
    assert case.events.get().kind == CaseEvent.Kind.FILED


def test_it_files_in_the_grid_the_officer_picks(world):
    visit = world.visit(world.session())
    grid = world.tree.grids[1]
    case = services.visit_convert(
        visit=visit, actor=world.secretary, category=world.category, grid=grid,
        cause="厨房漏水", address="1栋2单元301",
    )  # fmt: skip
    assert (case.area, case.cause, case.address) == (grid, "厨房漏水", "1栋2单元301")


def test_it_converts_a_visit_only_once(world):
    visit = world.visit(world.session())
    services.visit_convert(visit=visit, actor=world.lawyer, category=world.category)
    before = saved()
    with pytest.raises(SessionStateError):
        services.visit_convert(visit=visit, actor=world.police, category=world.category)
    assert saved() == before


def test_it_refuses_a_grid_of_another_community_and_saves_nothing(world):
    visit = world.visit(world.session())
    before = saved()
    with pytest.raises(ValidationError) as exc:
        services.visit_convert(
            visit=visit, actor=world.lawyer, category=world.category, grid=world.tree.grids[2]
        )
    assert set(exc.value.message_dict) == {"grid"}
    assert saved() == before
    assert Visit.objects.get().outcome == VisitOutcome.ANSWERED


def test_it_passes_the_case_filing_errors_back_and_saves_nothing(world):
    visit = world.visit(world.session())
    before = saved()
    with pytest.raises(ValidationError) as exc:
        services.visit_convert(
            visit=visit, actor=world.lawyer, category=world.category.parent, address=" "
        )
    assert "category" in exc.value.message_dict
    assert saved() == before


def test_it_refuses_converting_to_an_officer_of_another_community(world):
    visit = world.visit(world.session())
    before = saved()
    with pytest.raises(PermissionDenied):
        services.visit_convert(visit=visit, actor=world.other_lawyer, category=world.category)
    assert saved() == before


# --- replies, attendance, cancelling -------------------------------------------------------


def test_it_records_the_reply_given_to_the_resident(world):
    visit = world.visit(world.session())
    with pytest.raises(ValidationError):
        services.visit_reply(visit=visit, actor=world.lawyer, reply=" ")
    services.visit_reply(visit=visit, actor=world.lawyer, reply="已联系物业，周五上门维修。")
    visit.refresh_from_db()
    assert (visit.reply, visit.replied_by) == ("已联系物业，周五上门维修。", world.lawyer)
    assert visit.replied_at is not None
    with pytest.raises(PermissionDenied):
        services.visit_reply(visit=visit, actor=world.other_lawyer, reply="x")


def test_it_marks_a_session_held_with_who_attended(world):
    session = world.session()
    extra = services.session_add_staff(
        session=session, actor=world.lawyer, name="赵消防", duty="消防专干"
    )
    present = [session.staff.get(user=world.lawyer).pk, extra.pk]

    services.session_hold(session=session, actor=world.lawyer, attended=present)

    session.refresh_from_db()
    assert (session.status, session.held_by) == (SessionStatus.HELD, world.lawyer)
    assert set(session.staff.filter(attended=True).values_list("name", flat=True)) == {
        "马律师", "赵消防",
    }  # fmt: skip
    # Sent again, it corrects the attendance without changing who marked it held.
    services.session_hold(session=session, actor=world.secretary, attended=present[:1])
    session.refresh_from_db()
    assert session.held_by == world.lawyer
    assert session.staff.filter(attended=True).count() == 1


def test_it_refuses_bad_attendance_and_early_holding(world):
    session = world.session()
    other = world.session(world.c3, theme="别处")
    before = saved()
    with pytest.raises(ValidationError):
        services.session_hold(session=session, actor=world.lawyer, attended=[])
    with pytest.raises(ValidationError):
        services.session_hold(
            session=session, actor=world.lawyer, attended=[other.staff.first().pk]
        )
    tomorrow = world.session(day=TODAY + timedelta(days=1), theme="明天")
    with pytest.raises(SessionStateError):
        services.session_hold(
            session=tomorrow, actor=world.lawyer, attended=[tomorrow.staff.first().pk]
        )
    assert saved() == {**before, "sessions": before["sessions"] + 1,
                       "staff": before["staff"] + 4}  # fmt: skip
    assert not SessionStaff.objects.filter(attended=True).exists()


def test_it_cancels_a_planned_session_with_a_reason(world):
    session = world.session()
    with pytest.raises(ValidationError):
        services.session_cancel(session=session, actor=world.secretary, reason="")
    services.session_cancel(session=session, actor=world.secretary, reason="暴雨橙色预警")
    session.refresh_from_db()
    assert (session.status, session.cancel_reason, session.cancelled_by) == (
        SessionStatus.CANCELLED, "暴雨橙色预警", world.secretary,
    )  # fmt: skip
    with pytest.raises(SessionStateError):
        services.session_cancel(session=session, actor=world.secretary, reason="again")


def test_it_refuses_to_cancel_a_session_where_residents_were_received(world):
    session = world.session()
    world.visit(session)
    with pytest.raises(SessionStateError):
        services.session_cancel(session=session, actor=world.secretary, reason="误建")


# --- creating sessions ----------------------------------------------------------------------


def test_it_creates_a_thematic_session_with_the_team(world):
    session = world.session(theme="反诈宣传进广场", kind=SessionKind.THEMATIC)
    assert session.created_by == world.admin
    assert session.staff.count() == 4


def test_it_refuses_bad_sessions_with_field_errors(world):
    before = saved()
    with pytest.raises(ValidationError) as exc:
        world.session(theme="")
    assert set(exc.value.message_dict) == {"theme"}
    with pytest.raises(ValidationError) as exc:
        services.session_create(
            actor=world.admin, community=world.c1, kind=SessionKind.THEMATIC, date=TODAY,
            starts_at=time(11), ends_at=time(9), theme="x",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"ends_at"}
    with pytest.raises(ValidationError) as exc:
        world.session(community=world.s1)
    assert set(exc.value.message_dict) == {"community"}
    assert saved() == before


def test_it_refuses_a_second_monthly_session_on_the_same_day(world):
    world.session(kind=SessionKind.MONTHLY, theme="")
    with pytest.raises(ValidationError) as exc:
        world.session(kind=SessionKind.MONTHLY, theme="")
    assert set(exc.value.message_dict) == {"date"}


def test_it_lets_only_organisers_create_sessions(world):
    for actor in (world.lawyer, world.worker, world.other_lawyer):
        with pytest.raises(PermissionDenied):
            services.session_create(
                actor=actor, community=world.c1, kind=SessionKind.THEMATIC, date=TODAY,
                starts_at=time(9), ends_at=time(10), theme="x",
            )  # fmt: skip
    assert services.session_create(
        actor=world.street, community=world.c2, kind=SessionKind.THEMATIC, date=TODAY,
        starts_at=time(9), ends_at=time(10), theme="街道组织",
    ).staff.count() == 0  # C2 has no team  # fmt: skip


def test_it_keeps_the_case_status_readable_from_the_visit(world):
    visit = world.visit(world.session())
    case = services.visit_convert(visit=visit, actor=world.lawyer, category=world.category)
    assert Visit.objects.select_related("case").get().case.status == CaseStatus.FILED
    assert case.reception_visits.get().session.community == world.c1
