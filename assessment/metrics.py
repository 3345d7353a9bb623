"""The scorecard's figures: what each one means (shown beside it on the page, in the API
and in the Excel file), which units it applies to, and which source counts it.

A figure's source is a function of the month (figures.py); several figures may share one
(the case figures come from one scan of the month's cases). Giving a figure another source
is a change to its entry here."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from .figures import (
    Counts,
    Window,
    callback_counts,
    card_counts,
    cards_in_use,
    case_counts,
    department_counts,
    satisfaction_counts,
)
from .models import Metric, UnitKind

K = UnitKind
AREAS = (K.DISTRICT, K.STREET, K.COMMUNITY)


@dataclass(frozen=True)
class MetricSpec:
    code: str
    label: str
    short: str  # the column heading
    definition: str
    kinds: tuple[str, ...]  # the units it applies to
    sources: tuple[Callable[[Window], Counts], ...]
    is_count: bool = False  # a count taking points off (cards received), not a rate
    # For a figure whose data may not exist yet: is it there? (None: always.)
    available: Callable[[], bool] | None = None

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def pending(self) -> bool:
        return self.available is not None and not self.available()


# 督办卡: until the product has supervision cards, their figures are 0 and say so.
PENDING = _("Supervision cards (not yet in use)")


def _while_no_cards(text, pending_text):
    return lazy(lambda: str(text) if cards_in_use() else f"{PENDING}: {pending_text}", str)()


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        Metric.ACCEPTANCE,
        Metric.ACCEPTANCE.label,
        _("Accepted on time"),
        _(
            "Areas: cases whose first deadline (to be accepted and assigned) fell in the "
            "month; accepted by that deadline ÷ those cases (accepted in time, accepted late, "
            "or still not accepted). Departments: tasks whose sign-for limit fell in the "
            "month; signed for, or returned with a reason, within the limit ÷ those tasks."
        ),
        (*AREAS, K.DEPARTMENT),
        (case_counts, department_counts),
    ),
    MetricSpec(
        Metric.ASSIGNMENT,
        Metric.ASSIGNMENT.label,
        _("Assigned on time"),
        _(
            "Cases whose assignment deadline fell in the month: assigned to a mediator by "
            "the deadline ÷ those assigned in time, assigned late, or still unassigned and "
            "open."
        ),
        AREAS,
        (case_counts,),
    ),
    MetricSpec(
        Metric.FIRST_HANDLING,
        Metric.FIRST_HANDLING.label,
        _("First handled on time"),
        _(
            "Cases whose first-handling deadline (after assignment) fell in the month: a "
            "first progress note by the deadline ÷ those with one in time, a late one, or "
            "none while the case is open."
        ),
        (*AREAS, K.PERSON),
        (case_counts,),
    ),
    MetricSpec(
        Metric.CLOSING,
        Metric.CLOSING.label,
        _("Concluded on time"),
        _(
            "Areas and grid workers: cases whose closing deadline fell in the month; "
            "concluded (resolved, closed or referred) by the deadline ÷ those concluded in "
            "time, late, or still open. Departments: tasks whose completion report was due "
            "in the month; reported by the deadline ÷ those due (returned tasks are not "
            "counted)."
        ),
        (*AREAS, K.PERSON, K.DEPARTMENT),
        (case_counts, department_counts),
    ),
    MetricSpec(
        Metric.VERIFIED_RESOLUTION,
        Metric.VERIFIED_RESOLUTION.label,
        _("Verified resolution"),
        _(
            "Cases concluded in the month (closed of any kind, or referred elsewhere): "
            "those resolved by an agreement or a partial agreement and closed as "
            "substantively resolved ÷ all concluded. Departments: the cases they led."
        ),
        (*AREAS, K.PERSON, K.DEPARTMENT),
        (case_counts, department_counts),
    ),
    MetricSpec(
        Metric.SATISFACTION,
        Metric.SATISFACTION.label,
        _("Satisfaction rate"),
        _(
            "Residents' answers given in the month (their rating of a closed case, or their "
            "answer on a callback; each case once, by its latest answer): satisfied or "
            "basically satisfied ÷ answers. Departments: the cases they led."
        ),
        (*AREAS, K.PERSON, K.DEPARTMENT),
        (satisfaction_counts,),
    ),
    MetricSpec(
        Metric.CALLBACK_COVERAGE,
        Metric.CALLBACK_COVERAGE.label,
        Metric.CALLBACK_COVERAGE.label,
        _(
            "Cases drawn for a callback at the start of the month (last month's closings: "
            "the random sample and every case rated unsatisfied): residents reached by the "
            "end of the month ÷ cases drawn."
        ),
        AREAS,
        (callback_counts,),
    ),
    MetricSpec(
        Metric.CARDS_ANSWERED,
        Metric.CARDS_ANSWERED.label,
        _("Cards answered on time"),
        _while_no_cards(
            _(
                "Supervision cards whose answer was due in the month: answered by the "
                "deadline ÷ cards due. A card counts for the unit it was issued to (a "
                "street's card for the street and its district)."
            ),
            _(
                "cards whose reply was due in the month, answered in time ÷ cards due. "
                "No figure until supervision cards are in use."
            ),
        ),
        (*AREAS, K.DEPARTMENT),
        (card_counts,),
        available=cards_in_use,
    ),
    MetricSpec(
        Metric.CARDS_RECEIVED,
        Metric.CARDS_RECEIVED.label,
        _("Cards received"),
        _while_no_cards(
            _(
                "Supervision cards (yellow and red, automatic or issued by a level above) "
                "issued to the unit in the month; each takes its weight in points off the "
                "score."
            ),
            _(
                "cards received in the month; each takes its weight in points off the "
                "score. 0 until supervision cards are in use."
            ),
        ),
        (*AREAS, K.DEPARTMENT),
        (card_counts,),
        is_count=True,
        available=cards_in_use,
    ),
)
BY_CODE = {m.code: m for m in METRICS}


def for_kind(kind: str) -> list[MetricSpec]:
    return [m for m in METRICS if m.applies_to(kind)]


def sources() -> list[Callable[[Window], Counts]]:
    """Every source once, in the order the figures name them."""
    found: list = []
    for metric in METRICS:
        for source in metric.sources:
            if source not in found:
                found.append(source)
    return found


# The figures around the rates, defined once for the page, the API and the Excel file.
VOLUME = _(
    "Cases filed in the area in the month; for a grid worker, cases assigned to "
    "them in the month; for a department, tasks dispatched to it in the month."
)
SCORE = _(
    "The rates weighted by the scheme (rate × weight, summed, ÷ the total weight of "
    "the rates the unit has figures for: a rate with nothing due is left out, not counted as "
    "0), as points out of 100, minus the points per supervision card received. A unit with "
    "no figure has no score."
)
RANK = _(
    "Position by score among units of the same kind in the same district and the "
    "same volume band (equal scores share a rank). Districts are ranked across the city."
)
UNITS = _(
    "An area counts every case that happened in it, whoever handles it; a street is "
    "the sum of its communities (a grid directly under a street counts as a community). A "
    "grid worker or mediator is scored on the cases assigned to them, once for each "
    "community the cases were in."
)


def definitions() -> list[tuple[str, str]]:
    """(term, definition) for every figure: the page's table, the API, the Excel sheet."""
    rows = [
        (str(_("Units")), str(UNITS)),
        (str(_("Volume")), str(VOLUME)),
        (str(_("Score")), str(SCORE)),
        (str(_("Rank")), str(RANK)),
    ]
    rows += [(str(m.label), str(m.definition)) for m in METRICS]
    return rows
