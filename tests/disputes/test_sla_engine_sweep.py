"""The SLA sweep, called directly with the clock moved: each breach recorded once, stamped at
its true deadline; the next check time; notifications (one per recipient per breach, email
and SMS through the outbox, held during quiet hours, each message sent once); and a catch-up
after three days without any sweep.

Same scenario and people as test_sla_engine.py."""

from collections import Counter
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django.utils.translation import gettext

import notifications.services
from disputes import services
from disputes.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    HandlingLevel,
    RiskLevel,
    SupervisionCard,
)
from disputes.routing import parent_queue
from disputes.sweep import sla_sweep_step
from grids.models import Assignment, Role
from notifications.backends import MemorySmsBackend
from notifications.delivery import outbox_deliver_due
from notifications.models import Notification, OutboxMessage
from notifications.services import unread_count
from sla import clock
from sla.models import SlaCheck, SlaPolicy
from tests.disputes.test_sla_engine import (
    BREACHES_ONLY,
    DAY,
    HOUR,
    SECOND,
    SH,
    T0,
    World,
    assign_case,
    close,
    file,
    progress,
    staff,
)
from tests.factories import assign as assign_role

pytestmark = pytest.mark.django_db

S = CaseStatus
K = CaseEvent.Kind
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


@pytest.fixture(autouse=True)
def _messages(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.backends.MemorySmsBackend"
    settings.NOTIFY_QUIET_HOURS = (22, 7)
    mail.outbox = []
    MemorySmsBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()


@pytest.fixture
def world():
    return World()


def breaches(case: Case | None = None) -> list[tuple[str, datetime]]:
    events = CaseEvent.objects.filter(kind=K.SLA_BREACH).order_by("at", "id")
    if case is not None:
        events = events.filter(case=case)
    return [(e.data["reason"], e.at) for e in events]


def recipients(kind: str, case: Case | None = None) -> Counter:
    notes = Notification.objects.filter(kind=kind)
    if case is not None:
        notes = notes.filter(case=case)
    return Counter(n.recipient.username for n in notes)


def channels(kind: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for message in OutboxMessage.objects.filter(notification__kind=kind).select_related(
        "notification__recipient"
    ):
        found.setdefault(message.notification.recipient.username, set()).add(message.channel)
    return found


# --- recording breaches -------------------------------------------------------------------------


def forget_handoffs():
    """These tests are about what the sweep tells people: the hand-off notices of arranging
    the case (filed, assigned, …; tested in test_handoffs.py) are cleared first."""
    Notification.objects.all().delete()


def test_it_records_a_missed_deadline_once_stamped_at_the_deadline(world, time_machine):
    case = file(world)
    assert case.sla_check.next_check_at == T0 + 24 * HOUR
    time_machine.shift(25 * HOUR)

    result = sla_sweep_step()

    assert (result.checked, result.breaches, result.skipped) == (1, 1, 0)
    event = case.events.get(kind=K.SLA_BREACH)
    assert (event.at, event.recorded_at, event.actor) == (T0 + 24 * HOUR, T0 + 25 * HOUR, None)
    assert event.data["reason"] == "not_assigned"
    assert datetime.fromisoformat(event.data["deadline"]) == T0 + 24 * HOUR
    assert (event.from_status, event.to_status) == (S.FILED, S.FILED)
    assert event.note == "未按时分配"  # clock.REASONS in Chinese, the default language
    case.refresh_from_db()
    assert case.sla_check.breached_assign
    assert case.sla_check.next_check_at == T0 + 30 * DAY  # the next deadline it can still miss

    again = sla_sweep_step()
    time_machine.shift(HOUR)
    later = sla_sweep_step()
    assert (again.checked, again.breaches, later.checked, later.breaches) == (0, 0, 0, 0)
    assert breaches() == [("not_assigned", T0 + 24 * HOUR)]


def test_it_records_nothing_until_the_deadline_has_passed(world, time_machine):
    case = file(world)
    time_machine.move_to(case.assign_due_at)  # on time to the second: still green
    assert sla_sweep_step().checked == 0
    time_machine.shift(SECOND)
    assert sla_sweep_step().breaches == 1


def test_it_records_every_deadline_of_a_case_in_turn(world, time_machine):
    case = file(world)
    time_machine.move_to(T0 + 25 * HOUR)
    sla_sweep_step()
    time_machine.move_to(T0 + 30 * HOUR)
    case = assign_case(world, case)  # late, the breach already on record
    assert case.sla_check.next_check_at == T0 + 54 * HOUR
    time_machine.move_to(T0 + 55 * HOUR)
    sla_sweep_step()
    time_machine.move_to(T0 + 60 * HOUR)
    case = progress(world, case)
    assert case.sla_check.next_check_at == T0 + 30 * DAY
    time_machine.move_to(T0 + 30 * DAY + MINUTE)
    sla_sweep_step()

    assert breaches(case) == [
        ("not_assigned", T0 + 24 * HOUR),
        ("not_handled", T0 + 54 * HOUR),
        ("past_close", T0 + 30 * DAY),
    ]
    case.refresh_from_db()
    check = case.sla_check
    assert (check.breached_assign, check.breached_first_update, check.breached_close) == (
        True, True, True,
    )  # fmt: skip
    assert case.sla_check.next_check_at is None  # nothing more to miss
    assert (case.assigned_on_time, case.first_update_on_time) == (False, False)


def test_it_records_every_deadline_missed_while_it_was_down_at_once(world, time_machine):
    case = assign_case(world, file(world))
    time_machine.move_to(T0 + 31 * DAY)  # first handling and closing both missed

    assert sla_sweep_step().breaches == 2
    assert breaches(case) == [("not_handled", T0 + 24 * HOUR), ("past_close", T0 + 30 * DAY)]


def test_it_records_a_breach_the_user_made_up_for_before_the_sweep_came(world, time_machine):
    """The sweep was down when the deadline passed, and the step has been done (late) since.
    The breach happened: it is recorded once at the deadline, without chasing anyone and
    without touching what the user did."""
    case = file(world)
    time_machine.move_to(T0 + 25 * HOUR)
    case = assign_case(world, case)
    time_machine.move_to(T0 + 26 * HOUR)
    case = progress(world, case)
    assert case.sla_check.next_check_at == T0 + 24 * HOUR  # armed for the unrecorded breach

    assert sla_sweep_step().breaches == 1

    assert breaches(case) == [("not_assigned", T0 + 24 * HOUR)]
    assert not Notification.objects.filter(kind__startswith="sla_").exists()  # no one to chase
    case.refresh_from_db()
    assert (case.status, case.mediator, case.assigned_at, case.assigned_on_time) == (
        S.IN_MEDIATION, world.mediator, T0 + 25 * HOUR, False,
    )  # fmt: skip
    assert case.sla_check.next_check_at == T0 + 30 * DAY
    assert sla_sweep_step().checked == 0


def test_it_records_a_late_close_made_before_the_sweep_came_without_escalating(world, time_machine):
    SlaPolicy.objects.create(code="auto", name="超期自动上报", category=world.category,
                             auto_escalate_on_red=True, **BREACHES_ONLY)  # fmt: skip
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 31 * DAY)
    case = close(world, case)
    assert case.sla_check.next_check_at == T0 + 30 * DAY

    forget_handoffs()
    assert sla_sweep_step().breaches == 1

    assert breaches(case) == [("past_close", T0 + 30 * DAY)]
    assert not Notification.objects.exists()
    case.refresh_from_db()
    assert (case.status, case.closed_on_time, case.handling_level) == (S.CLOSED, False,
                                                                       "community")  # fmt: skip
    assert not case.events.filter(kind=K.ESCALATED).exists()
    assert case.sla_check.next_check_at is None


def test_it_records_a_new_breach_after_an_approved_extension(world, time_machine):
    case = progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 31 * DAY)
    sla_sweep_step()
    request = services.extension_request(case=case, actor=world.mediator, days=10,
                                         reason="等待鉴定")  # fmt: skip
    services.extension_decide(extension=request, actor=world.street, approve=True)
    case.refresh_from_db()
    assert (case.close_due_at, case.sla_check.breached_close) == (T0 + 40 * DAY, False)
    assert case.sla_check.next_check_at == T0 + 40 * DAY
    time_machine.move_to(T0 + 40 * DAY + SECOND)

    sla_sweep_step()
    sla_sweep_step()

    assert breaches(case) == [("past_close", T0 + 30 * DAY), ("past_close", T0 + 40 * DAY)]


