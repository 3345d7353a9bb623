"""Reads of the residents app: the public tracking view, staff lists and the figures
(satisfaction rate, callback coverage) that dashboards call."""

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Case as When_
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Value, When
from django.utils import timezone

from common.prepared import Prepared
from disputes.models import Case, CaseEvent, CaseStatus
from disputes.models_filing import CaseTracking
from disputes.selectors import LEVEL_COLUMN
from disputes.services.tracking import normalise_code as normalise_case_code
from grids.models import Area

from . import permissions
from .models import (
    REPORT_LEVELS,
    CallbackTask,
    PublicUpdate,
    Rating,
    ReopenRequest,
    ResidentReport,
    Satisfaction,
)
from .services import PUBLISHABLE_KINDS, hash_tracking_key, normalise_code

# --- the public side --------------------------------------------------------------------------


def report_area(code: str) -> Area | None:
    """The area behind a QR code, if it takes reports."""
    return Area.objects.filter(code=code, level__in=REPORT_LEVELS).first()


def report_by_code(code: str) -> ResidentReport | None:
    code = normalise_code(code)
    if not code:
        return None
    return (
        ResidentReport.objects.select_related("case", "case__area", "case__handling_area")
        .filter(tracking_code=code)
        .first()
    )


def tracked_report(pk: int) -> ResidentReport | None:
    return ResidentReport.objects.select_related("case").filter(pk=pk).first()


def report_for_tracking(code: str, secret: str) -> ResidentReport | None:
    """The report if the code exists and the secret is its tracking key (or, for a report
    filed before keys existed, the phone's last four digits); None otherwise, with the same
    work done either way (no timing hint which part was wrong)."""
    report = report_by_code(code)
    if report is not None and not report.tracking_key_hash:
        expected, given = report.phone[-4:].encode(), (secret or "").strip()[-4:].encode()
        return report if hmac.compare_digest(expected, given.ljust(4, b"#")) else None
    expected = report.tracking_key_hash if report else "-" * 64
    matches = hmac.compare_digest(expected, hash_tracking_key(secret))
    return report if report is not None and matches else None


def case_for_tracking(code: str) -> CaseTracking | None:
    """A case filed by staff, by the tracking code its applicant got (by SMS or from the
    filer): the code alone opens it (ten characters from 31, not guessable)."""
    code = normalise_case_code(code)
    if not code:
        return None
    return (
        CaseTracking.objects.select_related("case", "case__category", "case__handling_area")
        .filter(code=code)
        .first()
    )


def code_tracking(tracking: CaseTracking) -> dict:
    """What the tracking page shows of a staff-filed case: its number and type, the stages
    and the unit handling it. Never the cause, the notes or the parties (a worker writes
    them, with names), nor anyone's phone."""
    case = tracking.case
    return {
        "tracking": tracking,
        "case": case,
        "stages": stages(case),
        "withdrawn": case.status == CaseStatus.WITHDRAWN,
    }


def is_legacy(report: ResidentReport | None) -> bool:
    """Filed before tracking keys: opened with four phone digits, so its code needs a limit
    of its own against guessing (which a stranger can exhaust; its reporter keeps the
    browser session it filed from)."""
    return report is not None and not report.tracking_key_hash


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    at: datetime | None
    done: bool
    current: bool


# Resident-facing stages, in order, and the case time point that dates each.
STAGES = (
    ("submitted", CaseStatus.FILED.label, "filed_at"),
    ("dispatched", CaseStatus.ASSIGNED.label, "assigned_at"),
    ("in_mediation", CaseStatus.IN_MEDIATION.label, "first_progress_at"),
    ("resolved", CaseStatus.RESOLVED.label, "resolved_at"),
    ("closed", CaseStatus.CLOSED.label, "closed_at"),
)
STAGE_OF_STATUS = {
    CaseStatus.FILED: 0,
    CaseStatus.SENT_BACK: 0,
    CaseStatus.ACCEPTED: 0,
    CaseStatus.ASSIGNED: 1,
    CaseStatus.IN_MEDIATION: 2,
    CaseStatus.REFERRED: 2,
    CaseStatus.RESOLVED: 3,
    CaseStatus.CLOSED: 4,
}


def stages(case: Case) -> list[Stage]:
    """What a resident sees: the stages reached so far with their dates. Internal states
    (sent back, accepted) show as "submitted"; a withdrawn case stops where it was."""
    if case.status == CaseStatus.WITHDRAWN:
        current = 2 if case.first_progress_at else 1 if case.assigned_at else 0
    else:
        current = STAGE_OF_STATUS.get(case.status, 0)
    return [
        Stage(
            key=key,
            label=label,
            at=getattr(case, attr) if index <= current else None,
            done=index <= current,
            current=index == current,
        )
        for index, (key, label, attr) in enumerate(STAGES)
    ]


