"""Every hand-off reaches the next person at once (in the inbox, inside the same
transaction; email/SMS through the outbox): the demo district, a wage-arrears case filed by
the grid worker, handled by the community."""

import pytest

from disputes import services
from disputes.demo import seed_categories
from disputes.models import Category, Outcome
from grids.demo import seed as seed_people
from grids.models import Area, User
from notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


class Demo:
    def __init__(self):
        seed_people()
        seed_categories()
        self.u = {u.username: u for u in User.objects.all()}
        self.micro = Area.objects.get(code="500103001001G01M01")
        self.wages = Category.objects.get(code="1001")  # led by the labour bureau (HRSS)

    def file(self):
        return services.case_file(
            actor=self.u["gridworker"], area=self.micro, category=self.wages,
            cause="拖欠12名工人工资", address="民生路88号", channel="grid_worker",
            parties=[{"side": "applicant", "name": "陈建国"}],
        )  # fmt: skip


@pytest.fixture
def demo():
    return Demo()


def told(kind: str) -> set[str]:
    """Who got the inbox notice of this kind (one row per person per event)."""
    rows = Notification.objects.filter(kind=f"case_{kind}").values_list(
        "recipient__username", flat=True
    )
    names = list(rows)
    assert len(names) == len(set(names)), f"someone got {kind} twice: {names}"
    return set(names)


def test_filing_tells_the_unit_that_assigns_and_the_lead_department(demo):
    case = demo.file()

    assert told("filed") == {"secretary", "labour"}
    note = Notification.objects.get(kind="case_filed", recipient=demo.u["secretary"])
    assert case.number in note.title and "拖欠12名工人工资" in note.body
    # Email/SMS wait in the outbox for those with an address (the secretary has a phone).
    assert OutboxMessage.objects.filter(notification=note).exists()


def test_accepting_and_sending_back_tell_the_filer(demo):
    case = services.case_accept(case=demo.file(), actor=demo.u["secretary"])
    assert told("accepted") == {"gridworker"}

    services.case_send_back(case=case, actor=demo.u["secretary"], reason="缺少当事人电话")
    assert told("sent_back") == {"gridworker"}
    assert "缺少当事人电话" in Notification.objects.get(kind="case_sent_back").body

    services.case_resubmit(case=case, actor=demo.u["gridworker"], note="已补充")
    assert told("resubmitted") == {"secretary", "labour"}


def test_assigning_tells_the_mediator_and_the_assisting_staff_not_the_assigner(demo):
    services.case_assign(
        case=demo.file(), actor=demo.u["secretary"], mediator=demo.u["mediator"],
        assistants=[demo.u["gridworker"]],
    )  # fmt: skip

    assert told("assigned") == {"mediator", "gridworker"}


def test_progress_tells_the_filer_and_resolving_tells_who_closes(demo):
    case = services.case_assign(case=demo.file(), actor=demo.u["secretary"],
                                mediator=demo.u["mediator"])  # fmt: skip
    case = services.case_progress(case=case, actor=demo.u["mediator"], note="已电话联系双方")
    assert told("progress") == {"gridworker"}

    services.case_resolve(case=case, actor=demo.u["mediator"], outcome=Outcome.AGREEMENT)
    assert told("resolved") == {"secretary"}


def test_closing_reopening_and_withdrawing_tell_filer_mediator_and_unit(demo):
    case = services.case_assign(case=demo.file(), actor=demo.u["secretary"],
                                mediator=demo.u["mediator"])  # fmt: skip
    case = services.case_progress(case=case, actor=demo.u["mediator"], note="调解中")
    case = services.case_resolve(case=case, actor=demo.u["mediator"], outcome=Outcome.AGREEMENT)
    case = services.case_close(case=case, actor=demo.u["secretary"])  # the check passed
    assert told("closed") == {"gridworker", "mediator"}  # the secretary closed it herself

    services.case_reopen(case=case, actor=demo.u["secretary"], reason="当事人反映未履行")
    assert told("reopened") == {"gridworker", "mediator"}

    other = demo.file()
    services.case_withdraw(case=other, actor=demo.u["gridworker"], reason="当事人撤回")
    assert told("withdrawn") == {"secretary"}


def test_nobody_is_told_of_their_own_action(demo):
    secretary = demo.u["secretary"]
    case = services.case_file(
        actor=secretary, area=demo.micro, category=demo.wages, cause="欠薪",
        address="民生路1号", channel="grid_worker", parties=[{"side": "applicant", "name": "甲"}],
    )  # fmt: skip

    assert told("filed") == {"labour"}
    services.case_assign(case=case, actor=secretary, mediator=secretary)
    assert told("assigned") == set()
