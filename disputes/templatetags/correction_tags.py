"""A correction's timeline entry (更正) as rows to read: what, before, after, in the reader's
language. The event keeps field names and values; labels are looked up here."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from disputes.models import Case, HandlingLevel, PartyKind, PartySide

register = template.Library()

PARTY_LABELS = {
    "side": gettext_lazy("Side"),
    "kind": gettext_lazy("Kind"),
    "name": gettext_lazy("Name"),
    "phone": gettext_lazy("Phone"),
    "id_number": gettext_lazy("ID number"),
    "address": gettext_lazy("Address"),
    "relationship": gettext_lazy("Relationship"),
}
CHOICES = {"handling_level": HandlingLevel, "side": PartySide, "kind": PartyKind}
DEADLINES = ("assign_due_at", "first_update_due_at", "close_due_at")
NOTHING = "—"


def _value(field: str, value) -> str:
    if value in (None, ""):
        return NOTHING
    if field in CHOICES and value in CHOICES[field].values:
        return str(CHOICES[field](value).label)
    if field in DEADLINES:
        moment = parse_datetime(value)
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else value
    return str(value)


def _case_label(field: str) -> str:
    try:
        return capfirst(Case._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:  # a field named in an older event and since renamed
        return field


def _party(row: dict) -> str:
    return f"{row.get('name', '')}（{_value('side', row.get('side'))}）"


@register.simple_tag
def correction_rows(data) -> list[dict]:
    """[{label, before, after}] for the changed fields, then the parties."""
    data = data or {}
    rows = [
        {
            "field": c.get("field", ""),
            "label": _case_label(c.get("field", "")),
            "before": _value(c.get("field", ""), c.get("from")),
            "after": _value(c.get("field", ""), c.get("to")),
        }
        for c in data.get("changes", [])
    ]
    parties = data.get("parties") or {}
    for row in parties.get("added", []):
        rows.append(
            {"field": "party", "label": _("Party added"), "before": NOTHING, "after": _party(row)}
        )
    for row in parties.get("removed", []):
        rows.append(
            {"field": "party", "label": _("Party removed"), "before": _party(row), "after": NOTHING}
        )
    for party in parties.get("changed", []):
        for c in party.get("fields", []):
            field = c.get("field", "")
            rows.append(
                {
                    "field": "party",
                    "label": f"{party.get('name', '')} · {PARTY_LABELS.get(field, field)}",
                    "before": _value(field, c.get("from")),
                    "after": _value(field, c.get("to")),
                }
            )
    return rows
