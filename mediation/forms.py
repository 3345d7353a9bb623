"""The mediation pages' forms. Choices come from the case (its parties, the people who may
mediate it, its community's three officers and a lawyer); services check everything again."""

import base64
import binascii

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from disputes.forms import bootstrap
from grids.models import User

from .models import ConfirmationStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person(user) -> str:
    return user.display_name


class SessionForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    online = forms.BooleanField(label=_("Online (the parties do not meet)"), required=False)
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    online_link = forms.CharField(
        label=_("Online meeting link or room"), max_length=300, required=False
    )
    mediators = forms.ModelMultipleChoiceField(
        label=_("Mediators"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    invited = forms.ModelMultipleChoiceField(
        label=_("Invite the three officers and a lawyer"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, mediators, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].queryset = User.objects.filter(pk__in=[u.pk for u in mediators])
        self.fields["invited"].queryset = User.objects.filter(pk__in=[u.pk for u in officers])
        self.fields["mediators"].label_from_instance = _person
        self.fields["invited"].label_from_instance = _person
        bootstrap(self)


class RecordForm(forms.Form):
    record = forms.CharField(
        label=_("Mediation record"),
        widget=forms.Textarea(attrs={"rows": 12, "autocapitalize": "off"}),
        max_length=20000,
    )
    present = forms.MultipleChoiceField(
        label=_("Present"), required=False, widget=forms.CheckboxSelectMultiple
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [(str(a.pk), a.name) for a in session.attendance.all()]
        bootstrap(self)


class AgreementForm(forms.Form):
    facts = forms.CharField(
        label=_("Facts"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000
    )
    disputed_items = forms.CharField(
        label=_("Disputed items"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    clauses = forms.CharField(
        label=_("Standing clauses"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=5000,
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


class ObligationForm(forms.Form):
    party = forms.TypedChoiceField(label=_("Obliged party"), coerce=int)
    description = forms.CharField(label=_("Obligation"), max_length=300)
    amount = forms.DecimalField(
        label=_("Amount (yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    due_on = forms.DateField(label=_("Deadline"), widget=DATE)
    manner = forms.CharField(label=_("Manner of performance"), max_length=200, required=False)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [("", "—")] + [(p.pk, p.name) for p in parties]
        self.fields["amount"].widget.attrs["inputmode"] = "decimal"
        bootstrap(self)


class BaseObligationFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]:
            raise ValidationError(_("Add at least one obligation."))


ObligationFormSet = forms.formset_factory(
    ObligationForm,
    formset=BaseObligationFormSet,
    extra=0,
    max_num=30,
    validate_max=True,
    can_delete=True,
)


class SignatureForm(forms.Form):
    signer = forms.ChoiceField(label=_("Who is signing"))
    image = forms.CharField(widget=forms.HiddenInput, max_length=800_000)

    def __init__(self, *args, signers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signer"].choices = signers
        bootstrap(self)

    def clean_image(self):
        """The canvas's PNG as a data URL."""
        value = self.cleaned_data["image"]
        head, _sep, data = value.partition(",")
        if head != "data:image/png;base64" or not data:
            raise ValidationError(_("The signature is empty; sign in the box."))
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError(_("The signature could not be read; sign again.")) from exc


class ScanForm(forms.Form):
    scan = forms.FileField(label=_("Signed agreement (PDF scan)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scan"].widget.attrs["accept"] = "application/pdf"
        bootstrap(self)


class PerformForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    proof = forms.FileField(label=_("Proof (photo or PDF)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


class ConfirmationApplyForm(forms.Form):
    court = forms.CharField(label=_("Court"), max_length=100)
    applied_on = forms.DateField(label=_("Applied on"), widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)


class ConfirmationRecordForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Court's decision"),
        choices=[(s.value, s.label) for s in ConfirmationStatus if s != ConfirmationStatus.APPLIED],
    )
    decided_on = forms.DateField(label=_("Court decided on"), widget=DATE, required=False)
    ruling_number = forms.CharField(label=_("Ruling number"), max_length=60, required=False)
    ruling_date = forms.DateField(label=_("Ruling date"), widget=DATE, required=False)
    papers = forms.FileField(label=_("Court papers (PDF)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)
