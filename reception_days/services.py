"""Every write of reception days: scheduling, sessions, attendance, visits and their closed
loop. Keyword-only arguments, an actor, one transaction, the object returned. Errors:

- PermissionDenied: the actor may not do this (403/404 at the edges);
- ValidationError: bad input, with field messages (400), nothing saved;
- SessionStateError: the session or visit is not in a state that allows this (409).
"""

import calendar as month_calendar
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from disputes.models import Case, Category, Channel
from disputes.services import case_file
from disputes.services.filing import PHONE_HELP, phone_ok
from grids.models import THREE_OFFICERS_AND_A_LAWYER, Area, AreaLevel, Assignment, CalendarDay
from grids.models import User as UserModel
from grids.workdays import Calendar

from . import permissions
from .calendar import monthly_dates, months_from
from .models import (
    MediationUnit,
    ReceptionSession,
    ServiceItem,
    SessionKind,
    SessionStaff,
    SessionStatus,
    Visit,
    VisitOutcome,
)

OFFICER_ORDER = {role: index for index, role in enumerate(THREE_OFFICERS_AND_A_LAWYER)}
# Yuzhong holds its reception days in the morning at the community's service centre; a
# community that does otherwise edits the session.
MONTHLY_STARTS_AT = time(9, 0)
MONTHLY_ENDS_AT = time(12, 0)


class SessionStateError(StateConflict):
    """The action is not allowed in the session's or the visit's current state."""


def _require(allowed: bool):
    if not allowed:
        raise PermissionDenied(_("You may not do this at this session."))


def default_venue(community: Area) -> str:
    return _("%(community)s party and public service centre") % {"community": community.name}


# --- teams -------------------------------------------------------------------------------------


def teams(community_ids: Iterable[int], at=None) -> dict[int, list[Assignment]]:
    """Each community's active "three officers and a lawyer" assignments, in that order."""
    rows = (
        Assignment.objects.active(at)
        .filter(area_id__in=list(community_ids), role__in=THREE_OFFICERS_AND_A_LAWYER)
        .select_related("user")
    )
    found: dict[int, list[Assignment]] = defaultdict(list)
    for a in sorted(rows, key=lambda a: (OFFICER_ORDER[a.role], a.user.display_name, a.pk)):
        found[a.area_id].append(a)
    return found


def communities_with_a_team():
    officers = Assignment.objects.active().filter(
        role__in=THREE_OFFICERS_AND_A_LAWYER, area__level=AreaLevel.COMMUNITY
    )
    return Area.objects.filter(pk__in=officers.values("area_id")).order_by("path")


def _officer_rows(session: ReceptionSession, team: list[Assignment]) -> list[SessionStaff]:
    return [
        SessionStaff(
            session=session,
            user=a.user,
            name=a.user.display_name,
            role=a.role,
            assignment=a,
        )
        for a in team
    ]


def _sync_team(session: ReceptionSession, team: list[Assignment], staff: list[SessionStaff]):
    """Keep a planned session's officers in step with the team: a newly paired officer is
    added; one no longer paired with the community is dropped unless marked present.
    Extra staff (no officer role) are left alone."""
    scheduled = {s.user_id for s in staff}
    team_users = {a.user_id for a in team}
    SessionStaff.objects.bulk_create(
        [row for row in _officer_rows(session, team) if row.user_id not in scheduled]
    )
    stale = [s.pk for s in staff if s.role in OFFICER_ORDER and s.user_id not in team_users]
    if stale:
        SessionStaff.objects.filter(pk__in=stale, attended=False).delete()


def _create_with_staff(session: ReceptionSession, staff_rows) -> bool:
    """Create the session and its staff, or nothing if a concurrent run got there first
    (the unique constraints decide, not a read before the write)."""
    try:
        with transaction.atomic():
            session.save()
            for row in staff_rows:
                row.session = session
            SessionStaff.objects.bulk_create(staff_rows)
    except IntegrityError:
        return False
    return True


# --- scheduling --------------------------------------------------------------------------------