def live_public_updates(case_id: int) -> list[PublicUpdate]:
    return list(
        PublicUpdate.objects.filter(case_id=case_id, withdrawn_at__isnull=True).order_by(
            "created_at", "id"
        )
    )


def tracking(report: ResidentReport) -> dict:
    """Everything the tracking page shows: nothing about other parties or internal notes."""
    case = report.case
    ratings = list(report.ratings.order_by("-created_at"))
    current_rating = next((r for r in ratings if r.closed_at == case.closed_at), None)
    return {
        "report": report,
        "case": case,
        "stages": stages(case),
        "updates": live_public_updates(case.pk),
        "supplements": list(report.supplements.values_list("created_at", flat=True)),
        "rating": current_rating if case.status == CaseStatus.CLOSED else None,
        "can_rate": case.status == CaseStatus.CLOSED and current_rating is None,
        "withdrawn": case.status == CaseStatus.WITHDRAWN,
    }


NOTE_STATUSES = (CaseStatus.ASSIGNED, CaseStatus.IN_MEDIATION)  # as disputes.case_progress

# --- the staff side ---------------------------------------------------------------------------


def _report(case_id: int):
    qs = (
        ResidentReport.objects.filter(case_id=case_id)
        .select_related("duplicate_of__case")
        .annotate(repeat_count=Count("repeats"))
    )
    return (qs if qs.ordered else qs.order_by("pk"))[:1]  # what .first() reads


# The resident section of every QR case's page: compiled once per connection (common.prepared).
REPORT = Prepared(_report)
UPDATES = Prepared(
    lambda case_id: (
        PublicUpdate.objects.filter(case_id=case_id, withdrawn_at__isnull=True)
        .select_related("published_by")
        .order_by("created_at", "id")
    )
)
REOPEN_REQUESTS = Prepared(
    lambda case_id: (
        ReopenRequest.objects.filter(case_id=case_id)
        .select_related("rating", "decided_by")
        .order_by("-id")
    )
)
RATINGS = Prepared(lambda case_id: Rating.objects.filter(case_id=case_id).order_by("-created_at"))


def case_panel(*, user, case: Case) -> dict:
    """The resident section of a QR case's page (templates/residents/_public_update.html)."""
    report = REPORT.first(case.pk)
    # Other reports from the same phone for the same place within a day, both ways, for
    # staff only (never on a public page): the later ones point here, this one may point back.
    repeats = (
        list(
            Case.objects.visible_to(user)
            .filter(resident_report__duplicate_of=report)
            .only("pk", "number")
        )
        if report and report.repeat_count
        else []
    )
    updates = UPDATES.rows(case.pk)
    shown = {u.event_id for u in updates}
    can_publish = permissions.can_publish(user, case)
    publishable = [
        e
        for e in (case.events.all() if can_publish else [])
        if e.kind in PUBLISHABLE_KINDS and e.note and e.pk not in shown
    ]
    requests = REOPEN_REQUESTS.rows(case.pk)
    pending = next((r for r in requests if r.status == ReopenRequest.Status.PENDING), None)
    ratings = RATINGS.rows(case.pk)
    return {
        "report": report,
        "updates": updates,
        "publishable": publishable,
        "can_publish": can_publish,
        "can_add_note": can_publish and case.status in NOTE_STATUSES,
        "pending_request": pending,
        "decided_requests": [r for r in requests if r is not pending],
        "can_decide": pending is not None and permissions.supervises(user, case),
        "ratings": ratings,
        "supplement_count": report.supplements.count() if report else 0,
        "duplicate_of": report.duplicate_of.case if report and report.duplicate_of_id else None,
        "repeats": repeats,
    }


def reopen_requests(*, user, status: str | None = ReopenRequest.Status.PENDING):
    """Reopen requests on cases the user can see, newest first."""
    visible = Case.objects.visible_to(user).values("pk")
    qs = ReopenRequest.objects.filter(case_id__in=visible)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related(
        "case", "case__area", "case__handling_area", "case__mediator", "rating", "decided_by"
    ).order_by("-created_at", "-id")


# To call, then tried but not reached, then done.
OPEN_FIRST = When_(
    When(status=CallbackTask.Status.PENDING, then=Value(0)),
    When(status=CallbackTask.Status.UNREACHED, then=Value(1)),
    default=Value(2),
)