def test_it_pages_through_many_due_cases_in_small_batches(world, time_machine):
    cases = [file(world) for _ in range(23)]
    time_machine.shift(2 * DAY)
    result = sla_sweep_step(batch=5)
    assert (result.checked, result.breaches, result.skipped) == (23, 23, 0)
    recorded = CaseEvent.objects.filter(kind=K.SLA_BREACH).values_list("case_id", flat=True)
    assert Counter(recorded) == {c.pk: 1 for c in cases}


# --- notifications ------------------------------------------------------------------------------


def test_it_tells_the_queue_when_a_case_is_not_assigned(world, time_machine):
    silent = staff(Role.COMMUNITY_SECRETARY, world.tree.communities[0], username="silent",
                   email="", phone="")  # fmt: skip
    case = file(world)
    time_machine.shift(25 * HOUR)
    forget_handoffs()
    sla_sweep_step()
    assert recipients("sla_not_assigned") == {"secretary": 1, "silent": 1}
    assert channels("sla_not_assigned") == {"secretary": {"email", "sms"}}
    assert unread_count(world.secretary) == 1 and unread_count(silent) == 1
    note = Notification.objects.get(recipient=world.secretary)
    title = gettext("%(reason)s: %(number)s") % {"reason": "未按时分配", "number": case.number}
    assert (note.title, note.body) == (title, "楼上卫生间漏水至楼下")
    assert silent.pk and unread_count(world.outsider) == 0


