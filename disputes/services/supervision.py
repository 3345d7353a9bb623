"""Supervision cards (督办卡): issued automatically when a step misses its limit (yellow, by
the sweep in the transaction that records the breach) and when it stays overdue or
unanswered (red, by a timer), or by hand by a level above the handling unit (督办 / 催办);
answered by the unit (反馈). See disputes/supervision_models.py."""

from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.bulk import insert_rows, reserve_ids
from common.errors import StateConflict
from grids.models import Role, User
from notifications.services import ASSIGNER_ROLES, Holders, Message, notify, notify_many
from sla import clock, timers

from .. import permissions
from ..breaches import EVENT_COLUMNS
from ..ledger import append_event, lock_case, require, require_status
from ..models import OPEN_STATUSES, Case, CaseEvent, CaseStatus
from ..routing import parent_queue_area_id
from ..supervision_models import CARD_RED_DUE, CARD_REPLY_DUE, SupervisionCard

Card = SupervisionCard
DEFAULT_REPLY_DAYS = 3


def reply_due(policy, now: datetime) -> datetime:
    days = policy.card_reply_within_days if policy else DEFAULT_REPLY_DAYS
    return clock.after_days(policy, now, days)


def issue_auto_cards(
    breaches: list[tuple], policies: dict, now: datetime, *, on_events: dict | None = None
) -> int:
    """Cards for breaches the sweep has just recorded: (case, step, deadline) each, the case
    carrying handling_area_id and sla_policy_id. One card per case and step: a step that
    breaches again (after a reopening) keeps its first card. Yellow, unless the same unit
    has now missed the policy's n-th step of this case (督办 escalates on repeats): then red
    at once, and the unit's leaders and the level above are told. Stamped at the deadline,
    like the breach; the answer is due counted from now (when the unit can first see it),
    a yellow card's red one from the deadline.

    `on_events` maps (case id, step) to the data of the breach's own timeline entry, not
    written yet: the card is told there (the sweep's cards), not by a second entry; a
    10,000-case tick wrote 10,000 entries more, and checked their foreign keys, for it."""
    if not breaches:
        return 0
    case_ids = {case.pk for case, _step, _due in breaches}
    # The steps already carded on each case (any colour, not 督办 by hand), and those the
    # case's present unit missed: per case, so a batch of 10,000 is one pass.
    carded: dict[int, set[str]] = {}
    by_unit: dict[tuple[int, int], set[str]] = {}
    for case_id, step, area_id in (
        Card.objects.filter(case_id__in=case_ids)
        .exclude(step=Card.Step.MANUAL)
        .values_list("case_id", "step", "area_id")
    ):
        carded.setdefault(case_id, set()).add(step)
        by_unit.setdefault((case_id, area_id), set()).add(step)
    cards, cases, replies = [], {}, {}
    for case, step, due in sorted(breaches, key=lambda b: b[2]):
        steps_of_case = carded.setdefault(case.pk, set())
        if step in steps_of_case:
            continue
        steps_of_case.add(step)
        unit = by_unit.setdefault((case.pk, case.handling_area_id), set())
        unit.add(step)
        policy = policies.get(case.sla_policy_id)
        nth = policy.red_card_on_breach_number if policy else 0
        if case.sla_policy_id not in replies:  # the same for every card of a policy now
            replies[case.sla_policy_id] = reply_due(policy, now)
        cases[case.pk] = case
        cards.append(
            AutoCard(
                pk=0,
                case_id=case.pk,
                colour=Card.Colour.RED if nth and len(unit) >= nth else Card.Colour.YELLOW,
                step=step,
                area_id=case.handling_area_id,
                issued_at=due,
                reply_due_at=replies[case.sla_policy_id],
            )
        )
    cards = _insert_cards(cards)
    _arm_timers(cards, policies, cases)
    steps = {value: str(text) for value, text in Card.Step.choices}
    colours = {value: str(text) for value, text in Card.Colour.choices}
    on_events = on_events or {}
    rows = []
    for c in cards:
        data = _card_data(c)
        breach = on_events.get((c.case_id, c.step))
        if breach is not None:
            breach.update(data)
        else:
            rows.append(
                (c.case_id, c.issued_at, "", "", f"{colours[c.colour]}：{steps[c.step]}", data)
            )
    insert_rows(
        CaseEvent,
        EVENT_COLUMNS,
        rows,
        constants={"kind": CaseEvent.Kind.CARD_ISSUED.value, "actor_id": None, "recorded_at": now},
    )
    reds = [c for c in cards if c.colour == Card.Colour.RED]
    if reds:
        # A yellow card rides on the breach notice the same people get; a red one is news
        # for the level above, which the breach notice does not reach.
        # (The sweep's cases are light rows: the people to tell need the whole case.)
        full = Case.objects.select_related("mediator").in_bulk({c.case_id for c in reds})
        holders = Holders()
        notify_many(
            Message(
                users=unit_people(full[c.case_id], c.area_id, holders, above=True),
                case=full[c.case_id],
                kind="card_red",
                title=_("Red card: %(number)s") % {"number": full[c.case_id].number},
                body=_("%(step)s — the unit's repeated delay on this case.")
                % {"step": steps[c.step]},
            )
            for c in reds
        )
    return len(cards)