def schedule_monthly_sessions(*, months: int = 2, today: date | None = None) -> list:
    """The monthly session on the third Wednesday, for every community with a team, from
    this month for `months` months. Idempotent: a community that already has its session
    for a month (held, planned, cancelled or moved) gets nothing new. Dates already past
    are not created. Planned sessions to come have their officers brought up to date."""
    today = today or timezone.localdate()
    months_ahead = months_from(today, months)
    first_day = date(*months_ahead[0], 1)
    last_year, last_month = months_ahead[-1]
    last_day = date(last_year, last_month, month_calendar.monthrange(last_year, last_month)[1])
    # Moves never exceed a Golden Week, so a month's margin covers every holiday.
    cal = Calendar(first_day, last_day + timedelta(days=31))
    names = dict(
        CalendarDay.objects.filter(date__range=(first_day, last_day), is_workday=False)
        .exclude(name="")
        .values_list("date", "name")
    )
    communities = list(communities_with_a_team())
    team_of = teams([c.pk for c in communities])
    existing = list(
        ReceptionSession.objects.filter(
            kind=SessionKind.MONTHLY,
            community__in=communities,
            date__gte=first_day,
            date__lte=last_day + timedelta(days=31),
        ).prefetch_related("staff")
    )
    taken = {
        (s.community_id, (s.original_date or s.date).year, (s.original_date or s.date).month)
        for s in existing
    }
    created = []
    for year, month in months_ahead:
        held_on, due_on, reason = monthly_dates(year, month, cal, names)
        if held_on < today:
            continue
        for community in communities:
            if (community.pk, year, month) in taken:
                continue
            session = ReceptionSession(
                community=community,
                kind=SessionKind.MONTHLY,
                venue=default_venue(community),
                date=held_on,
                starts_at=MONTHLY_STARTS_AT,
                ends_at=MONTHLY_ENDS_AT,
                original_date=due_on,
                move_reason=reason,
            )
            if _create_with_staff(session, _officer_rows(session, team_of[community.pk])):
                created.append(session)
    for session in existing:
        if session.status == SessionStatus.PLANNED and session.date >= today:
            with transaction.atomic():
                _sync_team(session, team_of.get(session.community_id, []), session.staff.all())
    return created


def schedule_duty_sessions(*, weeks: int = 2, today: date | None = None) -> list:
    """Daily duty sessions at every active mediation unit from its weekly rota, for the
    next `weeks` weeks, on statutory working days only (a make-up working Saturday takes
    the Saturday line of the rota). Idempotent: one duty session per unit and day."""
    today = today or timezone.localdate()
    end = today + timedelta(days=weeks * 7 - 1)
    cal = Calendar(today, end)
    units = list(
        MediationUnit.objects.filter(is_active=True, rota__isnull=False)
        .distinct()
        .select_related("community")
        .prefetch_related("rota__user")
    )
    if not units:
        return []
    existing = set(
        ReceptionSession.objects.filter(
            kind=SessionKind.DUTY, unit__in=units, date__range=(today, end)
        ).values_list("unit_id", "date")
    )
    roles = {
        (a.user_id, a.area_id): a
        for a in Assignment.objects.active().filter(
            area_id__in={u.community_id for u in units}, role__in=THREE_OFFICERS_AND_A_LAWYER
        )
    }
    created = []
    day = today
    while day <= end:
        if cal.is_workday(day):
            for unit in units:
                slots = [s for s in unit.rota.all() if s.weekday == day.weekday()]
                if not slots or (unit.pk, day) in existing:
                    continue
                session = ReceptionSession(
                    community=unit.community,
                    unit=unit,
                    kind=SessionKind.DUTY,
                    venue=unit.address or unit.name,
                    date=day,
                    starts_at=unit.duty_starts_at,
                    ends_at=unit.duty_ends_at,
                )
                staff = []
                for slot in slots:
                    team = roles.get((slot.user_id, unit.community_id))
                    staff.append(
                        SessionStaff(
                            user=slot.user,
                            name=slot.user.display_name,
                            role=team.role if team else "",
                            assignment=team,
                            duty=slot.duty,
                        )
                    )
                if _create_with_staff(session, staff):
                    created.append(session)
        day += timedelta(days=1)
    return created


