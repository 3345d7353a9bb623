from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.workdays import calendar_coverage

register = template.Library()


@register.simple_tag
def calendar_warning() -> str:
    """The admin banner's text when the next 90 days reach a year with no holiday schedule."""
    coverage = calendar_coverage(timezone.localdate())
    if coverage.ok:
        return ""
    years = "、".join(str(y) for y in coverage.uncovered)
    return _(
        "The working-day calendar does not cover %(years)s yet: import the holiday notice."
    ) % {"years": years}
