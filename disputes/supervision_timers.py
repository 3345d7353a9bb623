"""The deadlines of checks and supervision cards, through the shared exactly-once timers
(sla/timers.py), each recorded once and stamped at the true deadline:

- a resolution not checked in time → a timeline entry, the unit told, a yellow card;
- a card not answered in time → marked late, a timeline entry, the level above told;
- a yellow card whose step is still overdue, or still unanswered, after the policy's
  threshold → a red card to the unit, its leaders and the level above."""

from datetime import datetime

from django.utils.translation import gettext as _

from common.bulk import insert_rows
from common.choices import OPEN_STATUSES
from notifications.services import ASSIGNER_ROLES, Holders, Message, notify_many
from sla import timers

from .breaches import EVENT_COLUMNS
from .models import Case, CaseEvent, CaseStatus
from .routing import parent_queue_area_id
from .services.supervision import arm_red, issue_auto_cards, reply_due, unit_people
from .supervision_models import CARD_RED_DUE, CARD_REPLY_DUE, VERIFY_DUE, SupervisionCard

S = CaseStatus
Card = SupervisionCard


def _events(kind, rows, now):
    insert_rows(
        CaseEvent,
        EVENT_COLUMNS,
        rows,
        constants={"kind": kind.value, "actor_id": None, "recorded_at": now},
    )


@timers.handler(VERIFY_DUE)
def check_due(due: list[timers.Due], now: datetime) -> None:
    deadlines = {d.object_id: d.due_at for d in due}
    # Locked and re-checked: a check made at this moment committed first (nothing to
    # record) or waits for us.
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("sla_policy", "mediator")
        .filter(pk__in=deadlines, status=S.RESOLVED, verify_due_at__isnull=False)
    )
    if not cases:
        return
    label = str(Card.Step.NOT_VERIFIED.label)
    _events(
        CaseEvent.Kind.VERIFY_OVERDUE,
        [
            (
                c.pk,
                deadlines[c.pk],
                c.status,
                c.status,
                label,
                {"deadline": deadlines[c.pk].isoformat()},
            )
            for c in cases
        ],
        now,
    )
    issue_auto_cards(
        [(c, Card.Step.NOT_VERIFIED, deadlines[c.pk]) for c in cases],
        {c.sla_policy_id: c.sla_policy for c in cases},
        now,
    )
    holders = Holders()
    notify_many(
        Message(
            users=unit_people(c, c.handling_area_id, holders),
            case=c,
            kind="verify_overdue",
            title=_("Resolution not checked in time: %(number)s") % {"number": c.number},
            body=c.cause,
        )
        for c in cases
    )


@timers.handler(CARD_REPLY_DUE)
def reply_overdue(due: list[timers.Due], now: datetime) -> None:
    deadlines = {d.object_id: d.due_at for d in due}
    cards = list(
        Card.objects.select_for_update(of=("self",))
        .select_related("case", "case__sla_policy", "issued_by")
        .filter(pk__in=deadlines, replied_at__isnull=True, replied_late=False)
    )
    if not cards:
        return
    Card.objects.filter(pk__in=[c.pk for c in cards]).update(replied_late=True)
    arm_red(cards, lambda card: card.case.sla_policy)
    label = str(CaseEvent.Kind.CARD_OVERDUE.label)
    _events(
        CaseEvent.Kind.CARD_OVERDUE,
        [(c.case_id, deadlines[c.pk], "", "", label, {"card": c.pk}) for c in cards],
        now,
    )
    holders = Holders()
    holders.prefetch(parent_queue_area_id(c.case) for c in cards)
    messages = []
    for card in cards:
        watchers = [card.issued_by] if card.issued_by_id else []
        watchers += holders.get(parent_queue_area_id(card.case), ASSIGNER_ROLES)
        messages.append(
            Message(
                users=watchers,
                case=card.case,
                kind="card_overdue",
                title=_("Supervision card not answered in time: %(number)s")
                % {"number": card.case.number},
                body=card.note or card.get_step_display(),
            )
        )
    notify_many(messages)


def still_overdue(card: Card) -> bool:
    case = card.case
    step = card.step
    if step == Card.Step.NOT_ASSIGNED:
        return case.status in (S.FILED, S.ACCEPTED)
    if step == Card.Step.NOT_HANDLED:
        return case.status == S.ASSIGNED and case.first_progress_at is None
    if step == Card.Step.PAST_CLOSE:
        return case.status in OPEN_STATUSES
    if step == Card.Step.NOT_VERIFIED:
        return case.status == S.RESOLVED
    return False


@timers.handler(CARD_RED_DUE)
def red_due(due: list[timers.Due], now: datetime) -> None:
    deadlines = {d.object_id: d.due_at for d in due}
    yellows = [
        card
        for card in Card.objects.select_for_update(of=("self",))
        .select_related("case", "case__sla_policy", "case__mediator")
        .filter(pk__in=deadlines, colour=Card.Colour.YELLOW)
        if not card.answered or still_overdue(card)
    ]
    if not yellows:
        return
    already = set(
        Card.objects.filter(
            case_id__in={c.case_id for c in yellows}, colour=Card.Colour.RED
        ).values_list("case_id", "step")
    )
    reds = []
    for yellow in yellows:
        if (yellow.case_id, yellow.step) in already or yellow.step == Card.Step.MANUAL:
            continue
        already.add((yellow.case_id, yellow.step))
        reds.append(
            Card(
                case_id=yellow.case_id,
                colour=Card.Colour.RED,
                step=yellow.step,
                area_id=yellow.area_id,
                issued_at=deadlines[yellow.pk],
                reply_due_at=reply_due(yellow.case.sla_policy, now),
            )
        )
    Card.objects.bulk_create(reds)
    timers.arm_many(CARD_REPLY_DUE, [(c.pk, c.reply_due_at, c.case_id) for c in reds])
    cases = {y.case_id: y.case for y in yellows}
    label = str(Card.Colour.RED.label)
    _events(
        CaseEvent.Kind.CARD_ISSUED,
        [
            (
                c.case_id,
                c.issued_at,
                "",
                "",
                f"{label}：{c.get_step_display()}",
                {"card": c.pk, "colour": c.colour, "step": c.step},
            )
            for c in reds
        ],
        now,
    )
    holders = Holders()
    notify_many(
        Message(
            users=unit_people(cases[c.case_id], c.area_id, holders, above=True),
            case=cases[c.case_id],
            kind="card_red",
            title=_("Red card: %(number)s") % {"number": cases[c.case_id].number},
            body=c.get_step_display(),
        )
        for c in reds
    )
