"""Where each figure of a month's scorecards comes from: set-based reads, one GROUP BY
per source over the whole city, never a query per unit.

Area units (district, street, community) and grid workers are counted from the ancestor ids
copied onto every case: each source groups its rows by the finest *grain* (district,
street, community, person) and `scoring` adds the grains up into every unit, so a street is
exactly the sum of its communities. A case's community is its community, or its grid when
the grid hangs directly under a street. Its person is the case's mediator (the grid worker
or mediator it is assigned to). Departments are counted from their tasks
(disputes.DepartmentTask) in sources of their own.

Every source is a plain function of the month's `Window` returning `Counts`; metrics.py
names the source of each figure, so a figure gets a new source (supervision cards once they
exist, verified closes once closes are verified) by changing one function here."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db import connection
from django.db.models import Case as Choose
from django.db.models import Count, F, IntegerField, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from disputes.models import (
    OPEN_STATUSES,
    Case,
    CaseStatus,
    CloseKind,
    DepartmentTask,
    Outcome,
)
from grids.models import AreaLevel
from residents.models import SATISFIED_ANSWERS, CallbackTask
from residents.selectors import latest_answers_sql

S = CaseStatus
# (district id, street id, community id, person id); any may be None.
Grain = tuple[int | None, int | None, int | None, int | None]


@dataclass(frozen=True)
class Window:
    """A month in local time, [start, end), and the moment its figures are read at."""

    month: date
    start: datetime
    end: datetime
    now: datetime

    @property
    def cutoff(self) -> datetime:
        """Deadlines count once passed: a month still running counts those up to now."""
        return min(self.end, self.now)

    @property
    def previous_month(self) -> date:
        return (self.month - timedelta(days=1)).replace(day=1)


def month_start(month: date) -> datetime:
    return timezone.make_aware(datetime.combine(month.replace(day=1), time.min))


def window_for(month: date, now: datetime) -> Window:
    month = month.replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    return Window(month=month, start=month_start(month), end=month_start(following), now=now)


@dataclass
class Counts:
    """[part, whole] per figure, by grain (areas and people) and by department."""

    grains: dict = field(default_factory=lambda: defaultdict(dict))
    departments: dict = field(default_factory=lambda: defaultdict(dict))


def _in(name: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{name}__gte": start, f"{name}__lt": end})


# --- what counts as a verified resolution (one place) ------------------------------------------


def counts_as_verified_resolution(start: datetime, end: datetime, prefix: str = "") -> Q:
    """A case counted as a verified substantive resolution in [start, end). For now: it was
    resolved (an agreement or a partial agreement) and then closed as substantively
    resolved in the period. When closes are verified by the level above (a verification
    time or kind on the case), this condition, and only this one, changes."""
    p = prefix
    return Q(
        **{
            f"{p}status": S.CLOSED,
            f"{p}close_kind": CloseKind.SUBSTANTIVE,
            f"{p}outcome__in": (Outcome.AGREEMENT, Outcome.PARTIAL),
        }
    ) & _in(f"{p}closed_at", start, end)


def concluded(start: datetime, end: datetime, prefix: str = "") -> Q:
    """The verified resolution rate's denominator: cases closed (of any kind) or referred
    elsewhere in [start, end)."""
    p = prefix
    return (Q(**{f"{p}status": S.CLOSED}) & _in(f"{p}closed_at", start, end)) | (
        Q(**{f"{p}status": S.REFERRED}) & _in(f"{p}referred_at", start, end)
    )


# --- cases ------------------------------------------------------------------------------------


def _step_conditions() -> dict[str, tuple[str, Q, Q]]:
    """(deadline column, done in time, late) per step. A step counts in the month its
    deadline falls in; late means done after it, or not done and the case still open."""
    open_ = Q(status__in=OPEN_STATUSES)
    concluded_in_time = (
        Q(status=S.CLOSED, closed_on_time=True)
        | Q(status=S.RESOLVED, resolved_at__lte=F("close_due_at"))
        | Q(status=S.REFERRED, referred_at__lte=F("close_due_at"))
    )
    concluded_late = (
        Q(status=S.CLOSED, closed_on_time=False)
        | Q(status=S.RESOLVED, resolved_at__gt=F("close_due_at"))
        | Q(status=S.REFERRED, referred_at__gt=F("close_due_at"))
    )
    return {
        "acceptance": (
            "assign_due_at",
            Q(accepted_at__isnull=False, accepted_at__lte=F("assign_due_at")),
            Q(accepted_at__gt=F("assign_due_at")) | Q(accepted_at__isnull=True, status=S.FILED),
        ),
        "assignment": (
            "assign_due_at",
            Q(assigned_on_time=True),
            Q(assigned_on_time=False) | (Q(assigned_at__isnull=True) & open_),
        ),
        "first_handling": (
            "first_update_due_at",
            Q(first_update_on_time=True),
            Q(first_update_on_time=False) | (Q(first_progress_at__isnull=True) & open_),
        ),
        "closing": ("close_due_at", concluded_in_time, concluded_late | open_),
    }


def _case_aggregates(w: Window) -> tuple[dict, Q]:
    """The conditional counts, and the condition that picks every case any of them reads
    (one scan of the month's cases, however long ago they were filed)."""
    counts = {
        "filed": Count("pk", filter=_in("filed_at", w.start, w.end)),
        "assigned": Count("pk", filter=_in("assigned_at", w.start, w.end)),
    }
    relevant = _in("filed_at", w.start, w.end) | _in("assigned_at", w.start, w.end)
    for step, (deadline, in_time, late) in _step_conditions().items():
        due = _in(deadline, w.start, w.cutoff)
        counts[f"{step}_part"] = Count("pk", filter=due & in_time)
        counts[f"{step}_whole"] = Count("pk", filter=due & (in_time | late))
        relevant |= due
    resolved = counts_as_verified_resolution(w.start, w.cutoff)
    ended = concluded(w.start, w.cutoff)
    counts["verified_resolution_part"] = Count("pk", filter=resolved)
    counts["verified_resolution_whole"] = Count("pk", filter=ended)
    return counts, relevant | ended


CASE_METRICS = ("acceptance", "assignment", "first_handling", "closing", "verified_resolution")
COMMUNITY = Coalesce("community_id", "grid_id", output_field=IntegerField())


def case_counts(w: Window) -> Counts:
    """Volume (cases filed, and assigned to each person), the four on-time steps and the
    verified resolution rate, by grain. One query."""
    aggregates, relevant = _case_aggregates(w)
    rows = (
        Case.objects.filter(relevant)
        .order_by()
        .values(g_d=F("district_id"), g_s=F("street_id"), g_c=COMMUNITY, g_p=F("mediator_id"))
        .annotate(**aggregates)
    )
    result = Counts()
    for row in rows:
        grain = (row["g_d"], row["g_s"], row["g_c"], row["g_p"])
        figures = result.grains[grain]
        figures["filed"] = [row["filed"], None]
        figures["assigned"] = [row["assigned"], None]
        for metric in CASE_METRICS:
            figures[metric] = [row[f"{metric}_part"], row[f"{metric}_whole"]]
    return result


# --- residents' answers and callbacks ---------------------------------------------------------


def _grouped_answers(w: Window, group_sql: str, join_sql: str = "") -> list[tuple]:
    quote = connection.ops.quote_name
    latest, params = latest_answers_sql(w.start, w.cutoff)
    sql = (
        f"SELECT {group_sql}, COUNT(*), "
        "SUM(CASE WHEN a.answer IN (%s, %s) THEN 1 ELSE 0 END) "
        f"FROM ({latest}) a JOIN {quote(Case._meta.db_table)} c ON c.id = a.case_id {join_sql}"
        f"GROUP BY {group_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(s.value for s in SATISFIED_ANSWERS), *params])
        return cursor.fetchall()


def satisfaction_counts(w: Window) -> Counts:
    """满意率: each case's latest answer in the month (the resident's rating or their
    answer on a callback, exactly as residents.selectors counts it), satisfied or basically
    satisfied ÷ answers; by grain, and by the department that led the case. Two queries."""
    result = Counts()
    group = "c.district_id, c.street_id, COALESCE(c.community_id, c.grid_id), c.mediator_id"
    for d, s, c, p, answered, satisfied in _grouped_answers(w, group):
        result.grains[(d, s, c, p)]["satisfaction"] = [int(satisfied or 0), answered]
    tasks = DepartmentTask._meta.db_table
    lead = DepartmentTask.Role.LEAD.value
    # One answer per case and department, however often the case was dispatched to it.
    join = (
        f"JOIN (SELECT DISTINCT case_id, department_id FROM {tasks} WHERE role = '{lead}') t "
        "ON t.case_id = c.id "
    )
    for department, answered, satisfied in _grouped_answers(w, "t.department_id", join):
        result.departments[department]["satisfaction"] = [int(satisfied or 0), answered]
    return result


def callback_counts(w: Window) -> Counts:
    """回访覆盖率: of the cases drawn for a callback at the start of the month (the draw of
    last month's closings), those whose resident was reached by the month's end. One
    query."""
    rows = (
        CallbackTask.objects.filter(draw__month=w.previous_month)
        .order_by()
        .values(
            g_d=F("case__district_id"),
            g_s=F("case__street_id"),
            g_c=Coalesce("case__community_id", "case__grid_id", output_field=IntegerField()),
            g_p=F("case__mediator_id"),
        )
        .annotate(
            drawn=Count("pk"),
            reached=Count(
                "pk",
                filter=Q(status=CallbackTask.Status.DONE) & Q(done_at__lt=w.cutoff),
            ),
        )
    )
    result = Counts()
    for row in rows:
        grain = (row["g_d"], row["g_s"], row["g_c"], row["g_p"])
        result.grains[grain]["callback_coverage"] = [row["reached"], row["drawn"]]
    return result


# --- supervision cards ------------------------------------------------------------------------


def card_model():
    """The supervision card model (disputes.SupervisionCard), or None while the product has
    none: looked up by name, so this source starts counting as soon as cards exist."""
    try:
        return apps.get_model("disputes", "SupervisionCard")
    except LookupError:
        return None


def cards_in_use() -> bool:
    return card_model() is not None


def card_counts(w: Window) -> Counts:
    """督办卡: the cards issued to a unit in the month (received), and of the cards whose
    answer was due in the month, those answered by then. A card counts for the unit it was
    issued to (its `area`): a street's card for the street and its district, not for the
    community the case is in. Until cards exist every unit has received none. One query."""
    Card = card_model()
    if Card is None:
        return Counts()
    L = AreaLevel
    issued = _in("issued_at", w.start, w.cutoff)
    due = _in("reply_due_at", w.start, w.cutoff)
    answered = Q(replied_at__isnull=False, replied_at__lte=F("reply_due_at"))
    rows = (
        Card.objects.filter(issued | due)
        .order_by()
        .values(
            g_d=F("case__district_id"),
            g_s=Choose(When(area__level=L.DISTRICT, then=None), default=F("case__street_id")),
            g_c=Choose(
                When(area__level__in=(L.DISTRICT, L.STREET), then=None),
                default=Coalesce("case__community_id", "case__grid_id"),
                output_field=IntegerField(),
            ),
        )
        .annotate(
            received=Count("pk", filter=issued),
            due=Count("pk", filter=due),
            answered=Count("pk", filter=due & answered),
        )
    )
    result = Counts()
    for row in rows:
        figures = result.grains[(row["g_d"], row["g_s"], row["g_c"], None)]
        figures["cards_received"] = [row["received"], None]
        figures["cards_answered"] = [row["answered"], row["due"]]
    return result


# --- departments ------------------------------------------------------------------------------


def department_counts(w: Window) -> Counts:
    """A department's tasks: dispatched in the month (volume); signed for, or returned with
    a reason, within the sign-for limit (by the month the limit fell in); completion
    reported within the report limit; the cases it led concluded in the month and of them
    verified resolutions. One query."""
    T = DepartmentTask.Status
    sign_due = _in("sign_due_at", w.start, w.cutoff)
    signed_in_time = Q(signed_at__lte=F("sign_due_at")) | Q(
        signed_at__isnull=True, returned_at__lte=F("sign_due_at")
    )
    report_due = _in("report_due_at", w.start, w.cutoff) & ~Q(status=T.RETURNED)
    lead = Q(role=DepartmentTask.Role.LEAD)
    rows = (
        DepartmentTask.objects.order_by()
        .values("department_id")
        .annotate(
            dispatched=Count("pk", filter=_in("dispatched_at", w.start, w.end)),
            acceptance_part=Count("pk", filter=sign_due & signed_in_time),
            acceptance_whole=Count("pk", filter=sign_due),
            closing_part=Count("pk", filter=report_due & Q(reported_at__lte=F("report_due_at"))),
            closing_whole=Count("pk", filter=report_due),
            verified_resolution_part=Count(
                "case",
                distinct=True,
                filter=lead & counts_as_verified_resolution(w.start, w.cutoff, "case__"),
            ),
            verified_resolution_whole=Count(
                "case", distinct=True, filter=lead & concluded(w.start, w.cutoff, "case__")
            ),
        )
    )
    result = Counts()
    for row in rows:
        figures = result.departments[row["department_id"]]
        figures["dispatched"] = [row["dispatched"], None]
        for metric in ("acceptance", "closing", "verified_resolution"):
            figures[metric] = [row[f"{metric}_part"], row[f"{metric}_whole"]]
    return result
