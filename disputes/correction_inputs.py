"""The correction's input (更正): the page's form, its party rows (the filing's, with the id of
the party each row corrects) and the API's serializer. They parse and type-check; the rules
live in services.case_correct."""

from django import forms
from django.db.models import Q
from django.forms import formset_factory
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from common.limits import PARTIES_MAX, TEXT_MAX
from grids.models import Area

from . import permissions
from .forms import GroupedCategoryField, PartyForm, bootstrap
from .models import Case, Category
from .serializers import PartiesField, PartyInputSerializer

ADDRESS_MAX = Case._meta.get_field("address").max_length


class CorrectForm(forms.Form):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Grid / micro-grid"))
    category = GroupedCategoryField(label=_("Dispute type"))
    address = forms.CharField(label=_("Address"), max_length=ADDRESS_MAX)
    description = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    apply_new_limits = forms.BooleanField(
        label=_("Apply the new type's time limits"),
        required=False,
        help_text=_(
            "Only with a new type. Otherwise the deadlines already running stay as they are."
        ),
    )
    reason = forms.CharField(
        label=_("Why the record is corrected"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The case as the corrector saw it: a change made meanwhile is a conflict, not undone.
    expected_updated_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, case: Case, user, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "area": case.area_id,
                "category": case.category_id,
                "address": case.address,
                "description": case.description,
                "expected_updated_at": case.updated_at.isoformat(),
            },
        )
        super().__init__(*args, **kwargs)
        # The case's own area and type stay choosable even when the corrector could not file
        # there or the type has been retired: leaving them as they are is always allowed.
        self.fields["area"].queryset = permissions.filing_areas_q(user) | Area.objects.filter(
            pk=case.area_id
        )
        self.fields["category"].queryset = (
            Category.objects.filter(
                Q(is_active=True, parent__isnull=False) | Q(pk=case.category_id)
            )
            .select_related("parent")
            .order_by("parent__sort_order", "parent__code", "sort_order", "code")
        )
        if not permissions.approves_extensions(user, case):
            del self.fields["apply_new_limits"]
        bootstrap(self)

    def clean_expected_updated_at(self):
        text = self.cleaned_data["expected_updated_at"].strip()
        if not text:
            return None
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise forms.ValidationError(_("Reload the page and correct again."))
        return moment


class CorrectionPartyForm(PartyForm):
    """A filing party row, with the id of the party it corrects (none: a new party)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)


CorrectionPartyFormSet = formset_factory(
    CorrectionPartyForm, extra=0, min_num=1, max_num=PARTIES_MAX, validate_max=True
)


def party_rows(formset) -> list[dict]:
    """The parties as the service takes them: typed rows only (a cleared row removes its
    party; a half-filled one was refused by the form)."""
    return [f.cleaned_data for f in formset.forms if f.has_input()]


class CorrectionPartyInputSerializer(PartyInputSerializer):
    id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=_("The party this entry corrects (from the case's `parties`); none: a new one."),
    )


def _unchanged_text(max_length: int):
    # Absent or null: the field stays as it is.
    return serializers.CharField(
        allow_blank=True, allow_null=True, default=None, max_length=max_length
    )


class CorrectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=TEXT_MAX)
    address = _unchanged_text(ADDRESS_MAX)
    description = _unchanged_text(TEXT_MAX)
    area = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.all(), allow_null=True, default=None
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), allow_null=True, default=None
    )
    parties = PartiesField(
        child=CorrectionPartyInputSerializer(),
        allow_null=True,
        default=None,
        max_length=PARTIES_MAX,
        help_text=_(
            "The whole new list of parties: entries with an id change that party, entries "
            "without one add a party, parties left out are removed. Absent: unchanged."
        ),
    )
    apply_new_limits = serializers.BooleanField(
        default=False,
        help_text=_(
            "With a new type: count the running deadlines again under its time limits (the "
            "level above the handling unit only)."
        ),
    )
    expected_updated_at = serializers.DateTimeField(
        allow_null=True,
        default=None,
        help_text=_("The case's `updated_at` as you read it: a case changed since is a 409."),
    )
