"""The case lifecycle services: filing and every workflow action, each with its timeline event.

Scenario: a dispute filed in grid 1 of community 1 (street 1). The responsible worker is that
grid's worker, the centre staff above them are the community secretary / mediator and the
street centre, and the outsider is a grid worker of another street."""

import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from disputes import services
from disputes.attachments import MAX_ATTACHMENT_BYTES
from disputes.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Category,
    Channel,
    CloseKind,
    HandlingLevel,
    Outcome,
    Party,
    PartyKind,
    PartySide,
    ReferralKind,
    RiskLevel,
)
from disputes.services import TransitionError
from grids.models import Role
from tests.factories import DepartmentFactory, SuperuserFactory, Tree, UserFactory, assign

pytestmark = pytest.mark.django_db

S = CaseStatus
K = CaseEvent.Kind
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
VALID_ID = "11010519491231002x"  # valid check digit; stored upper-cased
BAD_ID = "110105194912310021"  # wrong check digit


@pytest.fixture(autouse=True)
def _clock(time_machine):
    # Frozen before any assignment is created, so every assignment is active "now".
    time_machine.move_to(T0, tick=False)


def staff(role: str, area=None, department=None, **user):
    person = UserFactory(**user)
    assign(person, role, area=area, department=department)
    return person


class World:
    def __init__(self):
        self.tree = t = Tree()
        self.department = DepartmentFactory(name="区住建委")
        self.parent_category = Category.objects.create(code="02", name="邻里纠纷")
        self.grid_category = Category.objects.create(
            code="0201", name="楼道堆物", parent=self.parent_category,
            default_handling_level=HandlingLevel.GRID,
        )  # fmt: skip
        self.category = Category.objects.create(
            code="0203", name="房屋漏水", parent=self.parent_category,
            default_handling_level=HandlingLevel.COMMUNITY, lead_department=self.department,
        )  # fmt: skip
        self.worker = staff(Role.GRID_WORKER, t.grids[0])
        self.secretary = staff(Role.COMMUNITY_SECRETARY, t.communities[0])
        self.mediator = staff(Role.MEDIATOR, t.communities[0])
        self.street = staff(Role.STREET_STAFF, t.streets[0])
        self.judge = staff(Role.JUDGE, t.communities[0])
        self.outsider = staff(Role.GRID_WORKER, t.grids[7])
        self.liaison = staff(Role.DEPARTMENT_LIAISON, department=self.department)
        self.nobody = UserFactory()


@pytest.fixture
def world():
    return World()


def parties():
    return [
        {"side": "applicant", "name": "李秀英", "phone": "138 0000 1111", "id_number": VALID_ID},
        {"side": "respondent", "kind": "organisation", "name": "某物业公司"},
    ]


def file_case(w: World, **overrides) -> Case:
    fields = {
        "actor": w.worker,
        "area": w.tree.grids[0],
        "category": w.category,
        "cause": "楼上卫生间漏水至楼下",
        "address": "民生路12号3单元502",
        "channel": Channel.GRID_WORKER,
        "parties": parties(),
    }
    return services.case_file(**(fields | overrides))


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def png(name="site.png"):
    return SimpleUploadedFile(name, image_bytes("PNG"), content_type="image/png")


def jpeg(name="site.jpg"):
    return SimpleUploadedFile(name, image_bytes("JPEG"), content_type="image/jpeg")


def fake_jpeg(name="notes.jpg"):
    return SimpleUploadedFile(name, "这不是照片，只是文字。".encode(), content_type="image/jpeg")


def huge_jpeg(name="huge.jpg"):
    content = image_bytes("JPEG") + b"\0" * (MAX_ATTACHMENT_BYTES + 1)
    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def nothing_filed():
    return {
        "cases": Case.objects.count(),
        "parties": Party.objects.count(),
        "events": CaseEvent.objects.count(),
        "attachments": Attachment.objects.count(),
        "numbers": list(CaseNumberSequence.objects.values_list("year", "last")),
        "files": sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()),
    }


