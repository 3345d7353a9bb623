import django_filters
from django.utils.translation import gettext_lazy as _

from grids.models import Area
from sla import clock

from .models import Case, CaseStatus, Category, Channel, RiskLevel
from .selectors import filters_apply


def _visible_areas(request):
    if request is None:  # schema generation
        return Area.objects.none()
    return Area.objects.visible_to(request.user)


class CaseFilter(django_filters.FilterSet):
    """The case list's filters. The declared filters parse and validate the query string
    (and document it in the schema); the filtering itself is `selectors.filters_apply`, the
    same function the pages use, so the API and the pages can never disagree."""

    q = django_filters.CharFilter(
        label=_("Search"),
        help_text=_("Case number, cause, description, address, or a party's name or phone."),
    )
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(),
        help_text=_("A dispute type; a top-level type also matches its sub-types."),
    )
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    area = django_filters.ModelChoiceFilter(
        queryset=_visible_areas,
        help_text=_("An area you can see: cases filed in it or anywhere below it."),
    )
    filed_from = django_filters.DateFilter(help_text=_("Filed on or after this day."))
    filed_to = django_filters.DateFilter(help_text=_("Filed on or before this day."))
    colour = django_filters.ChoiceFilter(
        choices=list(clock.COLOUR_LABELS.items()),
        help_text=_("The time-limit colour now: red past closing, orange a step overdue."),
    )
    reason = django_filters.ChoiceFilter(
        choices=list(clock.REASONS.items()), help_text=_("Cases with this step overdue now.")
    )
    due_soon = django_filters.BooleanFilter(
        widget=django_filters.widgets.BooleanWidget(),
        help_text=_(
            "`1`: open cases with a deadline in its warning window now (its warning time has "
            "passed, the deadline not yet): assignment, first handling, closing or the next "
            "progress note."
        ),
    )
    sort = django_filters.ChoiceFilter(
        choices=[("newest", _("Newest first")), ("sla", _("Most overdue first"))],
        help_text=_("`sla`: red, then orange, then green, the most overdue first."),
    )

    class Meta:
        model = Case
        fields = []

    def filter_queryset(self, queryset):
        return filters_apply(queryset, self.form.cleaned_data)