def schedule_reception_days(*, months: int = 2, weeks: int = 2, today: date | None = None):
    """The scheduler run by beat every day and by `manage.py schedule_reception_days`."""
    monthly = schedule_monthly_sessions(months=months, today=today)
    duty = schedule_duty_sessions(weeks=weeks, today=today)
    return {"monthly": len(monthly), "duty": len(duty)}


# --- sessions ----------------------------------------------------------------------------------


def _lock(session: ReceptionSession) -> ReceptionSession:
    return (
        ReceptionSession.objects.select_for_update(of=("self",))
        .select_related("community", "unit")
        .get(pk=session.pk)
    )


def _check(session: ReceptionSession):
    """Field rules first, with messages on their fields; what is left for the model's own
    validation is the once-a-day uniqueness, which is about the date."""
    errors = {}
    if session.kind == SessionKind.THEMATIC and not session.theme:
        errors["theme"] = [_("A thematic session needs a theme.")]
    if session.kind == SessionKind.DUTY and session.unit_id is None:
        errors["unit"] = [_("A duty session belongs to a mediation unit.")]
    if session.starts_at and session.ends_at and session.ends_at <= session.starts_at:
        errors["ends_at"] = [_("The session must end after it starts.")]
    if errors:
        raise ValidationError(errors)
    try:
        session.full_clean(exclude=["created_by", "held_by", "cancelled_by"])
    except ValidationError as exc:
        errors = exc.message_dict
        if "__all__" in errors:
            errors["date"] = errors.pop("__all__")
        raise ValidationError(errors) from exc


@transaction.atomic
def session_create(
    *,
    actor: UserModel,
    community: Area,
    kind: str,
    date: date,
    starts_at: time,
    ends_at: time,
    venue: str = "",
    theme: str = "",
    unit: MediationUnit | None = None,
    with_team: bool = True,
) -> ReceptionSession:
    """A session organised by community staff or above, e.g. a thematic session (anti-fraud
    in a square, law in a school). The community's team is scheduled unless told not to."""
    _require(permissions.organises(actor, community))
    errors = {}
    if community.level != AreaLevel.COMMUNITY:
        errors["community"] = [_("Choose a community.")]
    if unit is not None and unit.community_id != community.pk:
        errors["unit"] = [_("This unit belongs to another community.")]
    if errors:
        raise ValidationError(errors)
    session = ReceptionSession(
        community=community,
        unit=unit,
        kind=kind,
        theme=(theme or "").strip(),
        venue=(venue or "").strip() or default_venue(community),
        date=date,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
    )
    _check(session)
    session.save()
    if with_team:
        SessionStaff.objects.bulk_create(
            _officer_rows(session, teams([community.pk])[community.pk])
        )
    return session


@transaction.atomic
def session_update(
    *,
    session: ReceptionSession,
    actor: UserModel,
    venue: str,
    starts_at: time,
    ends_at: time,
    theme: str = "",
) -> ReceptionSession:
    session = _lock(session)
    _require(permissions.organises(actor, session.community))
    if session.status != SessionStatus.PLANNED:
        raise SessionStateError(_("Only a planned session can be changed."))
    session.venue, session.theme = (venue or "").strip(), (theme or "").strip()
    session.starts_at, session.ends_at = starts_at, ends_at
    _check(session)
    session.save(update_fields=["venue", "theme", "starts_at", "ends_at", "updated_at"])
    return session


@transaction.atomic
def session_add_staff(
    *,
    session: ReceptionSession,
    actor: UserModel,
    name: str,
    duty: str,
    user: UserModel | None = None,
) -> SessionStaff:
    """An extra person joins: a petition, fire-safety or legal worker, with or without an
    account. Their duty is a free-text label as the community words it."""
    session = _lock(session)
    _require(permissions.can_record(actor, session))
    if session.status == SessionStatus.CANCELLED:
        raise SessionStateError(_("This session was cancelled."))
    name = (name or "").strip() or (user.display_name if user else "")
    errors = {}
    if not name:
        errors["name"] = [_("Give the person's name.")]
    if not (duty or "").strip():
        errors["duty"] = [_("Say what they do here, e.g. petition worker.")]
    if user is not None and session.staff.filter(user=user).exists():
        errors["user"] = [_("This person is already scheduled at this session.")]
    if errors:
        raise ValidationError(errors)
    return SessionStaff.objects.create(
        session=session, user=user, name=name[:50], duty=duty.strip()[:50]
    )