def snapshot(case: Case):
    """Everything an action could change, read from the database."""
    return {
        "row": Case.objects.filter(pk=case.pk).values().get(),
        "events": list(CaseEvent.objects.filter(case=case).values_list("pk", flat=True)),
        "attachments": list(Attachment.objects.filter(case=case).values_list("pk", flat=True)),
        "assistants": sorted(case.assistants.values_list("pk", flat=True)),
    }


# --- lifecycle stages: each builds a fresh case in that state ----------------------------


def at_filed(w):
    return file_case(w)


def at_accepted(w):
    return services.case_accept(case=at_filed(w), actor=w.secretary)


def at_sent_back(w):
    return services.case_send_back(case=at_filed(w), actor=w.secretary, reason="地址不全")


def at_assigned(w):
    return services.case_assign(case=at_accepted(w), mediator=w.mediator, actor=w.secretary)


def at_in_mediation(w):
    return services.case_progress(case=at_assigned(w), actor=w.mediator, note="已上门查看")


def at_agreed(w):
    case = at_in_mediation(w)
    return services.case_record_outcome(case=case, actor=w.mediator, outcome=Outcome.AGREEMENT)


def at_failed(w):
    case = at_in_mediation(w)
    return services.case_record_outcome(case=case, actor=w.mediator, outcome=Outcome.FAILED)


def at_resolved(w):
    return services.case_resolve(case=at_agreed(w), actor=w.mediator)


def at_closed(w):
    return services.case_close(case=at_resolved(w), actor=w.secretary)


def at_withdrawn(w):
    return services.case_withdraw(case=at_filed(w), actor=w.worker, reason="双方已和解")


def at_referred(w):
    case = at_in_mediation(w)
    return services.case_refer(
        case=case, actor=w.mediator, kind=ReferralKind.LITIGATION, note="建议起诉"
    )


STAGES = {
    "filed": at_filed,
    "accepted": at_accepted,
    "sent_back": at_sent_back,
    "assigned": at_assigned,
    "in_mediation": at_in_mediation,
    "agreed": at_agreed,
    "failed": at_failed,
    "resolved": at_resolved,
    "closed": at_closed,
    "withdrawn": at_withdrawn,
    "referred": at_referred,
}


def act(action: str, w: World, case: Case, actor: str, kwargs):
    function = getattr(services, f"case_{action}")
    return function(case=case, actor=getattr(w, actor), **kwargs(w))


def no_args(w):
    return {}


# --- filing ---------------------------------------------------------------------------------


def test_it_numbers_cases_by_year_with_six_digits_and_increments():
    w = World()
    first, second = file_case(w), file_case(w)
    assert (first.number, second.number) == ("JF2026-000001", "JF2026-000002")


def test_it_takes_the_case_number_year_from_local_time(time_machine):
    w = World()
    file_case(w)
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai: a new sequence starts.
    time_machine.move_to(datetime(2026, 12, 31, 17, 0, tzinfo=ZoneInfo("UTC")), tick=False)
    assert file_case(w).number == "JF2027-000001"


def test_it_burns_no_number_on_a_refused_filing(world):
    with pytest.raises(ValidationError):
        file_case(world, cause="")
    assert file_case(world).number == "JF2026-000001"


def test_it_stores_the_parties_cleaned(world):
    case = file_case(world)
    stored = list(case.parties.values("side", "kind", "name", "phone", "id_number"))
    assert stored == [
        {
            "side": PartySide.APPLICANT,
            "kind": PartyKind.PERSON,
            "name": "李秀英",
            "phone": "138 0000 1111",
            "id_number": VALID_ID.upper(),
        },
        {
            "side": PartySide.RESPONDENT,
            "kind": PartyKind.ORGANISATION,
            "name": "某物业公司",
            "phone": "",
            "id_number": "",
        },
    ]


def test_it_copies_the_ancestor_ids_of_the_filing_area(world):
    t = world.tree
    case = file_case(world, area=t.micro_grids[0])
    assert case.area == t.micro_grids[0]
    assert (case.district, case.street, case.community, case.grid) == (
        t.district,
        t.streets[0],
        t.communities[0],
        t.grids[0],
    )


