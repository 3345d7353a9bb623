import django_filters
from django.utils.translation import gettext_lazy as _

from grids.models import Area, AreaLevel

from .models import ReceptionSession, SessionKind, SessionStatus
from .selectors import session_list


def _visible_communities(request):
    if request is None:  # schema generation
        return Area.objects.none()
    return Area.objects.visible_to(request.user).filter(level=AreaLevel.COMMUNITY)


class SessionFilter(django_filters.FilterSet):
    """Parses and documents the query string; the filtering is `selectors.session_list`,
    the same function the page uses."""

    community = django_filters.ModelChoiceFilter(
        queryset=_visible_communities, help_text=_("A community you can see.")
    )
    kind = django_filters.ChoiceFilter(choices=SessionKind.choices)
    status = django_filters.ChoiceFilter(choices=SessionStatus.choices)
    date_from = django_filters.DateFilter(help_text=_("On or after this day."))
    date_to = django_filters.DateFilter(help_text=_("On or before this day."))

    class Meta:
        model = ReceptionSession
        fields = []

    def filter_queryset(self, queryset):
        user = self.request.user if self.request is not None else None
        return session_list(user=user, filters=self.form.cleaned_data)
