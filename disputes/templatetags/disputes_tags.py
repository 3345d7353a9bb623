from django import template
from django.template.defaultfilters import date, join
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
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


# A case list's rows, written here rather than in a {% for %} of the list template: twenty
# rows of a dozen lookups, a url tag, a date filter and two badges each cost ~3.7 ms of
# template rendering a page, this ~0.4 ms (issue 12). The markup is what the loop wrote
# (tests/disputes/test_case_rows.py compares the two byte for byte).
ROW = (
    '\n  <a class="list-group-item list-group-item-action" href="{href}" data-case="{number}">'
    '\n    <div class="d-flex justify-content-between flex-wrap gap-1">'
    "\n      <strong>{cause}</strong>"
    "\n      <span>{soon_badge}\n {sla_badge}"
    '\n <span class="badge text-bg-secondary">{status}</span></span>'
    "\n    </div>"
    "\n    {reasons}"
    "\n    {soon}"
    '\n    <div class="small text-muted">{number} · {category} · {risk} · {area} · {filed}</div>'
    "\n  </a>\n  "
)


LINK_ID = 987654321  # stands for a case's id in its link, replaced row by row
FILED = "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}"  # date:"Y-m-d H:i"


@register.simple_tag
def case_rows(rows) -> str:
    """The rows of views._rows: each {"case", "sla": (colour, reasons), "labels", "soon"}."""
    esc = conditional_escape
    # What repeats from row to row is written once a call: the link (all but the id), each
    # colour's badge, each status's label.
    link_before, link_after = reverse("disputes:detail", args=[LINK_ID]).split(str(LINK_ID))
    badges, statuses, risks = {}, {}, {}
    written = []
    for row in rows:
        case, colour = row["case"], row["sla"][0]
        labels, soon = row["labels"], row["soon"]
        if colour not in badges:
            badges[colour] = sla_badge(colour)
        if case.status not in statuses:
            statuses[case.status] = esc(case.get_status_display())
        if case.risk_level not in risks:
            risks[case.risk_level] = esc(case.get_risk_level_display())
        filed = template_localtime(case.filed_at)  # as a template does: in local time
        written.append(
            ROW.format(
                href=esc(f"{link_before}{case.pk}{link_after}"),
                number=esc(case.number),
                cause=esc(case.cause),
                soon_badge=due_soon_badge(soon),
                sla_badge=badges[colour],
                status=statuses[case.status],
                reasons=(
                    f'<div class="small fw-semibold sla-{esc(colour)}" data-testid="sla-reasons">'
                    f"{join(labels, '、')}</div>"
                    if labels
                    else ""
                ),
                soon=(
                    '<div class="small text-warning-emphasis" data-testid="due-soon">'
                    f"{join(soon, '、')}</div>"
                    if soon
                    else ""
                ),
                category=esc(case.category.name),
                risk=risks[case.risk_level],
                area=esc(case.handling_area.name),
                filed=date(filed, "Y-m-d H:i") if filed is None else FILED.format(filed),
            )
        )
    return mark_safe("".join(written))