def test_it_records_the_filing_with_its_time_points_and_one_event(world):
    case = file_case(world)
    case.refresh_from_db()
    assert case.status == S.FILED
    assert case.filed_by == world.worker
    assert case.filed_at == T0
    assert case.risk_level == RiskLevel.ORDINARY
    assert case.accepted_at is None and case.assigned_at is None and case.mediator is None
    [event] = case.events.all()
    assert (event.kind, event.actor, event.from_status, event.to_status, event.at) == (
        K.FILED,
        world.worker,
        "",
        S.FILED,
        T0,
    )
    assert event.data["handling_level"] == HandlingLevel.COMMUNITY
    assert event.data["lead_department"] == "区住建委"


def test_it_lets_the_centre_staff_above_file_in_their_grids(world):
    case = file_case(world, actor=world.secretary, area=world.tree.grids[1])
    assert case.filed_by == world.secretary
    assert case.grid == world.tree.grids[1]


def test_it_records_a_dispute_resolved_on_the_spot_in_the_grid(world):
    case = file_case(
        world,
        area=world.tree.micro_grids[1],
        category=world.category,  # a community-level type still stays in the grid
        risk_level=RiskLevel.MAJOR,
        resolved_on_spot=True,
        outcome_note="网格员现场协调，当场清理。",
    )
    case.refresh_from_db()
    assert case.status == S.RESOLVED
    assert case.resolved_on_spot is True
    assert case.handling_level == HandlingLevel.GRID
    assert case.handling_area == world.tree.grids[0]
    assert case.mediator == world.worker
    assert case.outcome == Outcome.AGREEMENT
    assert case.outcome_note == "网格员现场协调，当场清理。"
    assert case.resolved_at == case.accepted_at == case.first_progress_at == T0
    events = list(case.events.values_list("kind", "from_status", "to_status"))
    assert events == [(K.FILED, "", S.FILED), (K.RESOLVED_ON_SPOT, S.FILED, S.RESOLVED)]


def test_it_requires_a_note_for_a_dispute_resolved_on_the_spot(world):
    with pytest.raises(ValidationError) as exc:
        file_case(world, resolved_on_spot=True, outcome_note=" ")
    assert set(exc.value.message_dict) == {"outcome_note"}
    assert Case.objects.count() == 0


def test_it_stores_photos_with_the_type_read_from_their_bytes(world):
    disguised_png = png(name="现场.jpg")
    case = file_case(world, photos=[disguised_png, jpeg()])
    first, second = case.attachments.order_by("id")
    assert (first.content_type, first.extension, first.kind) == ("image/png", ".png", "photo")
    assert (second.content_type, second.extension) == ("image/jpeg", ".jpg")
    assert first.original_name == "现场.jpg"
    assert first.file.name.endswith(".png")
    assert first.size == len(image_bytes("PNG"))
    with first.file.open("rb") as stored:
        assert stored.read() == image_bytes("PNG")
    assert first.uploaded_by == world.worker
    assert first.event == case.events.get(kind=K.FILED)


@pytest.mark.parametrize(
    "photo", [fake_jpeg, huge_jpeg], ids=["text-renamed-jpg", "larger-than-10-mb"]
)
def test_it_refuses_a_photo_that_is_not_an_image_or_too_large(world, photo):
    before = nothing_filed()
    with pytest.raises(ValidationError) as exc:
        file_case(world, photos=[jpeg(), photo()])
    assert set(exc.value.message_dict) == {"photos"}
    assert len(exc.value.message_dict["photos"]) == 1
    assert nothing_filed() == before


def without_applicant(w):
    return {"parties": [{"side": "respondent", "name": "王强"}]}


