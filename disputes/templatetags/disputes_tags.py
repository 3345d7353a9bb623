from django import template
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.translation import gettext as _

from disputes.models import RiskLevel
from grids.models import mask_phone

register = template.Library()


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value) if value else ""


@register.filter
def masked_id(value: str) -> str:
    """110***********1234: region and last four, as on a printed receipt."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


@register.filter
def risk_label(value: str) -> str:

    return RiskLevel(value).label if value in RiskLevel.values else value


@register.filter
def iso_datetime(value: str):
    """A datetime kept as ISO text in an event's data, for the `date` filter."""

    try:
        return parse_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


@register.simple_tag
def on_time_badge(flag):
    """The on-time flag of a step once it has happened: on time, late, or nothing."""

    if flag is None:
        return ""
    if flag:
        return format_html(
            '<span class="badge text-bg-success" data-on-time="1">{}</span>', _("on time")
        )
    return format_html('<span class="badge text-bg-warning" data-on-time="0">{}</span>', _("late"))
