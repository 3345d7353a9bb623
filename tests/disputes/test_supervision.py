"""Supervision cards (督办): a yellow card with each breach the sweep records, once however the
sweeps overlap or stall; a red one when the step is still overdue (or the card unanswered)
after the threshold; a card by hand from a level above; the unit's answer, on time or late;
the list page and API, scoped."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from common.errors import StateConflict
from disputes import services
from disputes.ledger import TransitionError
from disputes.models import Case, CaseEvent, SupervisionCard
from disputes.sweep import sla_sweep_step
from notifications.models import Notification
from sla import timers
from tests.disputes.test_api import client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
K = CaseEvent.Kind
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def w(seeded, db):  # noqa: F811
    return seeded


def cards(case, **filters):
    return list(SupervisionCard.objects.filter(case=case, **filters).order_by("pk"))


def test_a_missed_assignment_gets_one_yellow_card_through_overlapping_sweeps_and_an_outage(w):
    case = file_case(w)
    due = case.assign_due_at

    for now in (due + HOUR, due + HOUR, due + 2 * HOUR, due + 72 * HOUR):
        sla_sweep_step(now=now)

    [card] = cards(case)
    assert (card.colour, card.step, card.issued_at) == ("yellow", "not_assigned", due)
    assert card.area_id == case.handling_area_id
    assert card.reply_due_at > due + HOUR
    # Told on the breach's own timeline entry (one entry for the sweep to write, not two).
    [breach] = case.events.filter(kind=K.SLA_BREACH)
    assert (breach.data["card"], breach.data["colour"]) == (card.pk, "yellow")
    assert breach.data["reply_due_at"] == card.reply_due_at.isoformat()
    assert not case.events.filter(kind=K.CARD_ISSUED).exists()


def test_a_step_still_overdue_turns_the_card_red_once(w):
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [yellow] = cards(case)
    red_at = yellow.issued_at + 3 * DAY

    assert timers.sweep(now=red_at - HOUR) == 0 or not cards(case, colour="red")
    timers.sweep(now=red_at + HOUR)
    timers.sweep(now=red_at + HOUR)
    timers.sweep(now=red_at + 96 * HOUR)

    [red] = cards(case, colour="red")
    assert (red.step, red.issued_at) == ("not_assigned", red_at)
    told = set(Notification.objects.filter(kind="card_red").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert "secretary" in told and "street" in told  # the unit and the level above


def test_a_step_done_and_a_card_answered_in_time_never_turn_red(w):
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [yellow] = cards(case)
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    services.card_answer(card=yellow, actor=w.secretary, reply="已分派调解员上门")

    timers.sweep(now=yellow.issued_at + 10 * DAY)

    assert not cards(case, colour="red")
    yellow.refresh_from_db()
    assert yellow.answered and not yellow.replied_late


def test_an_unanswered_card_is_marked_late_once(w):
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [yellow] = cards(case)

    timers.sweep(now=yellow.reply_due_at + HOUR)
    timers.sweep(now=yellow.reply_due_at + 48 * HOUR)

    yellow.refresh_from_db()
    assert yellow.replied_late
    assert case.events.filter(kind=K.CARD_OVERDUE).count() == 1


def test_a_level_above_supervises_by_hand_and_the_unit_is_told(w):
    case = file_case(w)
    card = services.card_issue(case=case, actor=w.street, note="请今日内分派", reply_within_days=1)

    assert (card.step, card.issued_by, card.colour) == ("manual", w.street, "yellow")
    assert timers.pending("disputes.card_reply_due", card.pk) == card.reply_due_at
    told = set(Notification.objects.filter(kind="card_issued").values_list(
        "recipient__username", flat=True))  # fmt: skip
    assert "secretary" in told and "street" not in told
    assert case.events.get(kind=K.CARD_ISSUED).note == "请今日内分派"


def test_the_unit_itself_may_not_supervise_and_bad_input_saves_nothing(w):
    case = file_case(w)
    with pytest.raises(PermissionDenied):
        services.card_issue(case=case, actor=w.secretary, note="自己督办自己")
    with pytest.raises(ValidationError) as error:
        services.card_issue(case=case, actor=w.street, note=" ", reply_within_days=99)
    assert set(error.value.message_dict) == {"note", "reply_within_days"}
    assert not cards(case)


def test_a_closed_case_is_not_supervised(w):
    case = file_case(w)
    services.case_withdraw(case=case, actor=w.secretary, reason="当事人撤回")
    with pytest.raises(TransitionError):
        services.card_issue(case=case, actor=w.street, note="督办")


def test_the_unit_answers_and_the_issuer_is_told_but_may_not_answer_itself(w):
    case = file_case(w)
    card = services.card_issue(case=case, actor=w.street, note="请尽快处理")
    with pytest.raises(PermissionDenied):
        services.card_answer(card=card, actor=w.street, reply="自问自答")
    with pytest.raises(PermissionDenied):
        services.card_answer(card=card, actor=w.gridworker2, reply="外人")
    with pytest.raises(ValidationError):
        services.card_answer(card=card, actor=w.secretary, reply="")

    services.card_answer(card=card, actor=w.secretary, reply="已分派，明日上门")

    card.refresh_from_db()
    assert card.reply == "已分派，明日上门" and card.replied_by == w.secretary
    assert Notification.objects.filter(kind="card_answered", recipient=w.street).count() == 1
    with pytest.raises(StateConflict):  # answered already
        services.card_answer(card=card, actor=w.secretary, reply="再答一次")


def test_the_api_supervises_and_answers(w):
    case = file_case(w)
    base = f"/api/v1/cases/{case.pk}"
    refused = client_for(w.secretary).post(f"{base}/supervise/", {"note": "x"}, format="json")
    bad = client_for(w.street).post(f"{base}/supervise/", {"note": ""}, format="json")
    made = client_for(w.street).post(f"{base}/supervise/", {"note": "请尽快"}, format="json")
    assert (refused.status_code, bad.status_code, made.status_code) == (403, 400, 200)

    card = cards(case)[0]
    answer = {"card": card.pk, "reply": "已处理"}
    own = client_for(w.street).post(f"{base}/answer-card/", answer, format="json")
    assert own.status_code == 403
    ok = client_for(w.secretary).post(f"{base}/answer-card/", answer, format="json")
    again = client_for(w.secretary).post(f"{base}/answer-card/", answer, format="json")
    assert ok.status_code == 200 and again.status_code == 409


def test_the_card_list_is_scoped_filtered_and_counted(client, w, django_assert_max_num_queries):
    case = file_case(w)
    services.card_issue(case=case, actor=w.street, note="请尽快")
    other = file_case(w, area=w.other_grid, actor=w.gridworker2)
    services.card_issue(case=other, actor=w.district, note="另一街道")

    client.force_login(w.street)
    with django_assert_max_num_queries(12):
        page = client.get("/cases/supervision/?state=open")
    body = page.content.decode()
    assert case.number in body and other.number not in body
    assert "督办卡" in body

    answered = client.get("/cases/supervision/?state=answered").content.decode()
    assert case.number not in answered

    api = client_for(w.district)
    with django_assert_max_num_queries(8):
        listed = api.get("/api/v1/supervision-cards/").json()
    assert {row["case_number"] for row in listed["results"]} == {case.number, other.number}


def test_the_case_page_shows_the_cards(client, w):
    case = file_case(w)
    services.card_issue(case=case, actor=w.street, note="请尽快")
    client.force_login(w.secretary)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="cards"' in body and "上级督办" in body
    assert 'data-action="answer_card"' in body


def _miss_assignment_then_first_progress(w, time_machine):
    """The unit assigns late, then misses the first progress too: two missed steps."""
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    time_machine.move_to(case.assign_due_at + 2 * HOUR, tick=False)
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    case.refresh_from_db()
    return case, case.first_update_due_at


def test_a_second_missed_step_of_the_same_case_is_a_red_card_at_once(w, time_machine):
    case, due = _miss_assignment_then_first_progress(w, time_machine)
    Notification.objects.all().delete()

    for now in (due + HOUR, due + HOUR, due + 2 * HOUR, due + 72 * HOUR):
        sla_sweep_step(now=now)

    [yellow] = cards(case, colour="yellow")
    [red] = cards(case, colour="red")
    assert (yellow.step, red.step, red.issued_at) == ("not_assigned", "not_handled", due)
    assert red.area_id == case.handling_area_id
    assert case.events.filter(kind=K.SLA_BREACH, data__colour="red", data__card=red.pk).count() == 1
    told = list(Notification.objects.filter(kind="card_red").values_list(
        "recipient__username", flat=True))  # fmt: skip
    # The unit, its leaders and the level above, once each.
    assert "secretary" in told and "street" in told and len(told) == len(set(told))
    # A red card issued at once has no yellow stage left to turn red.
    assert timers.pending("disputes.card_red_due", red.pk) is None
    assert timers.pending("disputes.card_reply_due", red.pk) == red.reply_due_at


def test_a_policy_without_red_on_repeats_keeps_the_second_card_yellow(w, time_machine):
    case, due = _miss_assignment_then_first_progress(w, time_machine)
    case.sla_policy.red_card_on_breach_number = 0
    case.sla_policy.save()

    sla_sweep_step(now=due + HOUR)

    assert [(c.step, c.colour) for c in cards(case)] == [
        ("not_assigned", "yellow"),
        ("not_handled", "yellow"),
    ]
    assert not Notification.objects.filter(kind="card_red").exists()


def test_two_steps_missed_during_one_outage_give_a_yellow_then_a_red(w):
    case = file_case(w)
    services.case_assign(case=case, mediator=w.mediator, actor=w.secretary)
    case.refresh_from_db()

    sla_sweep_step(now=case.close_due_at + DAY)
    sla_sweep_step(now=case.close_due_at + DAY)

    # Assigned in time: the first missed step is the first progress (yellow), then the
    # close (the second of this case: red), each stamped at its own deadline.
    got = [(c.step, c.colour, c.issued_at) for c in cards(case)]
    assert got == [
        ("not_handled", "yellow", case.first_update_due_at),
        ("past_close", "red", case.close_due_at),
    ]


def _red_after_the_answer(w, days=10):
    """A filed case on a policy whose red card comes a while after the answer is due."""
    case = file_case(w)
    case.sla_policy.red_card_after_days = days
    case.sla_policy.save()
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [yellow] = cards(case)
    return case, yellow, yellow.issued_at + days * DAY


def test_a_card_arms_one_timer_and_its_red_one_when_the_answer_is_found_late(w):
    case, yellow, red_at = _red_after_the_answer(w)
    # One timer in the busy tick: the answer's, which comes first.
    assert timers.pending("disputes.card_reply_due", yellow.pk) == yellow.reply_due_at
    assert timers.pending("disputes.card_red_due", yellow.pk) is None

    timers.sweep(now=yellow.reply_due_at + HOUR)
    yellow.refresh_from_db()
    assert yellow.replied_late
    assert timers.pending("disputes.card_red_due", yellow.pk) == red_at

    # Overlapping sweeps, a late one after an outage: red once, at the true time.
    for now in (red_at + HOUR, red_at + HOUR, red_at + 72 * HOUR):
        timers.sweep(now=now)
    [red] = cards(case, colour="red")
    assert red.issued_at == red_at


def test_a_card_answered_in_time_while_the_step_stays_overdue_still_turns_red(w):
    case, yellow, red_at = _red_after_the_answer(w)
    services.card_answer(card=yellow, actor=w.secretary, reply="正在协调调解员")
    assert timers.pending("disputes.card_reply_due", yellow.pk) is None
    assert timers.pending("disputes.card_red_due", yellow.pk) == red_at

    timers.sweep(now=red_at + HOUR)
    timers.sweep(now=red_at + 2 * HOUR)

    [red] = cards(case, colour="red")
    assert red.issued_at == red_at


def test_a_policy_whose_red_comes_before_the_answer_arms_both_timers_at_issue(w):
    _case, yellow, red_at = _red_after_the_answer(w, days=1)
    assert red_at < yellow.reply_due_at
    assert timers.pending("disputes.card_red_due", yellow.pk) == red_at
    assert timers.pending("disputes.card_reply_due", yellow.pk) == yellow.reply_due_at


def test_the_timeline_shows_the_sweeps_card_on_its_breach(client, w):
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [card] = cards(case)
    client.force_login(w.secretary)

    body = client.get(f"/cases/{case.pk}/").content.decode()

    entry = body[body.index('data-event="sla_breach"') :]
    entry = entry[: entry.index("</li>")]
    assert f'data-card="{card.pk}"' in entry and "黄牌" in entry and "反馈期限" in entry


def test_the_rows_a_sweep_writes_without_database_constraints_still_go_with_their_case(w):
    """Cards, timers and notices carry no foreign-key constraint on the case (its check
    locked the case row for every row the sweep writes); Django's cascade still applies."""
    case = file_case(w)
    sla_sweep_step(now=case.assign_due_at + HOUR)
    [card] = cards(case)
    assert Notification.objects.filter(case=case).exists()
    assert timers.pending("disputes.card_reply_due", card.pk) is not None

    Case.objects.filter(pk=case.pk).delete()

    assert not SupervisionCard.objects.filter(pk=card.pk).exists()
    assert not Notification.objects.filter(case_id=case.pk).exists()
    assert timers.pending("disputes.card_reply_due", card.pk) is None
