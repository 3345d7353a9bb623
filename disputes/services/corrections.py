"""Correcting an open case's record (更正): its address, description, parties, area and type,
always with a reason, as one timeline entry that lists every field before and after.

Who may correct: whoever runs the case now (its mediator, or staff of the handling unit or
a level above it: permissions.is_manager, which for a grid-level case includes that grid's
worker), and the filer while the case has not been taken up yet (submitted or sent back to
them), as for withdrawing it. Assisting staff may not: they help, the record is not theirs.

A new type or area re-routes the case as routing would place a new filing, except that a
case moved up by hand (escalated) stays at least at the level it reached. The mediator and
the status stay: the work in hand goes on. The deadlines already running stay too, since
the time limits pinned at filing are the case's rules; only the level above the handling
unit (who approves extensions) may apply the new type's time limits, counted again from
when each running step's clock started."""

from datetime import datetime, timedelta

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from common.limits import TEXT_MAX, too_long
from grids.models import Area, User, mask_phone
from notifications.services import ASSIGNER_ROLES, holders, notify
from sla import clock

from .. import permissions
from ..ledger import (
    append_event,
    lock_case,
    record_missed_breaches,
    require,
    require_status,
    save_case,
)
from ..models import OPEN_STATUSES, Case, CaseEvent, CaseStatus, Category, Party
from ..routing import AREA_TO_HANDLING, HANDLING_ORDER, QUEUE_AREA_LEVELS, ancestor_ids, route
from .filing import validate_parties

S = CaseStatus
K = CaseEvent.Kind
ADDRESS_MAX = Case._meta.get_field("address").max_length
PARTY_FIELDS = ("side", "kind", "name", "phone", "id_number", "address", "relationship")
# Shown masked in the timeline, which everyone who sees the case reads (the parties' list
# masks them too until a reader asks, and that is recorded).
MASKED = ("phone", "id_number")
# The copied ancestor columns follow the area.
ANCESTORS = ("district", "street", "community", "grid")
# deadline field → (the SlaCheck flag of its breach, the step that stops its clock)
DEADLINES = {
    "assign_due_at": ("breached_assign", "assigned_at"),
    "first_update_due_at": ("breached_first_update", "first_progress_at"),
    "close_due_at": ("breached_close", None),
}


class CorrectionConflict(StateConflict):
    """The case changed after the corrector opened it (HTTP 409); nothing was saved."""

    def __init__(self):
        super().__init__(
            _(
                "Someone changed this case after you opened it. Look at it again and correct "
                "what is still wrong."
            )
        )


def may_correct(user, case: Case) -> bool:
    """Who may correct this case in its current status (the action's rule and the service's
    check; the status itself is checked apart, a closed case is a conflict)."""
    return (
        case.mediator_id == user.pk
        or permissions.is_manager(user, case)
        or (case.filed_by_id == user.pk and case.status in (S.FILED, S.SENT_BACK))
    )


@transaction.atomic
def case_correct(
    *,
    case: Case,
    actor: User,
    reason: str,
    address: str | None = None,
    description: str | None = None,
    area: Area | None = None,
    category: Category | None = None,
    parties: list[dict] | None = None,
    apply_new_limits: bool = False,
    expected_updated_at: datetime | None = None,
) -> Case:
    """Correct the fields given (None: unchanged). `parties` is the whole new list: an entry
    with the `id` of one of the case's parties changes it, one without an id adds a party,
    and a party left out is removed. `expected_updated_at` is the case's `updated_at` as the
    corrector saw it (the page's form carries it): if the case changed since, the
    correction is a conflict rather than a silent undoing of the other change."""
    case = lock_case(case)
    require(may_correct(actor, case))
    require_status(case, OPEN_STATUSES, _("corrected"))
    if expected_updated_at is not None and case.updated_at != expected_updated_at:
        raise CorrectionConflict()
    if apply_new_limits:
        require(permissions.approves_extensions(actor, case))
    wanted = _validated(
        case,
        actor,
        reason=reason,
        address=address,
        description=description,
        area=area,
        category=category,
        parties=parties,
        apply_new_limits=apply_new_limits,
    )
    old_area, old_category, old_unit = case.area, case.category, case.handling_area
    changes = _apply_fields(case, wanted)
    party_changes = _apply_parties(case, wanted["parties"]) if "parties" in wanted else {}
    if not changes and not party_changes:
        raise ValidationError({NON_FIELD_ERRORS: [_("Nothing was changed: correct a field.")]})
    fields = [c["field"] for c in changes]
    if "area" in fields or "category" in fields:
        changes += _reroute(case, old_area=old_area, old_category=old_category)
    if apply_new_limits:
        changes += _apply_new_limits(case)
    save_case(case, *(c["field"] for c in changes), *_ancestors_changed(fields))
    data = {
        "changes": changes,
        "rerouted": case.handling_area_id != old_unit.pk,
        "new_time_limits": apply_new_limits,
    }
    if party_changes:
        data["parties"] = party_changes
    event = append_event(
        case,
        kind=K.CORRECTED,
        actor=actor,
        from_status=case.status,
        note=wanted["reason"],
        data=data,
    )
    if data["rerouted"]:
        _tell_previous_unit(case, old_unit, event)
    return case