@transaction.atomic
def session_hold(
    *, session: ReceptionSession, actor: UserModel, attended: Iterable[int]
) -> ReceptionSession:
    """Mark the session held with who actually attended (the officer-visits of the report
    card). Sent again on a held session, it corrects the attendance."""
    session = _lock(session)
    _require(permissions.can_record(actor, session))
    if session.status == SessionStatus.CANCELLED:
        raise SessionStateError(_("This session was cancelled."))
    if session.date > timezone.localdate():
        raise SessionStateError(_("A session cannot be marked held before its day."))
    staff_ids = set(session.staff.values_list("pk", flat=True))
    present = {int(pk) for pk in attended}
    if not present:
        raise ValidationError({"attended": [_("Tick who attended.")]})
    if not present <= staff_ids:
        raise ValidationError({"attended": [_("Some of these people are not on this session.")]})
    session.staff.filter(pk__in=present).update(attended=True)
    session.staff.exclude(pk__in=present).update(attended=False)
    if session.status == SessionStatus.PLANNED:
        session.status, session.held_at, session.held_by = SessionStatus.HELD, timezone.now(), actor
        session.save(update_fields=["status", "held_at", "held_by", "updated_at"])
    return session


@transaction.atomic
def session_cancel(*, session: ReceptionSession, actor: UserModel, reason: str) -> ReceptionSession:
    session = _lock(session)
    _require(permissions.can_record(actor, session))
    if session.status != SessionStatus.PLANNED:
        raise SessionStateError(_("Only a planned session can be cancelled."))
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Say why the session is cancelled.")]})
    if session.visits.exists():
        raise SessionStateError(_("Residents were received at this session; mark it held."))
    session.status, session.cancel_reason = SessionStatus.CANCELLED, reason.strip()
    session.cancelled_at, session.cancelled_by = timezone.now(), actor
    session.save(
        update_fields=["status", "cancel_reason", "cancelled_at", "cancelled_by", "updated_at"]
    )
    return session


# --- visits ------------------------------------------------------------------------------------


def _session_open_for_visits(session: ReceptionSession):
    if session.status == SessionStatus.CANCELLED:
        raise SessionStateError(_("This session was cancelled."))
    if session.date > timezone.localdate():
        raise SessionStateError(_("This session has not taken place yet."))


@transaction.atomic
def visit_record(
    *,
    session: ReceptionSession,
    actor: UserModel,
    resident_name: str,
    issue: str,
    resident_phone: str = "",
    people: int = 1,
    services: Iterable[ServiceItem] = (),
    is_dispute: bool = False,
    outcome: str = VisitOutcome.ANSWERED,
    advice: str = "",
    department=None,
) -> Visit:
    """A resident received and their issue "taken as an order". Converting it into a dispute
    case is its own action (visit_convert), so that it goes through case filing."""
    session = _lock(session)
    _require(permissions.can_record(actor, session))
    _session_open_for_visits(session)
    services = list(services)
    resident_name, issue = (resident_name or "").strip(), (issue or "").strip()
    resident_phone, advice = (resident_phone or "").strip(), (advice or "").strip()
    errors = {}
    if not resident_name:
        errors["resident_name"] = [_("Give the resident's name (a surname is enough).")]
    if not issue:
        errors["issue"] = [_("Describe the issue raised.")]
    if resident_phone and not phone_ok(resident_phone):  # the rule the case's parties follow
        errors["resident_phone"] = [_("The phone number is not valid.") + " " + str(PHONE_HELP)]
    if not isinstance(people, int) or not 1 <= people <= 999:
        errors["people"] = [_("Between 1 and 999 people.")]
    if outcome == VisitOutcome.CASE:
        errors["outcome"] = [_("Record the visit first, then convert it into a case.")]
    elif outcome not in VisitOutcome.values:
        errors["outcome"] = [_("Choose an outcome.")]
    if outcome == VisitOutcome.PRESCRIPTION and not advice:
        errors["advice"] = [_("Write the prescription given.")]
    if outcome == VisitOutcome.REFERRED and department is None:
        errors["department"] = [_("Choose the department the issue is referred to.")]
    if any(not s.is_active for s in services):
        errors["services"] = [_("Choose services from the catalogue.")]
    if errors:
        raise ValidationError(errors)
    visit = Visit.objects.create(
        session=session,
        resident_name=resident_name[:50],
        resident_phone=resident_phone[:32],
        people=people,
        issue=issue,
        is_dispute=is_dispute,
        outcome=outcome,
        advice=advice,
        department=department if outcome == VisitOutcome.REFERRED else None,
        recorded_by=actor,
    )
    visit.services.set(services)
    return visit


