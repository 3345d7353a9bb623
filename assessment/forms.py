"""?month=&version=&area=&kind= for the ranking page, its Excel file and its API: which
version of which month, which area is drilled into, which units are listed."""

from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Area

from . import selectors
from .models import AssessmentSnapshot, UnitKind


@dataclass
class Where:
    snapshot: AssessmentSnapshot | None
    month: date | None
    container: Area | None
    kind: str
    kinds: tuple[str, ...]
    snapshots: list = field(default_factory=list)
    page: int = 1


def parse_month(text: str) -> date | None:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return None


class RankingForm(forms.Form):
    month = forms.CharField(label=_("Month"), required=False)
    version = forms.IntegerField(label=_("Version"), required=False, min_value=1)
    area = forms.IntegerField(label=_("Area"), required=False)
    kind = forms.ChoiceField(label=_("Units"), required=False, choices=UnitKind.choices)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_month(self):
        text = self.cleaned_data.get("month") or ""
        if not text:
            return None
        month = parse_month(text)
        if month is None:
            raise forms.ValidationError(_("Give the month as YYYY-MM."))
        return month

    def clean_area(self):
        pk = self.cleaned_data.get("area")
        if pk is None:
            return selectors.default_container(self.user)
        area = Area.objects.filter(pk=pk).first()
        if area is None or area.level not in selectors.CONTAINER_KIND:
            raise forms.ValidationError(_("Choose a district, street or community."))
        if not selectors.container_allowed(self.user, area):
            raise forms.ValidationError(_("This area is outside the areas you assess."))
        return area

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        container = cleaned.get("area")
        kinds = selectors.kinds_under(self.user, container)
        kind = cleaned.get("kind") or kinds[0]
        if kind not in kinds:
            self.add_error("kind", _("These units are not listed here."))
            return cleaned
        snapshots = selectors.visible_snapshots(self.user)
        month = cleaned.get("month") or (snapshots[0].month if snapshots else None)
        snapshot = None
        if cleaned.get("version"):
            snapshot = next(
                (s for s in snapshots if s.month == month and s.version == cleaned["version"]),
                None,
            )
            if snapshot is None:
                self.add_error("version", _("There is no such version of this month."))
                return cleaned
        elif month is not None:
            snapshot = selectors.shown_version(snapshots, month)
        page = cleaned.get("page") or 1
        cleaned["where"] = Where(snapshot, month, container, kind, kinds, snapshots, page)
        return cleaned


def where_for(user, data) -> tuple[Where, RankingForm]:
    """The request's choice, or the defaults (with the form's errors) when it is wrong.
    PermissionDenied for users without a ranking."""
    selectors.roots(user)
    form = RankingForm(data or None, user=user)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["where"], form
    fallback = RankingForm({}, user=user)
    fallback.is_valid()
    return fallback.cleaned_data["where"], form
