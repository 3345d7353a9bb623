from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Direction, Entrustment, LinkageKind, Referral, Result

SELECT = {"class": "form-select"}
TEXT = {"class": "form-control"}


class ReferralForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, widget=forms.Select(attrs=SELECT)
    )
    kind = forms.ChoiceField(
        label=_("Linkage"), choices=LinkageKind.choices, widget=forms.Select(attrs=SELECT)
    )
    partner = forms.CharField(
        label=_("Partner organisation"),
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("e.g. 渝中区人民法院")}),
    )
    partner_case_number = forms.CharField(
        label=_("Partner's case number"), max_length=64, required=False,
        widget=forms.TextInput(attrs=TEXT),
    )  # fmt: skip
    entrustment = forms.ChoiceField(
        label=_("Court entrustment"),
        choices=Entrustment.choices,
        required=False,
        widget=forms.Select(attrs=SELECT),
        help_text=_("A court-entrusted mediation must end within 30 days."),
    )
    started_at = forms.DateTimeField(
        label=_("Referred at"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={**TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text=_("Leave empty for now."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class StatusFilter(forms.Form):
    kind = forms.ChoiceField(
        label=_("Linkage"), required=False,
        choices=[("", _("All linkages")), *LinkageKind.choices], widget=forms.Select(attrs=SELECT),
    )  # fmt: skip
    direction = forms.ChoiceField(
        label=_("Direction"), required=False,
        choices=[("", _("Both directions")), *Direction.choices], widget=forms.Select(attrs=SELECT),
    )  # fmt: skip
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Any status")), *Referral.Status.choices],
        widget=forms.Select(attrs=SELECT),
    )  # fmt: skip


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=Result.choices, widget=forms.Select(attrs=SELECT)
    )
    partner_case_number = forms.CharField(
        label=_("Partner's case number"), max_length=64, required=False,
        widget=forms.TextInput(attrs=TEXT),
    )  # fmt: skip
    note = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class ExtendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={**TEXT, "rows": 2}))
    parties_consent = forms.BooleanField(
        label=_("The parties asked for and agree to the extension"), required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )  # fmt: skip
