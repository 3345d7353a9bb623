from django import template
from django.template.defaultfilters import join
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


# The SLA colour's badge (disputes/_sla.html), and "due soon" (disputes/_due_soon.html),
# written here: a case list shows both on each row, and an include costs a template render.
@register.simple_tag
def sla_badge(colour):
    # Compared, not looked up: a colour may come as an enum member, hashed by its name.
    if colour == "red":
        css, label = "text-bg-danger", _("Red")
    elif colour == "orange":
        css, label = "text-bg-warning", _("Orange")
    else:
        css, label = "text-bg-success", _("Green")
    return format_html(
        '<span class="badge rounded-pill {}" data-sla="{}">{}</span>', css, colour, label
    )


@register.simple_tag
def due_soon_badge(soon):
    """`soon`: the warnings' labels, shown as the badge's title."""
    if not soon:
        return ""
    return format_html(
        '<span class="badge rounded-pill bg-warning-subtle text-warning-emphasis border '
        'border-warning" data-due-soon="1" title="{}">{}</span>',
        join(soon, "、"),
        _("Due soon"),
    )