def test_it_tells_the_grid_worker_when_a_grid_case_is_not_assigned(world, time_machine):
    case = file(world, category=world.grid_category)
    assert case.handling_level == HandlingLevel.GRID
    time_machine.shift(25 * HOUR)
    sla_sweep_step()
    assert recipients("sla_not_assigned") == {"worker": 1}
    assert channels("sla_not_assigned") == {"worker": {"email", "sms"}}


def test_it_tells_the_mediator_and_secretary_when_a_case_is_not_handled(world, time_machine):
    assign_case(world, file(world))
    time_machine.shift(25 * HOUR)
    sla_sweep_step()
    assert recipients("sla_not_handled") == {"mediator": 1, "secretary": 1}
    assert channels("sla_not_handled") == {"mediator": {"sms"},
                                           "secretary": {"email", "sms"}}  # fmt: skip


@pytest.mark.parametrize(
    "category, risk, level, told",
    [
        ("grid_category", RiskLevel.ORDINARY, "grid", "secretary"),  # the next queue up
        ("category", RiskLevel.ORDINARY, "community", "street"),
        ("category", RiskLevel.MAJOR, "street", "district"),
        ("category", RiskLevel.SERIOUS, "district", "district"),  # nothing above: its own
    ],
)
def test_it_tells_the_level_above_when_a_case_is_past_its_deadline(
    world, time_machine, category, risk, level, told
):
    case = file(world, category=getattr(world, category), risk_level=risk)
    assert case.handling_level == level
    # The sweep finds the queue above from the ancestors copied onto the case; the services
    # walk the tree. They must agree.
    _level, area = parent_queue(case)
    people = {"secretary": world.secretary, "street": world.street, "district": world.district}
    assert Assignment.objects.filter(user=people[told], area=area or case.handling_area).exists()
    time_machine.move_to(T0 + 31 * DAY)
    sla_sweep_step()
    assert recipients("sla_past_close") == {told: 1}
    assert (
        channels("sla_past_close")
        == {
            "secretary": {"secretary": {"email", "sms"}},
            "street": {"street": {"email"}},
            "district": {"district": {"email", "sms"}},
        }[told]
    )


def test_it_tells_a_person_once_per_breach_whatever_roles_they_hold(world, time_machine):
    assign_role(world.secretary, Role.MEDIATOR, area=world.tree.communities[0])
    case = services.case_assign(case=file(world), mediator=world.secretary, actor=world.secretary)
    time_machine.shift(2 * DAY)
    forget_handoffs()
    sla_sweep_step()
    # Mediator and secretary at once: one notification, one email, one SMS.
    assert recipients("sla_not_handled", case) == {"secretary": 1}
    assert OutboxMessage.objects.filter(notification__case=case).count() == 2


