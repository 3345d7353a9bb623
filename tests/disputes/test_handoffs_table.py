"""Every declared workflow action, taken by the person who would take it, tells exactly the
people the hand-off rules name (disputes/handoffs.py and the services that notify on their
own), once each, and never the person who acted. Table-driven over `actions.ACTIONS`: a new
action without a row here fails the first test.

Uses the demo district and the case states of test_actions_offered (one seeded world for
the module, each action in a savepoint rolled back)."""

import pytest
from django.db import transaction

from disputes import actions
from disputes.models import Case
from notifications.models import Notification
from tests.disputes.test_actions_offered import valid_input, world  # noqa: F401  (fixture)

# action: (case state, who acts, {notice kind: who is told}); {} = nobody (not a hand-off).
TABLE = {
    "accept": ("filed", "secretary", {"case_accepted": {"gridworker"}}),
    "send_back": ("filed", "secretary", {"case_sent_back": {"gridworker"}}),
    "resubmit": ("sent_back", "gridworker", {"case_resubmitted": {"secretary"}}),
    "assign": ("filed", "secretary", {"case_assigned": {"mediator"}}),
    "progress": ("assigned", "mediator", {"case_progress": {"gridworker"}}),
    "outcome": ("in_mediation", "mediator", {}),
    "resolve": ("in_mediation", "mediator", {"case_resolved": {"secretary"}}),
    "verify": ("resolved", "secretary", {"case_verify_failed": {"mediator"}}),
    "close": (
        "in_mediation_with_outcome", "secretary", {"case_closed": {"gridworker", "mediator"}}
    ),
    "reopen": ("closed", "secretary", {"case_reopened": {"gridworker", "mediator"}}),
    "withdraw": ("filed", "gridworker", {"case_withdrawn": {"secretary"}}),
    "refer": ("in_mediation", "mediator", {"case_referred": {"gridworker", "secretary"}}),
    "attach": ("filed", "gridworker", {}),
    "correct": ("filed", "secretary", {"case_corrected": {"gridworker"}}),
    "escalate": ("filed", "secretary", {"escalated": {"street", "streetleader"}}),
    "raise_risk": ("filed", "secretary", {"escalated": {"street", "streetleader"}}),
    "request_extension": (
        "in_mediation", "mediator", {"extension_requested": {"street", "streetleader"}}
    ),
    "decide_extension": ("pending_extension", "street", {"extension_approved": {"mediator"}}),
    "pause_clock": ("pausable", "mediator", {}),
    "resume_clock": ("paused", "mediator", {}),
    "supervise": ("in_mediation", "street", {"card_issued": {"secretary", "mediator"}}),
    "answer_card": ("supervised", "secretary", {"card_answered": {"street"}}),
    "dispatch": ("in_mediation", "secretary", {"dispatched": {"labour"}}),
    "sign_for": ("dispatched", "labour", {"case_dept_signed": {"secretary"}}),
    "return_to_centre": ("dispatched", "labour", {"case_dept_returned": {"secretary"}}),
    "department_progress": ("department_signed", "labour", {"case_progress": {"gridworker"}}),
    "report_completion": ("department_signed", "labour", {"case_dept_reported": {"secretary"}}),
    "verify_report": ("department_reported", "secretary", {"case_dept_verified": {"labour"}}),
}  # fmt: skip


def test_every_declared_action_has_a_row():
    assert set(TABLE) == set(actions.ACTIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(TABLE))
def test_the_action_tells_exactly_the_next_people_once(world, name):  # noqa: F811
    state, login, expected = TABLE[name]
    actor = world.users[login]
    with transaction.atomic():
        case = Case.objects.get(pk=world.cases[state].pk)
        data = valid_input(name, case, world)
        if name == "assign":
            data["mediator"] = world.users["mediator"]
        last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        actions.ACTIONS[name].perform(case, actor, data)
        notes = list(
            Notification.objects.filter(pk__gt=last).values_list("kind", "recipient__username")
        )
        transaction.set_rollback(True)

    told: dict[str, set[str]] = {}
    for kind, username in notes:
        told.setdefault(kind, set()).add(username)
    assert told == expected
    assert len(notes) == len(set(notes)), f"someone was told twice: {sorted(notes)}"
    assert login not in {username for _kind, username in notes}