class AutoCard(NamedTuple):
    """A card the sweep issues, as the row it writes (10,000 in a busy tick: model instances
    cost seconds of Python, see benchmarks/bench_sla.py)."""

    pk: int
    case_id: int
    colour: str
    step: str
    area_id: int
    issued_at: datetime
    reply_due_at: datetime


CARD_COLUMNS = ("id", "case_id", "colour", "step", "area_id", "issued_at", "reply_due_at")


def _insert_cards(cards: list[AutoCard]) -> list[AutoCard]:
    """Write the cards in one statement; returns them with their ids."""
    if connection.vendor == "postgresql":
        ids = reserve_ids(Card, len(cards)) if cards else []
        cards = [card._replace(pk=pk) for card, pk in zip(cards, ids, strict=True)]
        insert_rows(
            Card,
            CARD_COLUMNS,
            cards,
            constants={
                "note": "",
                "issued_by_id": None,
                "reply": "",
                "replied_at": None,
                "replied_by_id": None,
                "replied_late": False,
            },
        )
        return cards
    made = Card.objects.bulk_create(
        [Card(**{k: v for k, v in card._asdict().items() if k != "pk"}) for card in cards]
    )
    return [card._replace(pk=row.pk) for card, row in zip(cards, made, strict=True)]


def _card_data(card) -> dict:
    return {
        "card": card.pk,
        "colour": card.colour,
        "step": card.step,
        "reply_due_at": card.reply_due_at.isoformat(),
    }


def _arm_timers(cards: list[AutoCard], policies: dict, cases: dict) -> None:
    """The answer's timer; a yellow card's turn to red only when it comes first. As a rule
    the answer is due first, and the red timer is armed when the answer is given or found
    late (arm_red), both before the red time: one timer per card in a busy tick, not two."""
    timers.arm_many(CARD_REPLY_DUE, [(c.pk, c.reply_due_at, c.case_id) for c in cards])
    red = []
    for card in cards:
        policy = policies.get(cases[card.case_id].sla_policy_id)
        at = red_time(card, policy)
        if at is not None and at < card.reply_due_at:
            red.append((card.pk, at, card.case_id))
    timers.arm_many(CARD_RED_DUE, red)


def red_time(card, policy) -> datetime | None:
    """When a yellow automatic card turns red if its step is still overdue or it is still
    unanswered; None for other cards."""
    if card.colour != Card.Colour.YELLOW or card.step == Card.Step.MANUAL:
        return None
    days = policy.red_card_after_days if policy else DEFAULT_REPLY_DAYS
    return clock.after_days(policy, card.issued_at, days)


def arm_red(cards: list, policy_of) -> None:
    """Arm the red timers of yellow cards answered or found late (policy_of(card) gives its
    case's policy); a timer armed already (at issue, or by the other path) stays as it is."""
    items = []
    for card in cards:
        at = red_time(card, policy_of(card))
        if at is not None:
            items.append((card.pk, at, card.case_id))
    timers.arm_once(CARD_RED_DUE, items)


