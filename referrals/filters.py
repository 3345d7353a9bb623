import django_filters

from .models import Direction, LinkageKind, Referral


class ReferralFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=LinkageKind.choices)
    direction = django_filters.ChoiceFilter(choices=Direction.choices)
    status = django_filters.ChoiceFilter(choices=Referral.Status.choices)
    case = django_filters.NumberFilter(field_name="case_id")
    entrusted = django_filters.BooleanFilter(method="filter_entrusted")

    class Meta:
        model = Referral
        fields = ["kind", "direction", "status", "case", "entrusted"]

    def filter_entrusted(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(entrustment="") if value else queryset.filter(entrustment="")