BAD_FILINGS = [
    pytest.param(lambda w: {"cause": "  "}, {"cause"}, id="no-cause"),
    pytest.param(lambda w: {"address": ""}, {"address"}, id="no-address"),
    pytest.param(without_applicant, {"parties"}, id="no-applicant"),
    pytest.param(lambda w: {"parties": []}, {"parties"}, id="no-parties"),
    pytest.param(
        lambda w: {"parties": [{"side": "applicant", "name": "李", "id_number": BAD_ID}]},
        {"parties"},
        id="invalid-id-number",
    ),
    pytest.param(
        lambda w: {"parties": [{"side": "applicant", "name": "李", "phone": "call me"}]},
        {"parties"},
        id="invalid-phone",
    ),
    pytest.param(lambda w: {"category": w.parent_category}, {"category"}, id="parent-category"),
    pytest.param(lambda w: {"risk_level": "apocalyptic"}, {"risk_level"}, id="unknown-risk"),
    pytest.param(lambda w: {"channel": "pigeon"}, {"channel"}, id="unknown-channel"),
    pytest.param(
        lambda w: {"cause": "", "parties": [], "category": w.parent_category},
        {"cause", "parties", "category"},
        id="several-at-once",
    ),
]


@pytest.mark.parametrize("bad, fields", BAD_FILINGS)
def test_it_refuses_bad_filings_with_field_errors_and_saves_nothing(world, bad, fields):
    before = nothing_filed()
    with pytest.raises(ValidationError) as exc:
        file_case(world, photos=[png()], **bad(world))
    assert set(exc.value.message_dict) == fields
    assert nothing_filed() == before


@pytest.mark.parametrize(
    "actor, area",
    [
        pytest.param("worker", lambda t: t.grids[1], id="worker-in-the-neighbouring-grid"),
        pytest.param("outsider", lambda t: t.grids[0], id="outsider"),
        pytest.param("secretary", lambda t: t.communities[0], id="at-community-level"),
        pytest.param("liaison", lambda t: t.grids[0], id="department-liaison"),
        pytest.param("judge", lambda t: t.grids[0], id="judge"),
        pytest.param("nobody", lambda t: t.grids[0], id="no-assignment"),
    ],
)
def test_it_refuses_filing_outside_ones_area_or_role(world, actor, area):
    before = nothing_filed()
    with pytest.raises(PermissionDenied):
        file_case(world, actor=getattr(world, actor), area=area(world.tree))
    assert nothing_filed() == before


def test_it_lets_a_superuser_file_anywhere(world):
    case = file_case(world, actor=SuperuserFactory(), area=world.tree.grids[7])
    assert case.grid == world.tree.grids[7]


# --- every workflow action: success ----------------------------------------------------


def assign_mediator(w):
    return {"mediator": w.mediator, "assistants": [w.worker], "note": "请尽快联系双方"}


def attach_photo(w):
    return {"files": [png()], "note": "现场照片"}