def community_grids(community: Area):
    """Where a reception-day case can be filed: the community's grids, first one first."""
    return Area.objects.filter(
        path__startswith=community.path, level__in=[AreaLevel.GRID, AreaLevel.DEDICATED]
    ).order_by("path")


@transaction.atomic
def visit_convert(
    *,
    visit: Visit,
    actor: UserModel,
    category: Category,
    grid: Area | None = None,
    cause: str = "",
    address: str = "",
    respondent_name: str = "",
    risk_level: str | None = None,
) -> Case:
    """Convert a visit into a dispute case in one step: the case is filed through the
    disputes services (channel "reception day", the resident as applicant, in the chosen
    grid of the community or its first grid), and the visit points at it."""
    visit = Visit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
    session = (
        ReceptionSession.objects.select_related("community")
        .prefetch_related("staff")
        .get(pk=visit.session_id)
    )
    _require(permissions.can_record(actor, session))
    if visit.case_id is not None:
        raise SessionStateError(_("This visit has already been converted into a case."))
    if session.status == SessionStatus.CANCELLED:
        raise SessionStateError(_("This session was cancelled."))
    grids = community_grids(session.community)
    if grid is None:
        grid = grids.first()
        if grid is None:
            raise ValidationError({"grid": [_("This community has no grid to file the case in.")]})
    elif not grids.filter(pk=grid.pk).exists():
        raise ValidationError({"grid": [_("Choose a grid of this community.")]})
    parties = [{"side": "applicant", "name": visit.resident_name, "phone": visit.resident_phone}]
    if (respondent_name or "").strip():
        parties.append({"side": "respondent", "name": respondent_name.strip()})
    description = _("Raised by %(name)s at the reception day of %(date)s (%(venue)s):") % {
        "name": visit.resident_name,
        "date": f"{session.date:%Y-%m-%d}",
        "venue": session.venue,
    }
    case = case_file(
        actor=actor,
        area=grid,
        category=category,
        cause=(cause or "").strip() or visit.issue.strip().splitlines()[0][:200],
        address=(address or "").strip() or session.venue,
        channel=Channel.RECEPTION_DAY,
        parties=parties,
        description=f"{description}\n{visit.issue}",
        risk_level=risk_level or None,
        people_involved=max(visit.people + len(parties) - 1, 1),
    )
    visit.case, visit.outcome, visit.is_dispute = case, VisitOutcome.CASE, True
    visit.save(update_fields=["case", "outcome", "is_dispute", "updated_at"])
    return case


@transaction.atomic
def visit_reply(*, visit: Visit, actor: UserModel, reply: str) -> Visit:
    """The reply given to the resident afterwards: the loop closes when they hear back. A
    later reply replaces the earlier one; its time shows when they last heard."""
    visit = Visit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
    session = ReceptionSession.objects.select_related("community").get(pk=visit.session_id)
    _require(permissions.can_record(actor, session))
    if not (reply or "").strip():
        raise ValidationError({"reply": [_("Write the reply given to the resident.")]})
    visit.reply, visit.replied_at, visit.replied_by = reply.strip(), timezone.now(), actor
    visit.save(update_fields=["reply", "replied_at", "replied_by", "updated_at"])
    return visit