def callback_tasks(*, user, status: str | None = None, month: date | None = None):
    """Callback tasks of the streets the user calls for; open ones first."""
    paths = permissions.callback_paths(user)
    qs = CallbackTask.objects.all()
    if paths is not None:
        if not paths:
            return qs.none()
        condition = Q()
        for path in paths:
            condition |= Q(street__path__startswith=path)
        qs = qs.filter(condition)
    if status:
        qs = qs.filter(status=status)
    if month:
        qs = qs.filter(draw__month=month)
    return qs.select_related(
        "case",
        "case__area",
        "case__category",
        "case__resident_report",
        "street",
        "draw",
        "done_by",
    ).order_by(OPEN_FIRST, "-closed_at", "id")


def callback_task(*, user, pk: int) -> CallbackTask:
    """Raises CallbackTask.DoesNotExist (→ 404) outside the user's streets."""
    return (
        callback_tasks(user=user)
        .prefetch_related(
            Prefetch("case__events", queryset=CaseEvent.objects.select_related("actor")),
            "case__parties",
        )
        .get(pk=pk)
    )


def poster_areas(*, user, text: str = ""):
    qs = Area.objects.visible_to(user).filter(level__in=REPORT_LEVELS)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(code__istartswith=text))
    return qs.order_by("path")