SUCCESSES = [
    ("accept", "filed", "secretary", no_args, S.ACCEPTED, "accepted_at", K.ACCEPTED),
    ("accept", "filed", "street", no_args, S.ACCEPTED, "accepted_at", K.ACCEPTED),
    ("send_back", "filed", "secretary", lambda w: {"reason": "缺少地址"}, S.SENT_BACK, None,
     K.SENT_BACK),
    ("send_back", "accepted", "secretary", lambda w: {"reason": "重复"}, S.SENT_BACK, None,
     K.SENT_BACK),
    ("resubmit", "sent_back", "worker", no_args, S.FILED, None, K.RESUBMITTED),
    ("resubmit", "sent_back", "secretary", no_args, S.FILED, None, K.RESUBMITTED),
    ("assign", "filed", "secretary", assign_mediator, S.ASSIGNED, "assigned_at", K.ASSIGNED),
    ("assign", "accepted", "street", assign_mediator, S.ASSIGNED, "assigned_at", K.ASSIGNED),
    ("progress", "assigned", "mediator", lambda w: {"note": "已上门"}, S.IN_MEDIATION,
     "first_progress_at", K.PROGRESS),
    ("progress", "assigned", "secretary", lambda w: {"note": "已约谈", "photos": [jpeg()]},
     S.IN_MEDIATION, "first_progress_at", K.PROGRESS),
    ("record_outcome", "in_mediation", "mediator", lambda w: {"outcome": Outcome.PARTIAL},
     S.IN_MEDIATION, "outcome_at", K.OUTCOME),
    ("resolve", "agreed", "mediator", no_args, S.RESOLVED, "resolved_at", K.RESOLVED),
    ("resolve", "in_mediation", "secretary", lambda w: {"outcome": Outcome.AGREEMENT},
     S.RESOLVED, "resolved_at", K.RESOLVED),
    ("close", "resolved", "secretary", no_args, S.CLOSED, "closed_at", K.CLOSED),
    ("close", "failed", "street", no_args, S.CLOSED, "closed_at", K.CLOSED),
    ("close", "referred", "secretary", no_args, S.CLOSED, "closed_at", K.CLOSED),
    ("reopen", "closed", "secretary", lambda w: {"reason": "当事人反悔"}, S.IN_MEDIATION,
     "reopened_at", K.REOPENED),
    ("reopen", "resolved", "street", lambda w: {"reason": "回访不满意"}, S.IN_MEDIATION,
     "reopened_at", K.REOPENED),
    ("withdraw", "filed", "worker", lambda w: {"reason": "已和解"}, S.WITHDRAWN, "withdrawn_at",
     K.WITHDRAWN),
    ("withdraw", "in_mediation", "secretary", lambda w: {"reason": "申请人撤回"}, S.WITHDRAWN,
     "withdrawn_at", K.WITHDRAWN),
    ("refer", "in_mediation", "mediator",
     lambda w: {"kind": ReferralKind.LITIGATION, "note": "建议诉讼"}, S.REFERRED,
     "referred_at", K.REFERRED),
    ("refer", "accepted", "secretary",
     lambda w: {"kind": ReferralKind.DEPARTMENT, "department": w.department, "note": "转住建"},
     S.REFERRED, "referred_at", K.REFERRED),
    ("attach", "in_mediation", "worker", attach_photo, S.IN_MEDIATION, None, K.ATTACHMENT),
    ("attach", "closed", "mediator", attach_photo, S.CLOSED, None, K.ATTACHMENT),
]  # fmt: skip


@pytest.mark.parametrize(
    "action, stage, actor, kwargs, status, stamp, kind",
    SUCCESSES,
    ids=[f"{a}-{s}-by-{who}" for a, s, who, *_ in SUCCESSES],
)
def test_it_performs_each_action_with_its_time_point_and_one_event(
    world, time_machine, action, stage, actor, kwargs, status, stamp, kind
):
    case = STAGES[stage](world)
    from_status = Case.objects.get(pk=case.pk).status
    before = set(case.events.values_list("pk", flat=True))
    time_machine.shift(timedelta(hours=3))
    now = timezone.now()

    returned = act(action, world, case, actor, kwargs)

    case.refresh_from_db()
    assert returned.pk == case.pk
    assert case.status == status
    if stamp:
        assert getattr(case, stamp) == now
    if action != "attach":  # attaching files adds evidence, it does not change the case
        assert case.updated_at == now
    [event] = case.events.exclude(pk__in=before)
    assert (event.kind, event.actor, event.from_status, event.to_status, event.at) == (
        kind,
        getattr(world, actor),
        from_status,
        status,
        now,
    )


# --- forbidden actors ---------------------------------------------------------------------