def test_it_skips_inactive_people_and_ended_assignments(world, time_machine):
    assign_case(world, file(world), actor=world.street)
    world.mediator.is_active = False
    world.mediator.save()
    Assignment.objects.filter(user=world.secretary).update(ended_at=T0 + HOUR)
    time_machine.shift(2 * DAY)
    forget_handoffs()
    sla_sweep_step()
    assert CaseEvent.objects.filter(kind=K.SLA_BREACH).count() == 1
    assert not Notification.objects.exists()


def test_it_writes_the_inbox_at_once_but_holds_email_and_sms_in_quiet_hours(
    world, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(datetime(2026, 3, 2, 22, 0, tzinfo=SH))
    file(world)
    time_machine.move_to(datetime(2026, 3, 3, 22, 5, tzinfo=SH))
    forget_handoffs()
    with django_capture_on_commit_callbacks() as callbacks:
        sla_sweep_step()

    assert unread_count(world.secretary) == 1  # the inbox has it now
    morning = datetime(2026, 3, 4, 7, 0, tzinfo=SH)
    assert set(OutboxMessage.objects.values_list("status", "not_before")) == {("pending", morning)}
    assert callbacks == []  # no delivery kick in the night
    assert outbox_deliver_due() == 0
    assert (mail.outbox, MemorySmsBackend.outbox) == ([], [])

    time_machine.move_to(morning - SECOND)
    assert outbox_deliver_due() == 0
    time_machine.move_to(morning)
    assert outbox_deliver_due() == 2
    assert [m.to for m in mail.outbox] == [["secretary@grid.example"]]
    assert [m["phone"] for m in MemorySmsBackend.outbox] == ["13800000002"]
    assert mail.outbox[0].subject.startswith("未按时分配")


@pytest.fixture
def kicks(monkeypatch):
    """Each delivery task started (the real task runs: Celery is eager here)."""
    started = []
    original = notifications.services._deliver

    def counted():
        started.append(timezone.now())
        original()

    monkeypatch.setattr(notifications.services, "_deliver", counted)
    return started


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("escalating", [False, True])
def test_a_tick_starts_one_delivery_task_however_many_batches_and_escalations(
    world, time_machine, celery_eager, kicks, escalating
):
    """Each batch, and each escalation, commits on its own; their email and SMS leave with
    one delivery task at the end of the tick (a storm once queued a task per escalation)."""
    if escalating:
        world.policy.auto_escalate_on_red = True
        world.policy.save()
    for _ in range(5):
        progress(world, assign_case(world, file(world)))
    time_machine.move_to(T0 + 30 * DAY + HOUR, tick=False)  # 10:00, past every close deadline
    forget_handoffs()
    kicks.clear()

    result = sla_sweep_step(batch=2)  # three batches

    assert (result.checked, result.breaches, result.escalated) == (5, 5, 5 * escalating)
    assert len(kicks) == 1
    # Every message went with that one task: the street's per breach, and as many again
    # for the escalations (the street is the new queue).
    sent = Counter(
        OutboxMessage.objects.filter(status="sent").values_list("notification__kind", flat=True)
    )
    assert sent == {"sla_past_close": 5} | ({"escalated": 5} if escalating else {})
    assert not OutboxMessage.objects.exclude(status="sent").exists()


def test_it_sends_each_outbox_message_once_however_often_delivery_runs(world, time_machine):
    assign_case(world, file(world))
    time_machine.shift(25 * HOUR)
    forget_handoffs()
    sla_sweep_step()
    expected = OutboxMessage.objects.count()
    assert expected == 3  # the secretary's email and SMS, the mediator's SMS

    assert outbox_deliver_due() == expected
    assert outbox_deliver_due() == 0
    time_machine.shift(HOUR)
    assert outbox_deliver_due() == 0

    assert len(mail.outbox) + len(MemorySmsBackend.outbox) == expected
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_it_records_a_failed_delivery_and_never_resends_a_stuck_one(world, time_machine, settings):
    file(world)
    time_machine.shift(25 * HOUR)
    forget_handoffs()
    sla_sweep_step()
    email = OutboxMessage.objects.get(channel="email")
    sms = OutboxMessage.objects.get(channel="sms")
    # A worker claimed the email and died before confirming it.
    OutboxMessage.objects.filter(pk=email.pk).update(status="sending", claimed_at=timezone.now())
    settings.SMS_BACKEND = "tests.disputes.test_sla_engine_sweep.BrokenSms"

    assert outbox_deliver_due() == 0
    sms.refresh_from_db()
    assert (sms.status, sms.last_error) == ("failed", "gateway down")
    time_machine.shift(11 * MINUTE)
    assert outbox_deliver_due() == 0
    email.refresh_from_db()
    assert email.status == "failed" and mail.outbox == []


class BrokenSms(MemorySmsBackend):
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionError("gateway down")


# --- a sweep outage -----------------------------------------------------------------------------

OUT = T0  # the last sweep before the outage ran here
BACK = T0 + 3 * DAY  # and the next one here


def build(w: World, n: int, *, grid: int, filed: datetime, assigned: datetime | None = None,
          progressed: datetime | None = None, breached=()) -> Case:  # fmt: skip
    """A case as the services leave it, without calling them for each of a thousand."""
    t = w.tree
    grid_area = t.grids[grid]
    community, street = t.communities[grid // 2], t.streets[grid // 4]
    policy = w.policy
    case = Case(
        number=f"JF2026-{900000 + n}", cause=f"纠纷{n}", address="民生路", area=grid_area,
        district=t.district, street=street, community=community, grid=grid_area,
        category=w.category, risk_level=RiskLevel.ORDINARY, channel=Channel.GRID_WORKER,
        handling_level=HandlingLevel.COMMUNITY, handling_area=community, filed_by=w.worker,
        status=S.FILED, filed_at=filed, sla_policy=policy, **clock.filing_deadlines(policy, filed),
    )  # fmt: skip
    if assigned:
        case.status, case.mediator = S.ASSIGNED, w.mediator
        case.accepted_at = case.assigned_at = assigned
        case.first_update_due_at = clock.first_update_deadline(policy, assigned)
        case.assigned_on_time = assigned <= case.assign_due_at
    if progressed:
        case.status, case.first_progress_at = S.IN_MEDIATION, progressed
        case.first_update_on_time = progressed <= case.first_update_due_at
    for reason in breached:  # recorded by the sweeps before the outage
        setattr(clock.check_of(case), clock.FLAG_FOR[reason], True)
    case.sla_check.next_check_at = clock.next_check_at(case, clock.breached_reasons(case))
    return case


def test_it_catches_up_after_three_days_without_a_sweep(world, time_machine):
    """No sweep from OUT to BACK while 1,000 cases cross deadlines; one catch-up sweep then
    records each breach exactly once, stamped at its true deadline, and tells each recipient
    once per breach; a second sweep adds nothing."""
    t = world.tree
    secretaries = {0: world.secretary}
    for c in range(1, 4):
        secretaries[c] = staff(Role.COMMUNITY_SECRETARY, t.communities[c],
                               username=f"secretary{c}", email=f"s{c}@grid.example")  # fmt: skip
    streets = {0: world.street, 1: staff(Role.STREET_STAFF, t.streets[1], username="street2")}
    window = BACK - OUT
    cases, expected, tell, next_check = [], set(), Counter(), {}

    def add(case, missed, told, after):
        cases.append(case)
        expected.update((case.number, reason, due) for reason, due in missed)
        tell.update((case.number, f"sla_{reason}", user.username)
                    for reason, users in told for user in users)  # fmt: skip
        next_check[case.number] = after

    n = 0
    for k in range(1, 401):  # not assigned in time
        n += 1
        filed = OUT - 24 * HOUR + window * k / 401
        case = build(world, n, grid=k % 8, filed=filed)
        add(case, [("not_assigned", filed + 24 * HOUR)],
            [("not_assigned", [secretaries[k % 8 // 2]])], filed + 30 * DAY)  # fmt: skip
    for k in range(1, 301):  # assigned before the outage, not handled in time
        n += 1
        assigned = OUT - 24 * HOUR + 24 * HOUR * k / 301
        case = build(world, n, grid=k % 8, filed=assigned - 2 * HOUR, assigned=assigned)
        add(case, [("not_handled", assigned + 24 * HOUR)],
            [("not_handled", [world.mediator, secretaries[k % 8 // 2]])],
            assigned - 2 * HOUR + 30 * DAY)  # fmt: skip
    for k in range(1, 201):  # handled, but near their 30 days
        n += 1
        filed = OUT - 30 * DAY + window * k / 201
        case = build(world, n, grid=k % 8, filed=filed, assigned=filed + HOUR,
                     progressed=filed + 2 * HOUR)  # fmt: skip
        add(case, [("past_close", filed + 30 * DAY)],
            [("past_close", [streets[k % 8 // 4]])], None)  # fmt: skip
    for k in range(1, 51):  # near 30 days, assigned late, not handled: red and orange
        n += 1
        filed = OUT - 30 * DAY + window * k / 51
        assigned = OUT - 12 * HOUR
        case = build(world, n, grid=k % 8, filed=filed, assigned=assigned,
                     breached=["not_assigned"])  # fmt: skip
        add(case, [("not_handled", assigned + 24 * HOUR), ("past_close", filed + 30 * DAY)],
            [("not_handled", [world.mediator, secretaries[k % 8 // 2]]),
             ("past_close", [streets[k % 8 // 4]])], None)  # fmt: skip
    for k in range(1, 51):  # never assigned, red during the outage
        n += 1
        filed = OUT - 30 * DAY + window * k / 51
        case = build(world, n, grid=k % 8, filed=filed, breached=["not_assigned"])
        add(case, [("past_close", filed + 30 * DAY)],
            [("past_close", [streets[k % 8 // 4]])], None)  # fmt: skip
    crossing = len(cases)
    for k in range(1, 31):  # assigned late during the outage: recorded, nobody chased
        n += 1
        filed = OUT - 24 * HOUR + window * k / 60
        case = build(world, n, grid=k % 8, filed=filed, assigned=filed + 30 * HOUR,
                     progressed=filed + 31 * HOUR)  # fmt: skip
        add(case, [("not_assigned", filed + 24 * HOUR)], [], filed + 30 * DAY)
    for k in range(1, 41):  # filed during the outage, due after it: nothing yet
        n += 1
        filed = BACK - HOUR * k / 40
        add(build(world, n, grid=k % 8, filed=filed), [], [], filed + 24 * HOUR)
    Case.objects.bulk_create(cases)
    SlaCheck.objects.bulk_create([case.sla_check for case in cases])
    assert crossing == 1000

    time_machine.move_to(OUT)
    assert sla_sweep_step().checked == 0  # the last sweep before the outage had nothing left
    time_machine.move_to(BACK)

    result = sla_sweep_step()

    events = list(CaseEvent.objects.filter(kind=K.SLA_BREACH).select_related("case"))
    found = [(e.case.number, e.data["reason"], e.at) for e in events]
    assert len(found) == len(expected) == 1080
    assert set(found) == expected  # each breach once, at its true deadline
    assert {e.recorded_at for e in events} == {BACK}  # written late, and visibly so
    assert (result.checked, result.breaches, result.skipped) == (1030, 1080, 0)
    notes = Notification.objects.select_related("case", "recipient")
    sent = Counter(
        (n.case.number, n.kind, n.recipient.username) for n in notes.exclude(kind="card_red")
    )
    assert sent == tell  # one per recipient per breach, nobody forgotten
    assert set(sent.values()) == {1}
    # The 50 cases that missed two steps in the outage: the card of the later deadline is
    # red at once, and the level above hears of it (once per person).
    reds = SupervisionCard.objects.filter(colour="red")
    assert reds.count() == 50
    for red in reds:
        [yellow] = SupervisionCard.objects.filter(case_id=red.case_id, colour="yellow")
        assert {yellow.step, red.step} == {"not_handled", "past_close"}
        assert yellow.issued_at < red.issued_at
    red_notes = Counter((n.case_id, n.recipient_id) for n in notes.filter(kind="card_red"))
    assert {case_id for case_id, _r in red_notes} == set(reds.values_list("case_id", flat=True))
    assert set(red_notes.values()) == {1}
    assert {c.number: c.sla_check.next_check_at for c in Case.objects.all()} == next_check

    again = sla_sweep_step()
    assert (again.checked, again.breaches) == (0, 0)
    assert CaseEvent.objects.filter(kind=K.SLA_BREACH).count() == 1080
    assert Notification.objects.exclude(kind="card_red").count() == len(tell)