# --- figures ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts for one area and period. Rates are None when there is nothing to divide by."""

    answered: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    unsatisfied: int = 0
    closed: int = 0
    drawn: int = 0
    called_back: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def satisfaction_rate(self) -> float | None:
        if not self.answered:
            return None
        return (self.satisfied + self.basically_satisfied) / self.answered

    @property
    def callback_coverage(self) -> float | None:
        return self.called_back / self.closed if self.closed else None

    def as_dict(self) -> dict:
        return {
            "answered": self.answered,
            "satisfied": self.satisfied,
            "basically_satisfied": self.basically_satisfied,
            "unsatisfied": self.unsatisfied,
            "satisfaction_rate": _rounded(self.satisfaction_rate),
            "closed": self.closed,
            "callbacks_drawn": self.drawn,
            "called_back": self.called_back,
            "callback_coverage": _rounded(self.callback_coverage),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def period_bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """Dates are whole local days, both included; datetimes are used as they are, [start, end)."""
    tz = timezone.get_current_timezone()
    if not isinstance(start, datetime):
        start = timezone.make_aware(datetime.combine(start, time.min), tz)
    if not isinstance(end, datetime):
        end = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return start, end


def _area_q(area: Area | None, prefix: str = "") -> Q:
    if area is None:
        return Q()
    return Q(**{f"{prefix}{LEVEL_COLUMN[area.level]}": area.pk})


def _answers(area, start, end):
    """Each case's latest answer in the period, from the resident's rating or a callback:
    a callback after a rating is the more reliable word. {case id: (answer, case row ids)}."""
    columns = ("district_id", "street_id", "community_id", "grid_id", "area_id")
    latest: dict[int, tuple] = {}
    ratings = Rating.objects.filter(
        _area_q(area, "case__"), created_at__gte=start, created_at__lt=end
    )
    calls = CallbackTask.objects.filter(
        _area_q(area, "case__"),
        status=CallbackTask.Status.DONE,
        done_at__gte=start,
        done_at__lt=end,
    ).exclude(satisfaction="")
    rows = [
        *ratings.values_list(
            "case_id", "created_at", "satisfaction", *(f"case__{c}" for c in columns)
        ),
        *calls.values_list("case_id", "done_at", "satisfaction", *(f"case__{c}" for c in columns)),
    ]
    for case_id, at, answer, *ancestors in rows:
        if case_id not in latest or at > latest[case_id][0]:
            latest[case_id] = (at, answer, dict(zip(columns, ancestors, strict=True)))
    return latest


def _add_answer(figures: Figures, answer: str):
    figures.answered += 1
    if answer == Satisfaction.SATISFIED:
        figures.satisfied += 1
    elif answer == Satisfaction.BASICALLY:
        figures.basically_satisfied += 1
    else:
        figures.unsatisfied += 1


def _coverage_rows(area, start, end, group_by: str | None):
    """Cases closed in the period (and still closed), with how many were drawn for a
    callback and how many residents were actually reached."""
    drawn = CallbackTask.objects.filter(case=OuterRef("pk"))
    reached = drawn.filter(status=CallbackTask.Status.DONE)
    qs = Case.objects.filter(
        _area_q(area), status=CaseStatus.CLOSED, closed_at__gte=start, closed_at__lt=end
    )
    aggregates = {
        "closed": Count("pk"),
        "drawn": Count("pk", filter=Q(Exists(drawn))),
        "called_back": Count("pk", filter=Q(Exists(reached))),
    }
    if group_by is None:
        return [{None: None, **qs.aggregate(**aggregates)}]
    return list(qs.values(group_by).annotate(**aggregates).order_by())


def area_figures(area: Area | None, start, end, *, children: bool = False) -> dict:
    """{"total": Figures, "children": [(child area, Figures)]} for the area and period.
    Query count is fixed: 2 for answers + 1 coverage query per kind of child + 1 for the
    children themselves."""
    start, end = period_bounds(start, end)
    total = Figures()
    answers = _answers(area, start, end)
    for _at, answer, _ancestors in answers.values():
        _add_answer(total, answer)
    for row in _coverage_rows(area, start, end, None):
        total.closed, total.drawn = row["closed"], row["drawn"]
        total.called_back = row["called_back"]
    result = {"total": total, "children": []}
    if not children or area is None:
        return result
    kids = list(Area.objects.filter(parent=area).order_by("path"))
    by_column: dict[str, dict[int, Figures]] = {}
    for kid in kids:
        by_column.setdefault(LEVEL_COLUMN[kid.level], {})[kid.pk] = Figures()
    for column, figures in by_column.items():
        for _at, answer, ancestors in answers.values():
            if ancestors[column] in figures:
                _add_answer(figures[ancestors[column]], answer)
        for row in _coverage_rows(area, start, end, column):
            target = figures.get(row[column])
            if target is not None:
                target.closed, target.drawn = row["closed"], row["drawn"]
                target.called_back = row["called_back"]
    result["children"] = [(kid, by_column[LEVEL_COLUMN[kid.level]][kid.pk]) for kid in kids]
    return result


def satisfaction_rate(
    area: Area | None, start: date | datetime, end: date | datetime
) -> float | None:
    """Share (0–1) of answers in the period that were "satisfied" or "basically satisfied",
    counting each case once by its latest answer (the resident's rating or a callback);
    None when nobody answered. `area` None means everywhere; dates are whole local days,
    both included; aware datetimes are taken as [start, end)."""
    start, end = period_bounds(start, end)
    answered, satisfied = _count_latest_answers(area, start, end)
    return satisfied / answered if answered else None


def _count_latest_answers(area, start, end) -> tuple[int, int]:
    """(cases answered, of them satisfied or basically satisfied), counted by the database:
    the same rule as _answers (each case's latest answer, a rating before a callback at the
    same moment) without bringing a district's years of answers into Python. One query."""
    latest, params = latest_answers_sql(start, end, area=area)
    sql = (
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN answer IN (%s, %s) THEN 1 ELSE 0 END), 0) "
        f"FROM ({latest}) latest"
    )
    params = [Satisfaction.SATISFIED.value, Satisfaction.BASICALLY.value, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        answered, satisfied = cursor.fetchone()
    return answered, satisfied


def latest_answers_sql(start: datetime, end: datetime, *, area: Area | None = None):
    """(sql, params) of a query with one row per case answered in [start, end): its
    `case_id` and latest `answer` (a rating or a callback's satisfaction; a rating before a
    callback at the same moment). The one rule every satisfaction rate counts by, here
    and in the monthly assessment, which groups these rows by unit."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    case_table = quote(Case._meta.db_table)
    scope, scope_params = "", []
    if area is not None:
        column = Case._meta.get_field(LEVEL_COLUMN[area.level]).column
        scope, scope_params = f" AND c.{quote(column)} = %s", [area.pk]

    def source(model, at: str, rank: int, extra: str = "", extra_params=()):
        table = quote(model._meta.db_table)
        return (
            f"SELECT x.{quote('case_id')} AS case_id, x.{quote(at)} AS at, "
            f"x.{quote('satisfaction')} AS answer, {rank} AS src, x.{quote('id')} AS id "
            f"FROM {table} x JOIN {case_table} c ON c.{quote('id')} = x.{quote('case_id')} "
            f"WHERE x.{quote(at)} >= %s AND x.{quote(at)} < %s{extra}{scope}",
            [adapt(start), adapt(end), *extra_params, *scope_params],
        )

    ratings, rating_params = source(Rating, "created_at", 0)
    calls, call_params = source(
        CallbackTask, "done_at", 1,
        f" AND x.{quote('status')} = %s AND x.{quote('satisfaction')} <> ''",
        [CallbackTask.Status.DONE.value],
    )  # fmt: skip
    sql = (
        "SELECT case_id, answer FROM (SELECT case_id, answer, ROW_NUMBER() OVER "
        "(PARTITION BY case_id ORDER BY at DESC, src, id) AS n "
        f"FROM ({ratings} UNION ALL {calls}) a) ranked WHERE n = 1"
    )
    return sql, [*rating_params, *call_params]


def callback_coverage(
    area: Area | None, start: date | datetime, end: date | datetime
) -> float | None:
    """Share (0–1) of the cases closed in the period whose resident was reached by a
    callback; None when no case closed."""
    start, end = period_bounds(start, end)
    row = _coverage_rows(area, start, end, None)[0]
    return row["called_back"] / row["closed"] if row["closed"] else None