FORBIDDEN = [
    ("accept", "filed", "outsider", no_args),
    ("accept", "filed", "worker", no_args),  # files it, but a community case is not theirs to run
    ("accept", "filed", "judge", no_args),
    ("accept", "filed", "liaison", no_args),
    ("send_back", "filed", "outsider", lambda w: {"reason": "x"}),
    ("send_back", "filed", "worker", lambda w: {"reason": "x"}),
    ("resubmit", "sent_back", "outsider", no_args),
    ("assign", "accepted", "outsider", assign_mediator),
    ("assign", "accepted", "worker", assign_mediator),
    ("assign", "accepted", "judge", assign_mediator),
    ("progress", "assigned", "outsider", lambda w: {"note": "x"}),
    ("progress", "assigned", "worker", lambda w: {"note": "x"}),
    ("record_outcome", "in_mediation", "outsider", lambda w: {"outcome": Outcome.AGREEMENT}),
    ("record_outcome", "in_mediation", "worker", lambda w: {"outcome": Outcome.AGREEMENT}),
    ("resolve", "agreed", "outsider", no_args),
    ("resolve", "agreed", "worker", no_args),
    ("close", "resolved", "outsider", no_args),
    ("close", "resolved", "worker", no_args),
    ("close", "resolved", "mediator", no_args),  # who resolved it may not check it
    ("reopen", "closed", "outsider", lambda w: {"reason": "x"}),
    ("reopen", "closed", "worker", lambda w: {"reason": "x"}),
    ("withdraw", "filed", "outsider", lambda w: {"reason": "x"}),
    ("withdraw", "accepted", "worker", lambda w: {"reason": "x"}),  # too late for the filer
    ("refer", "in_mediation", "outsider", lambda w: {"kind": "litigation", "note": "x"}),
    ("refer", "in_mediation", "worker", lambda w: {"kind": "litigation", "note": "x"}),
    ("attach", "in_mediation", "outsider", attach_photo),
    ("attach", "in_mediation", "judge", attach_photo),
]


