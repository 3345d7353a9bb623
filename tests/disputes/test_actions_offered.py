"""What a page offers is exactly what would succeed: for every declared workflow action ×
every demo login × every status a case can be in, the action is offered (on the case page,
the API answers the same services) if and only if its service accepts it with valid input.

The demo district is seeded once for the module; each attempt runs in a savepoint that is
rolled back, so every (login, action) pair meets the case exactly as built."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404

from common.errors import StateConflict
from disputes import actions, selectors, services
from disputes.demo import seed_categories
from disputes.models import Case, CaseStatus, Category, RiskLevel
from grids.demo import USERS
from grids.demo import seed as seed_people
from grids.models import Area, Department, User
from sla.models import SlaPolicy
from tests.disputes.test_services import image_bytes

LOGINS = [username for username, *_rest in USERS]


class World:
    def __init__(self):
        seed_people()
        seed_categories()
        self.users = {u.username: u for u in User.objects.filter(username__in=LOGINS)}
        self.grid = Area.objects.get(code="500103001001G01")
        self.micro = Area.objects.get(code="500103001001G01M01")
        self.wages = Category.objects.get(code="1001")
        self.leak = Category.objects.get(code="0203")
        self.department = Department.objects.get(code="HRSS")
        # Judicial confirmation pauses the clock only under a policy that says so.
        self.pausing = SlaPolicy.objects.create(
            code="judicial-test", name="司法确认暂停", pause_for_judicial_review=True
        )
        self.cases = {name: build(self) for name, build in STATES.items()}


def u(w, name):
    return w.users[name]


def _file(w, **extra):
    data = {
        "actor": u(w, "gridworker"), "channel": "grid_worker", "area": w.micro,
        "category": w.leak, "cause": "楼上漏水", "address": "民生路12号",
        "parties": [{"side": "applicant", "name": "李秀英", "phone": "13800001111"}],
    } | extra  # fmt: skip
    return services.case_file(**data)


def _assigned(w):
    case = _file(w)
    return services.case_assign(case=case, mediator=u(w, "mediator"), actor=u(w, "secretary"))


def _in_mediation(w):
    case = _assigned(w)
    return services.case_progress(case=case, actor=u(w, "mediator"), note="已上门")


def _with_outcome(w):
    case = _in_mediation(w)
    return services.case_record_outcome(case=case, actor=u(w, "mediator"), outcome="agreement")


def _resolved(w):
    return services.case_resolve(case=_in_mediation(w), actor=u(w, "mediator"), outcome="partial")


def _pausable(w):
    case = _in_mediation(w)
    Case.objects.filter(pk=case.pk).update(sla_policy=w.pausing)
    return case


def _paused(w):
    case = _pausable(w)
    return services.case_pause_clock(case=Case.objects.get(pk=case.pk), actor=u(w, "mediator"))


def _pending_extension(w):
    case = _in_mediation(w)
    services.extension_request(case=case, actor=u(w, "mediator"), days=10, reason="外出务工")
    return case


def _dispatched(w):
    case = _in_mediation(w)
    return services.case_dispatch(
        case=case, actor=u(w, "secretary"), department=w.department, note="请人社局牵头"
    )


def _signed(w):
    case = _dispatched(w)
    services.task_sign(case=case, actor=u(w, "labour"))
    return case


def _reported(w):
    case = _signed(w)
    services.task_report(case=case, actor=u(w, "labour"), note="已督促企业支付工资")
    return case


def _returned(w):
    case = _dispatched(w)
    services.task_return(case=case, actor=u(w, "labour"), reason="不属于本部门职责")
    return case


STATES = {
    "filed": _file,
    "accepted": lambda w: services.case_accept(case=_file(w), actor=u(w, "secretary")),
    "sent_back": lambda w: services.case_send_back(
        case=_file(w), actor=u(w, "secretary"), reason="地址不全"
    ),
    "assigned": _assigned,
    "in_mediation": _in_mediation,
    "in_mediation_with_outcome": _with_outcome,
    "pausable": _pausable,
    "paused": _paused,
    "pending_extension": _pending_extension,
    "resolved": _resolved,
    "closed": lambda w: services.case_close(case=_resolved(w), actor=u(w, "secretary")),
    "withdrawn": lambda w: services.case_withdraw(
        case=_file(w), actor=u(w, "gridworker"), reason="当事人已和解"
    ),
    "referred": lambda w: services.case_refer(
        case=_in_mediation(w), actor=u(w, "mediator"), kind="litigation", note="起诉"
    ),
    "street_level": lambda w: _file(w, category=w.wages, risk_level=RiskLevel.MAJOR),
    "district_level": lambda w: _file(w, category=w.wages, risk_level=RiskLevel.SERIOUS),
    "on_the_spot": lambda w: _file(w, resolved_on_spot=True, outcome_note="现场调解"),
    "dispatched": _dispatched,
    "department_signed": _signed,
    "department_reported": _reported,
    "department_returned": _returned,
    "supervised": lambda w: (
        services.card_issue(
            case=_in_mediation(w), actor=u(w, "street"), note="请本周内调处完毕"
        ).case
    ),
}


def valid_input(name: str, case: Case, w: World) -> dict:
    """Input the service would take, so that only who and when can refuse it."""
    note = {"note": "已处理"}
    reason = {"reason": "情况说明"}
    candidates = list(selectors.mediator_candidates(case=case)[:1])
    pending = case.extensions.filter(status="pending").first()
    card = case.supervision_cards.filter(replied_at__isnull=True).order_by("issued_at").first()
    higher = {RiskLevel.ORDINARY: RiskLevel.MAJOR, RiskLevel.MAJOR: RiskLevel.SERIOUS}
    photo = SimpleUploadedFile("a.png", image_bytes("PNG"), content_type="image/png")
    return {
        "accept": note, "resubmit": note, "close": note, "pause_clock": note,
        "resume_clock": note, "send_back": reason, "reopen": reason, "withdraw": reason,
        "escalate": reason,
        "assign": {"mediator": candidates[0] if candidates else u(w, "mediator"),
                   "assistants": [], "note": ""},
        "progress": {"note": "电话回访", "photos": []},
        "outcome": {"outcome": "agreement", "note": ""},
        "resolve": {"outcome": "agreement", "note": ""},
        "refer": {"kind": "litigation", "note": "起诉", "department": None},
        "attach": {"files": [photo], "note": ""},
        "raise_risk": {"risk_level": higher.get(case.risk_level, RiskLevel.SERIOUS),
                       "reason": "人数增加"},
        "dispatch": {"department": w.department, "note": "请人社局牵头"},
        "request_extension": {"days": 10, "reason": "当事人外出"},
        "decide_extension": {"extension": pending.pk if pending else 0,
                             "decision": "approve", "note": ""},
        "sign_for": note, "return_to_centre": reason,
        "department_progress": {"note": "已约谈企业", "photos": []},
        "report_completion": {"note": "工资已发放", "photos": [photo]},
        "verify_report": {"decision": "fail", "note": "缺少付款凭证"},
        "verify": {"passed": False, "note": "当事人称尚未付款"},
        "supervise": {"note": "请尽快处理", "reply_within_days": 2},
        "answer_card": {"card": card.pk if card else 0, "reply": "已上门处理"},
        "correct": {"reason": "门牌号写错", "address": "民生路14号"},
    }[name]  # fmt: skip


def accepted(name: str, user, case_pk: int, w: World) -> tuple[bool, str]:
    """Whether the service takes the action now; always rolled back."""
    with transaction.atomic():
        case = Case.objects.get(pk=case_pk)
        try:
            actions.ACTIONS[name].perform(case, user, valid_input(name, case, w))
            result = True, ""
        except (PermissionDenied, StateConflict, Http404):
            result = False, ""
        except ValidationError as exc:
            # Refused for its input although who and when were right: a broken scenario,
            # or a service that checks input before permission (a 400 where a 403 is due).
            result = False, f"ValidationError {exc.messages}"
        transaction.set_rollback(True)
    return result


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield World()
        transaction.set_rollback(True)


def test_it_covers_every_declared_action_and_every_status():
    assert set(actions.ACTIONS) == {
        "accept", "assign", "send_back", "resubmit", "progress", "outcome", "resolve", "close",
        "reopen", "refer", "withdraw", "attach", "escalate", "raise_risk", "dispatch",
        "request_extension", "decide_extension", "pause_clock", "resume_clock",
        "sign_for", "return_to_centre", "department_progress", "report_completion",
        "verify_report", "verify", "correct", "supervise", "answer_card",
    }  # fmt: skip
    built = {s for s in CaseStatus.values}
    assert {"filed", "accepted", "sent_back", "assigned", "in_mediation", "resolved", "closed",
            "withdrawn", "referred"} == built  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(STATES))
@pytest.mark.parametrize("login", LOGINS)
def test_an_action_is_offered_exactly_when_its_service_accepts_it(world, login, state):
    case = world.cases[state]
    user = User.objects.get(pk=world.users[login].pk)  # a fresh scope cache per test
    try:
        shown = selectors.case_detail(user=user, pk=case.pk)
        offered = set(actions.available_names(user, shown))
    except Case.DoesNotExist:
        shown, offered = None, set()  # not visible: every edge answers 404
    mismatches = []
    for name in actions.ACTIONS:
        ok, why = accepted(name, user, case.pk, world)
        if shown is None and not ok:
            continue
        if (name in offered) != ok:
            mismatches.append((name, "offered" if name in offered else "not offered", ok, why))
    assert mismatches == [], f"{login} on a {state} case: {mismatches}"


@pytest.mark.django_db
def test_the_states_are_what_their_names_say(world):
    status = {name: Case.objects.get(pk=c.pk).status for name, c in world.cases.items()}
    assert status["in_mediation_with_outcome"] == CaseStatus.IN_MEDIATION
    assert status["paused"] == CaseStatus.IN_MEDIATION
    assert Case.objects.get(pk=world.cases["paused"].pk).clock_paused_at is not None
    assert status["pending_extension"] == CaseStatus.IN_MEDIATION
    assert status["on_the_spot"] == CaseStatus.RESOLVED
    assert {status[s] for s in CaseStatus.values if s in status} == {
        s for s in CaseStatus.values if s in status
    }
    assert Case.objects.get(pk=world.cases["district_level"].pk).handling_level == "district"