# --- checking the input ---------------------------------------------------------------------


def _validated(case: Case, actor: User, **given) -> dict:
    """The input cleaned: the fields given (the area and the type only when they differ
    from the case's), and every error at once."""
    errors, wanted = {}, {}
    reason = (given["reason"] or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the record is corrected.")]
    elif len(reason) > TEXT_MAX:
        errors["reason"] = [too_long(TEXT_MAX)]
    wanted["reason"] = reason
    if given["address"] is not None:
        address = given["address"].strip()
        if not address:
            errors["address"] = [_("The address is required.")]
        elif len(address) > ADDRESS_MAX:
            errors["address"] = [too_long(ADDRESS_MAX)]
        wanted["address"] = address
    if given["description"] is not None:
        wanted["description"] = given["description"].strip()
        if len(wanted["description"]) > TEXT_MAX:
            errors["description"] = [too_long(TEXT_MAX)]
    area = given["area"]
    if area is not None and area.pk != case.area_id:
        if not permissions.may_file_in(actor, area):  # from the scope already loaded
            errors["area"] = [_("Choose a grid or micro-grid within your own area.")]
        wanted["area"] = area
    category = given["category"]
    if category is not None and category.pk != case.category_id:
        if category.parent_id is None:
            errors["category"] = [_("Choose a specific dispute type.")]
        elif not category.is_active:
            errors["category"] = [_("This dispute type is no longer in use.")]
        wanted["category"] = category
    elif given["apply_new_limits"]:
        errors["apply_new_limits"] = [_("The time limits change only with the type.")]
    if given["parties"] is not None:
        try:
            wanted["parties"] = _validated_parties(case, given["parties"])
        except ValidationError as exc:
            errors |= exc.message_dict
    if errors:
        raise ValidationError(errors)
    return wanted


def _validated_parties(case: Case, parties: list[dict]) -> list[dict]:
    """The filing's rules for each party, plus: an id names one of this case's parties."""
    cleaned = validate_parties(parties)
    known = {p.pk for p in case.parties.all()}
    seen = set()
    for index, (given, party) in enumerate(zip(parties, cleaned, strict=True)):
        pk = given.get("id")
        if pk in (None, ""):
            continue
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            pk = None
        if pk not in known or pk in seen:
            message = _("Party %(n)d is not one of this case's parties.") % {"n": index + 1}
            raise ValidationError({"parties": [message]})
        seen.add(pk)
        party["id"] = pk
    return cleaned


# --- applying it ----------------------------------------------------------------------------


def _change(field: str, before, after, **extra) -> dict:
    return {"field": field, "from": before, "to": after, **extra}


def _apply_fields(case: Case, wanted: dict) -> list[dict]:
    changes = []
    for field in ("address", "description"):
        if field in wanted and wanted[field] != getattr(case, field):
            changes.append(_change(field, getattr(case, field), wanted[field]))
            setattr(case, field, wanted[field])
    for field in ("area", "category"):
        if field in wanted:
            before, after = getattr(case, field), wanted[field]
            # The area by its name: its str() adds the level in the reader's language.
            names = (before.name, after.name) if field == "area" else (str(before), str(after))
            changes.append(_change(field, *names, from_id=before.pk, to_id=after.pk))
            setattr(case, field, after)
    return changes


def _shown(field: str, value: str) -> str:
    """A party's value as the timeline keeps it: phone and ID numbers masked (138****5678,
    110***********002X: the same shape for both)."""
    return mask_phone(value) if field in MASKED and value else value


def _apply_parties(case: Case, wanted: list[dict]) -> dict:
    """Write the new list of parties; returns what was added, removed and changed."""
    existing = {p.pk: p for p in case.parties.all()}
    added, changed, to_update = [], [], []
    for entry in wanted:
        pk = entry.pop("id", None)
        if pk is None:
            added.append(Party(case=case, **entry))
            continue
        party = existing.pop(pk)
        diffs = [
            _change(f, _shown(f, getattr(party, f)), _shown(f, entry[f]))
            for f in PARTY_FIELDS
            if getattr(party, f) != entry[f]
        ]
        if diffs:
            changed.append({"id": pk, "name": entry["name"], "fields": diffs})
            for f in PARTY_FIELDS:
                setattr(party, f, entry[f])
            to_update.append(party)
    removed = list(existing.values())
    if removed:
        Party.objects.filter(pk__in=[p.pk for p in removed]).delete()
    if to_update:
        Party.objects.bulk_update(to_update, PARTY_FIELDS)
    if added:
        Party.objects.bulk_create(added)
    result = {
        "added": [{"side": p.side, "name": p.name} for p in added],
        "removed": [{"id": p.pk, "side": p.side, "name": p.name} for p in removed],
        "changed": changed,
    }
    return {key: rows for key, rows in result.items() if rows}


def _reroute(case: Case, *, old_area: Area, old_category: Category) -> list[dict]:
    """Route the case again for its new type or area: the handling unit, its level, the
    copied ancestors and (unless a department was given the case by hand) the lead
    department. A case moved up by hand keeps at least the level it reached."""
    before = route(category=old_category, risk_level=case.risk_level, area=old_area)
    routed = route(category=case.category, risk_level=case.risk_level, area=case.area)
    level, unit = routed.handling_level, routed.handling_area
    moved_up = HANDLING_ORDER.index(case.handling_level) > HANDLING_ORDER.index(
        before.handling_level
    )
    if moved_up and HANDLING_ORDER.index(case.handling_level) > HANDLING_ORDER.index(level):
        unit = next(
            (
                routed.ancestors[lvl]
                for lvl in QUEUE_AREA_LEVELS[case.handling_level]
                if lvl in routed.ancestors
            ),
            unit,
        )
        level = AREA_TO_HANDLING.get(unit.level, case.handling_level)
    for column, ancestor in ancestor_ids(routed.ancestors).items():
        setattr(case, column, ancestor)
    changes = []
    if unit.pk != case.handling_area_id:
        changes.append(
            _change(
                "handling_area",
                case.handling_area.name,
                unit.name,
                from_id=case.handling_area_id,
                to_id=unit.pk,
            )
        )
        case.handling_area = unit
    if level != case.handling_level:
        changes.append(_change("handling_level", case.handling_level, level))
        case.handling_level = level
    # A lead department the type gave is the type's; one a centre dispatched stays.
    if case.lead_department_id == (before.lead_department and before.lead_department.pk):
        lead = routed.lead_department
        if case.lead_department_id != (lead and lead.pk):
            old = case.lead_department
            changes.append(
                _change("lead_department", old.name if old else "", lead.name if lead else "")
            )
            case.lead_department = lead
    return changes


def _ancestors_changed(fields: list[str]) -> tuple[str, ...]:
    return ANCESTORS if "area" in fields else ()


def _apply_new_limits(case: Case) -> list[dict]:
    """The new type's policy and the deadlines of the steps still running, counted again
    from when their clocks started (see _restarted_deadlines). A deadline already missed is
    recorded first; a new deadline still ahead can be missed again."""
    policy = clock.policy_for(case.category, case.risk_level)
    changes = []
    if (policy and policy.pk) != case.sla_policy_id:
        old = case.sla_policy
        changes.append(_change("sla_policy", str(old) if old else "", str(policy or "")))
        case.sla_policy = policy
    record_missed_breaches(case)
    now = timezone.now()
    check = clock.check_of(case)
    for field, due in _restarted_deadlines(case, policy).items():
        if due == getattr(case, field):
            continue
        changes.append(_change(field, _iso(getattr(case, field)), _iso(due)))
        setattr(case, field, due)
        if due > now:
            setattr(check, DEADLINES[field][0], False)
    return changes


def _restarted_deadlines(case: Case, policy) -> dict[str, datetime]:
    """The running steps' deadlines under `policy`: assignment from the filing or the
    latest escalation; first handling from the assignment; closing from the filing, then
    each approved extension, reopening and pause as they happened, in order."""
    assign = clock.assign_deadline(policy, case.filed_at)
    close = clock.filing_deadlines(policy, case.filed_at)["close_due_at"]
    history = case.events.filter(
        kind__in=[K.ESCALATED, K.EXTENSION_APPROVED, K.CLOCK_RESUMED, K.REOPENED]
    ).values_list("kind", "at", "data")
    for kind, at, data in history.order_by("at", "id"):
        if kind == K.ESCALATED:
            assign = clock.assign_deadline(policy, at)
        elif kind == K.EXTENSION_APPROVED:
            close = clock.extend(policy, close, int(data.get("days") or 0))
        elif kind == K.CLOCK_RESUMED:
            close += timedelta(seconds=int(data.get("paused_seconds") or 0))
        else:
            close = max(close, clock.filing_deadlines(policy, at)["close_due_at"])
    due = {"close_due_at": close}
    if case.assigned_at is None:
        due["assign_due_at"] = assign
    elif case.first_progress_at is None:
        due["first_update_due_at"] = clock.first_update_deadline(policy, case.assigned_at)
    return due


def _iso(moment: datetime | None) -> str:
    return timezone.localtime(moment).isoformat() if moment else ""


def _tell_previous_unit(case: Case, unit: Area, event: CaseEvent) -> None:
    """The unit the case left learns where it went (the new unit is told by the hand-off)."""
    people = [u for u in holders(area=unit, roles=ASSIGNER_ROLES) if u.pk != event.actor_id]
    notify(
        users=people,
        case=case,
        kind="case_corrected",
        title=_("Case %(number)s was corrected and moved to %(unit)s")
        % {"number": case.number, "unit": case.handling_area.name},
        body=event.note,
    )