@pytest.mark.parametrize(
    "action, stage, actor, kwargs",
    FORBIDDEN,
    ids=[f"{a}-{s}-by-{who}" for a, s, who, _ in FORBIDDEN],
)
def test_it_refuses_a_forbidden_actor_and_changes_nothing(
    world, time_machine, action, stage, actor, kwargs
):
    case = STAGES[stage](world)
    before = snapshot(case)
    time_machine.shift(timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        act(action, world, case, actor, kwargs)
    assert snapshot(case) == before


# --- bad input -----------------------------------------------------------------------------

BAD_INPUT = [
    ("send_back", "filed", "secretary", lambda w: {"reason": "  "}, {"reason"}),
    ("assign", "accepted", "secretary", lambda w: {"mediator": w.outsider}, {"mediator"}),
    ("assign", "accepted", "secretary", lambda w: {"mediator": w.liaison}, {"mediator"}),
    ("assign", "accepted", "secretary",
     lambda w: {"mediator": w.mediator, "assistants": [w.outsider]}, {"assistants"}),
    ("progress", "assigned", "mediator", lambda w: {"note": ""}, {"note"}),
    ("progress", "assigned", "mediator", lambda w: {"note": "x", "photos": [fake_jpeg()]},
     {"photos"}),
    ("progress", "assigned", "mediator", lambda w: {"note": "", "photos": [huge_jpeg()]},
     {"note", "photos"}),
    ("record_outcome", "in_mediation", "mediator", lambda w: {"outcome": "great"}, {"outcome"}),
    ("resolve", "in_mediation", "mediator", lambda w: {"outcome": "bogus"}, {"outcome"}),
    ("resolve", "in_mediation", "mediator", lambda w: {"outcome": Outcome.FAILED}, {"outcome"}),
    ("reopen", "closed", "secretary", lambda w: {"reason": ""}, {"reason"}),
    ("withdraw", "filed", "worker", lambda w: {"reason": " "}, {"reason"}),
    ("refer", "in_mediation", "mediator", lambda w: {"kind": "moon", "note": ""},
     {"kind", "note"}),
    ("refer", "in_mediation", "mediator",
     lambda w: {"kind": ReferralKind.DEPARTMENT, "note": "转办"}, {"department"}),
    ("attach", "in_mediation", "mediator", lambda w: {"files": []}, {"files"}),
    ("attach", "in_mediation", "mediator", lambda w: {"files": [png(), fake_jpeg()]}, {"files"}),
    ("attach", "in_mediation", "mediator", lambda w: {"files": [huge_jpeg()]}, {"files"}),
]  # fmt: skip


@pytest.mark.parametrize(
    "action, stage, actor, kwargs, fields",
    BAD_INPUT,
    ids=[f"{a}-{s}-{i}" for i, (a, s, *_) in enumerate(BAD_INPUT)],
)
def test_it_refuses_bad_input_with_field_errors_and_changes_nothing(
    world, time_machine, action, stage, actor, kwargs, fields
):
    case = STAGES[stage](world)
    before = snapshot(case)
    time_machine.shift(timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        act(action, world, case, actor, kwargs)
    assert set(exc.value.message_dict) == fields
    assert snapshot(case) == before


# --- illegal transitions -------------------------------------------------------------------

ILLEGAL = [
    ("accept", "accepted", "secretary", no_args),
    ("accept", "closed", "secretary", no_args),
    ("send_back", "assigned", "secretary", lambda w: {"reason": "x"}),
    ("resubmit", "filed", "worker", no_args),
    ("assign", "closed", "secretary", assign_mediator),
    ("assign", "in_mediation", "secretary", assign_mediator),
    ("assign", "sent_back", "secretary", assign_mediator),
    ("progress", "filed", "secretary", lambda w: {"note": "x"}),
    ("progress", "resolved", "mediator", lambda w: {"note": "x"}),
    ("record_outcome", "assigned", "mediator", lambda w: {"outcome": Outcome.AGREEMENT}),
    ("record_outcome", "closed", "mediator", lambda w: {"outcome": Outcome.AGREEMENT}),
    ("resolve", "assigned", "mediator", lambda w: {"outcome": Outcome.AGREEMENT}),
    ("close", "filed", "secretary", no_args),
    ("close", "closed", "secretary", no_args),
    ("close", "withdrawn", "secretary", no_args),
    ("reopen", "in_mediation", "secretary", lambda w: {"reason": "x"}),
    ("reopen", "withdrawn", "secretary", lambda w: {"reason": "x"}),
    ("withdraw", "closed", "secretary", lambda w: {"reason": "x"}),
    ("withdraw", "referred", "secretary", lambda w: {"reason": "x"}),
    ("refer", "resolved", "mediator", lambda w: {"kind": "litigation", "note": "x"}),
    ("refer", "referred", "secretary", lambda w: {"kind": "litigation", "note": "x"}),
]


@pytest.mark.parametrize(
    "action, stage, actor, kwargs",
    ILLEGAL,
    ids=[f"{a}-{s}-{i}" for i, (a, s, *_) in enumerate(ILLEGAL)],
)
def test_it_refuses_an_illegal_transition_and_changes_nothing(
    world, time_machine, action, stage, actor, kwargs
):
    case = STAGES[stage](world)
    before = snapshot(case)
    time_machine.shift(timedelta(hours=1))
    with pytest.raises(TransitionError) as exc:
        act(action, world, case, actor, kwargs)
    assert exc.value.message
    assert snapshot(case) == before


# A missing or failed outcome is reported on the `outcome` field (400 at the edges, so the
# form can say what to record first), not as a status conflict: the status itself allows it.
NEEDS_AN_OUTCOME = [
    ("resolve", "failed", "mediator"),  # a failed mediation is referred or closed, not resolved
    ("resolve", "in_mediation", "mediator"),  # nothing recorded yet
    ("close", "in_mediation", "mediator"),  # nothing recorded yet
    ("close", "in_mediation", "secretary"),
]


@pytest.mark.parametrize("action, stage, actor", NEEDS_AN_OUTCOME)
def test_it_refuses_to_resolve_or_close_without_a_usable_outcome(
    world, time_machine, action, stage, actor
):
    case = STAGES[stage](world)
    before = snapshot(case)
    time_machine.shift(timedelta(hours=1))
    with pytest.raises(ValidationError) as exc:
        act(action, world, case, actor, no_args)
    assert set(exc.value.message_dict) == {"outcome"}
    assert snapshot(case) == before


# --- particular rules ----------------------------------------------------------------------


def test_it_sets_the_first_progress_time_only_once(world, time_machine):
    case = at_assigned(world)
    time_machine.shift(timedelta(hours=2))
    first_at = timezone.now()
    services.case_progress(case=case, actor=world.mediator, note="第一次上门")
    time_machine.shift(timedelta(days=1))
    services.case_progress(case=case, actor=world.mediator, note="第二次上门")
    case.refresh_from_db()
    assert case.first_progress_at == first_at
    flags = list(case.events.filter(kind=K.PROGRESS).values_list("data__first", flat=True))
    assert flags == [True, False]


def test_it_stores_the_mediator_and_assistants_on_assignment(world):
    case = services.case_assign(
        case=at_filed(world), mediator=world.mediator, actor=world.secretary,
        assistants=[world.worker, world.mediator, world.street],
    )  # fmt: skip
    case.refresh_from_db()
    assert case.mediator == world.mediator
    assert case.accepted_at == case.assigned_at == T0  # assigning straight from the queue
    assert set(case.assistants.all()) == {world.worker, world.street}
    event = case.events.get(kind=K.ASSIGNED)
    assert event.data["mediator"] == world.mediator.display_name


def test_it_closes_a_resolved_case_as_substantive(world):
    case = services.case_close(case=at_resolved(world), actor=world.secretary)
    case.refresh_from_db()
    assert (case.close_kind, case.outcome) == (CloseKind.SUBSTANTIVE, Outcome.AGREEMENT)
    assert case.events.get(kind=K.CLOSED).data == {
        "close_kind": CloseKind.SUBSTANTIVE,
        "checked": True,
        "checked_late": False,
    }


def test_it_closes_a_failed_mediation_as_procedural(world):
    case = services.case_close(case=at_failed(world), actor=world.mediator)
    case.refresh_from_db()
    assert (case.close_kind, case.outcome) == (CloseKind.PROCEDURAL, Outcome.FAILED)


def test_it_closes_a_referred_case_as_procedural_without_an_outcome(world):
    case = services.case_close(case=at_referred(world), actor=world.secretary)
    case.refresh_from_db()
    assert (case.close_kind, case.outcome) == (CloseKind.PROCEDURAL, Outcome.FAILED)


def test_it_closes_a_dispute_resolved_on_the_spot_as_substantive(world):
    case = file_case(world, resolved_on_spot=True, outcome_note="当场和解")
    case = services.case_close(case=case, actor=world.worker)
    assert case.close_kind == CloseKind.SUBSTANTIVE


def test_it_clears_the_close_when_a_case_is_reopened(world):
    case = services.case_reopen(case=at_closed(world), actor=world.secretary, reason="反悔")
    case.refresh_from_db()
    assert case.status == S.IN_MEDIATION
    assert (case.close_kind, case.closed_at, case.resolved_at) == ("", None, None)


def test_it_reopens_a_case_without_a_mediator_into_the_queue(world):
    case = services.case_refer(
        case=at_accepted(world), actor=world.secretary, kind=ReferralKind.ARBITRATION,
        note="劳动仲裁",
    )  # fmt: skip
    case = services.case_close(case=case, actor=world.secretary)
    case = services.case_reopen(case=case, actor=world.secretary, reason="仲裁不受理")
    assert case.status == S.ACCEPTED


def test_it_records_where_a_case_is_referred(world):
    case = services.case_refer(
        case=at_in_mediation(world), actor=world.mediator, kind=ReferralKind.DEPARTMENT,
        department=world.department, note="转区住建委",
    )  # fmt: skip
    case.refresh_from_db()
    assert (case.referral_kind, case.referral_department) == (
        ReferralKind.DEPARTMENT,
        world.department,
    )
    litigation = services.case_refer(
        case=at_in_mediation(world), actor=world.mediator, kind=ReferralKind.LITIGATION,
        department=world.department, note="起诉",
    )  # fmt: skip
    litigation.refresh_from_db()
    assert litigation.referral_department is None


def test_it_links_attachments_to_the_attachment_event(world):
    case = services.case_attach(
        case=at_in_mediation(world), actor=world.mediator, files=[png(), jpeg()], note="协议"
    )
    event = case.events.get(kind=K.ATTACHMENT)
    assert event.data == {"count": 2}
    assert sorted(case.attachments.values_list("content_type", flat=True)) == [
        "image/jpeg",
        "image/png",
    ]
    assert set(case.attachments.values_list("event", flat=True)) == {event.pk}
    assert set(case.attachments.values_list("created_at", flat=True)) == {T0}


def test_it_keeps_the_timeline_append_only(world):
    case = file_case(world)
    event = case.events.get()
    event.note = "改写历史"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.note == ""