def unit_people(case: Case, area_id: int, holders: Holders, *, above: bool = False) -> list:
    """The unit answerable for a card and its leaders; with `above`, the level above too
    (a red card reaches the leaders of the level above)."""
    roles = (*ASSIGNER_ROLES, Role.GRID_WORKER) if case.handling_level == "grid" else ASSIGNER_ROLES
    areas = [area_id]
    if above:
        areas.append(parent_queue_area_id(case))
    holders.prefetch(areas)
    people = [u for a in areas for u in holders.get(a, roles)]
    if case.mediator_id:
        people.append(case.mediator)
    return people


@transaction.atomic
def card_issue(*, case: Case, actor: User, note: str, reply_within_days: int | None = None) -> Card:
    """督办 by hand: a level above the handling unit asks it to act and answer by a date."""
    case = lock_case(case)
    require(permissions.approves_extensions(actor, case))
    require_status(case, [*OPEN_STATUSES, CaseStatus.RESOLVED], _("supervised"))
    note = (note or "").strip()
    errors = {}
    if not note:
        errors["note"] = [_("Say what must be done.")]
    if reply_within_days is not None and not 1 <= reply_within_days <= 30:
        errors["reply_within_days"] = [_("Between 1 and 30 days.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    policy = case.sla_policy
    if reply_within_days:
        due = clock.after_days(policy, now, reply_within_days)
    else:
        due = reply_due(policy, now)
    card = Card.objects.create(
        case=case,
        colour=Card.Colour.YELLOW,
        step=Card.Step.MANUAL,
        area_id=case.handling_area_id,
        note=note,
        issued_by=actor,
        issued_at=now,
        reply_due_at=due,
    )
    timers.arm(CARD_REPLY_DUE, card.pk, due, case_id=case.pk)
    append_event(
        case, kind=CaseEvent.Kind.CARD_ISSUED, actor=actor, note=note, data=_card_data(card)
    )
    people = {u.pk: u for u in unit_people(case, case.handling_area_id, Holders())}
    people.pop(actor.pk, None)
    notify(
        users=people.values(),
        case=case,
        kind="card_issued",
        title=_("Supervised by a level above: %(number)s") % {"number": case.number},
        body=note,
    )
    return card


def may_answer(user, card: Card) -> bool:
    """The unit answers: the case's handlers, or staff of the card's unit itself (not a level
    above, which issued or watches it)."""
    if card.answered or card.issued_by_id == user.pk:
        return False
    case = card.case
    if permissions.is_handler(user, case):
        return True
    return permissions.staff_of(user, card.area_id)


@transaction.atomic
def card_answer(*, card: Card, actor: User, reply: str) -> Card:
    case = lock_case(card.case)
    card = Card.objects.select_for_update().get(pk=card.pk)
    card.case = case
    if (
        card.answered
    ):  # answered meanwhile (by a colleague, or a second tap): not an error of rights
        raise StateConflict(_("This card has already been answered."))
    require(may_answer(actor, card))
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": [_("Write the answer: what was done, what comes next.")]})
    now = timezone.now()
    card.reply, card.replied_at, card.replied_by = reply, now, actor
    card.replied_late = card.replied_late or now > card.reply_due_at
    card.save(update_fields=["reply", "replied_at", "replied_by", "replied_late"])
    timers.disarm(CARD_REPLY_DUE, card.pk)
    arm_red([card], lambda _card: case.sla_policy)
    append_event(
        case,
        kind=CaseEvent.Kind.CARD_ANSWERED,
        actor=actor,
        note=reply,
        data={"card": card.pk, "late": card.replied_late},
    )
    watchers = [card.issued_by] if card.issued_by_id else []
    if not watchers:
        holders = Holders()
        above = parent_queue_area_id(case)
        holders.prefetch([above])
        watchers = holders.get(above, ASSIGNER_ROLES)
    notify_many(
        [
            Message(
                users=[w for w in watchers if w.pk != actor.pk],
                case=case,
                kind="card_answered",
                title=_("Supervision card answered: %(number)s") % {"number": case.number},
                body=reply,
            )
        ]
    )
    return card
