"""The case list API's rows, written in one pass: the JSON `CaseListSerializer` writes.

DRF turns each row into its fields one at a time, through each field's attribute lookup and
its nested serializers (category, two areas, the mediator): for a page of 50 that is a few
thousand calls, ~4 ms of a list request's ~17 ms of CPU (issue 12). This writes the same
dictionaries straight from the case and its joined rows, the values converted by the same
DRF fields (times, labels), so the output cannot drift in format; a test compares the two
on random cases (tests/disputes/test_list_rows.py). `CaseListSerializer` stays the contract
(the schema, the detail reply, a single case) and is what this must equal."""

from django.utils import timezone
from rest_framework import serializers

from common.api import LabelField
from sla import clock

from .models import Case

# DRF's own fields for the values whose text depends on settings: times as ISO 8601 in the
# current time zone, choice labels as get_FOO_display gives them.
TIME = serializers.DateTimeField(read_only=True)
LABELS = {
    name: LabelField(Case._meta.get_field(name).choices)
    for name in ("status", "risk_level", "channel")
}


def sla_state(case: Case, now, label=str) -> dict:
    """A case's `sla` in the API (SlaSerializer): its colour, the reasons and the warnings
    due soon, with their labels in the active language (`label` writes one)."""
    colour, reasons = clock.evaluate(case, now)
    soon = clock.due_soon(case, now)
    return {
        "colour": colour,
        "reasons": reasons,
        "labels": [label(clock.REASONS[r]) for r in reasons],
        "due_soon": soon,
        "due_soon_labels": [label(clock.WARNINGS[r]) for r in soon],
    }


def _area(area) -> dict | None:
    if area is None:
        return None
    return {"id": area.id, "code": area.code, "name": area.name, "level": area.level}


class RowWriter:
    """Writes the rows of one page. What repeats from row to row is worked out once a page:
    the time zone (DRF looks it up for every time) and each label in the active language."""

    def __init__(self, now):
        self.now = now
        zone = TIME.default_timezone()
        self.time = TIME if zone is None else serializers.DateTimeField(default_timezone=zone)
        self.labels: dict = {}

    def _time(self, value):
        return None if value is None else self.time.to_representation(value)

    def _label(self, field: str, value):
        key = (field, value)
        if key not in self.labels:
            self.labels[key] = LABELS[field].to_representation(value)
        return self.labels[key]

    def _text(self, lazy) -> str:
        """A label (a lazy translation, one of the module's own) as text, once a page."""
        if id(lazy) not in self.labels:
            self.labels[id(lazy)] = str(lazy)
        return self.labels[id(lazy)]

    def row(self, case: Case) -> dict:
        """One row, as CaseListSerializer(case, context={"now": now}).data."""
        category, mediator = case.category, case.mediator
        return {
            "id": case.id,
            "number": case.number,
            "cause": case.cause,
            "status": case.status,
            "status_label": self._label("status", case.status),
            "category": {
                "id": category.id,
                "code": category.code,
                "name": category.name,
                "full_name": category.full_name,
                "parent": category.parent_id,
            },
            "risk_level": case.risk_level,
            "risk_level_label": self._label("risk_level", case.risk_level),
            "channel": case.channel,
            "channel_label": self._label("channel", case.channel),
            "address": case.address,
            "area": _area(case.area),
            "handling_level": case.handling_level,
            "handling_area": _area(case.handling_area),
            "mediator": None
            if mediator is None
            else {"id": mediator.id, "username": mediator.username, "name": mediator.display_name},
            "filed_at": self._time(case.filed_at),
            "assign_due_at": self._time(case.assign_due_at),
            "close_due_at": self._time(case.close_due_at),
            "sla": sla_state(case, self.now, self._text),
        }


class CaseRows(serializers.ListSerializer):
    """A page of the case list (`many=True` of CaseListSerializer, its `child`)."""

    def to_representation(self, data):
        writer = RowWriter(self.context.get("now") or timezone.now())
        return [writer.row(case) for case in data]
