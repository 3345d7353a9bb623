import uuid

from django import forms
from django.db.models import Q
from django.forms import formset_factory
from django.forms.models import ModelChoiceIteratorValue
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from common.limits import PARTIES_MAX, TEXT_MAX
from common.widgets import written_in_python
from grids.models import Area, AreaLevel, Department
from sla import clock

from .models import (
    OPEN_STATUSES,
    CaseStatus,
    Category,
    Channel,
    Outcome,
    PartyKind,
    PartySide,
    ReferralKind,
    RiskLevel,
)
from .permissions import pending_extension
from .selectors import category_choices
from .services.filing import PHONE_HELP, phone_ok


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos in one input; each is checked from its bytes by the services."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*,application/pdf", "class": "form-control"}),
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class _GroupedChoices(BaseChoiceIterator):
    """Lazy optgroups: evaluated when the widget renders, never at import time."""

    def __init__(self, queryset):
        self.queryset = queryset

    def __iter__(self):
        groups: dict[str, list] = {}
        for category in self.queryset:
            groups.setdefault(category.parent.name, []).append((category.pk, category.name))
        yield ("", "---------")
        yield from groups.items()


class GroupedCategoryField(forms.ModelChoiceField):
    """Second-level types grouped under their first-level type (optgroups)."""

    def __init__(self, **kwargs):
        super().__init__(queryset=category_choices(), **kwargs)

    def _get_choices(self):
        return _GroupedChoices(self.queryset)

    choices = property(_get_choices, forms.ChoiceField.choices.fset)


def bootstrap(form: forms.Form):
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
            css = "form-check-input"
        widget.attrs.setdefault("class", css)


AREA_OPTIONS_MAX = 50


class CaseFileForm(forms.Form):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Grid / micro-grid"))
    category = GroupedCategoryField(label=_("Dispute type"))
    cause = forms.CharField(label=_("Cause"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=200)
    description = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    occurred_at = forms.DateTimeField(
        label=_("Happened at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level"),
        required=False,
        choices=[("", _("Default for the type")), *RiskLevel.choices],
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    people_involved = forms.IntegerField(label=_("People involved"), min_value=1, initial=2)
    amount_involved = forms.DecimalField(
        label=_("Amount involved (yuan)"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    photos = MultipleFileField(label=_("Photos or PDF"))
    resolved_on_spot = forms.BooleanField(label=_("Resolved on the spot"), required=False)
    notify_applicant = forms.BooleanField(
        label=_("Tell the applicant by SMS"),
        required=False,
        initial=True,
        help_text=_(
            "The applicant's mobile gets the case number and a tracking code now, and a "
            "message when the case is accepted, assigned and closed."
        ),
    )
    outcome_note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("How it was resolved"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Made with the blank form and sent back with every submit of it (and re-shown after an
    # error): a double tap or a retry after a lost reply files one case (case_file_once).
    filing_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    # Filled by "use my location" (filing.js) when the worker asks for it, never otherwise.
    latitude = forms.DecimalField(
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
    )
    longitude = forms.DecimalField(
        required=False, max_digits=9, decimal_places=6, min_value=-180, max_value=180,
        widget=forms.HiddenInput,
    )  # fmt: skip

    def __init__(self, *args, filing_areas=None, own_area_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["filing_key"] = uuid.uuid4().hex
        if filing_areas is not None:
            self.fields["area"].queryset = filing_areas
            self.fields["area"].widget.choices = self._area_options(filing_areas, own_area_ids)
        self.fields["photos"].widget.attrs["capture"] = "environment"
        bootstrap(self)
        self.fields["photos"].widget.attrs["class"] = "form-control"

    def _area_options(self, filing_areas, own_area_ids) -> list:
        """The select holds only the areas a filer is likely to want (their own grids and
        the micro-grids below, and the one chosen): a district's 18,000 grids are found by
        typing (the picker, views.area_suggestions). Any area they may file in is still
        accepted (the field's queryset)."""
        chosen = self.data.get("area") if self.is_bound else self.initial.get("area")
        chosen = getattr(chosen, "pk", chosen)
        near = Q(pk__in=own_area_ids) | Q(parent_id__in=own_area_ids)
        if str(chosen or "").isdigit():
            near |= Q(pk=chosen)
        areas = filing_areas.filter(near).only("pk", "name", "level").order_by("path")
        return [("", "---------"), *((a.pk, str(a)) for a in areas[:AREA_OPTIONS_MAX])]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("resolved_on_spot") and not cleaned.get("outcome_note", "").strip():
            self.add_error("outcome_note", _("Say how it was resolved on the spot."))
        return cleaned


class PartyForm(forms.Form):
    side = forms.ChoiceField(label=_("Side"), choices=PartySide.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartyKind.choices)
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    relationship = forms.CharField(label=_("Relationship"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bootstrap(self)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    # What a person typed into a party row (side and kind always have a value).
    TYPED = ("name", "phone", "id_number", "address", "relationship")

    def has_input(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any((data.get(field) or "").strip() for field in self.TYPED)

    def clean(self):
        # A row with a phone or an address but no name is a mistake to point at, never a
        # row to drop without a word (the worker would lose what they typed).
        cleaned = super().clean()
        if self.has_input() and not (cleaned.get("name") or "").strip():
            self.add_error("name", _("Give this party's name (or clear the row)."))
        phone = (cleaned.get("phone") or "").strip()
        if phone and not phone_ok(phone):
            self.add_error("phone", PHONE_HELP)
        return cleaned


PartyFormSet = formset_factory(
    PartyForm, extra=0, min_num=1, max_num=PARTIES_MAX, validate_max=True
)


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Number, cause, address or party")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *CaseStatus.choices]
    )
    category = forms.ModelChoiceField(
        label=_("Type"),
        required=False,
        queryset=Category.objects.filter(parent__isnull=True),
        empty_label=_("All types"),
    )
    risk_level = forms.ChoiceField(
        label=_("Risk"), required=False, choices=[("", _("All risks")), *RiskLevel.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices]
    )
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=Area.objects.none(), empty_label=_("All areas")
    )
    filed_from = forms.DateField(
        label=_("Filed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    filed_to = forms.DateField(
        label=_("Filed until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    colour = forms.ChoiceField(
        label=_("Colour"),
        required=False,
        choices=[("", _("All colours")), *clock.COLOUR_LABELS.items()],
    )
    reason = forms.ChoiceField(
        label=_("Overdue step"),
        required=False,
        choices=[("", _("Any time-limit state")), *clock.REASONS.items()],
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[("", _("Newest first")), ("sla", _("Most overdue first"))],
    )
    due_soon = forms.BooleanField(label=_("Due soon only"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            areas = list_filter_areas(user)
            self.fields["area"].queryset = areas
            # A district has hundreds of streets and communities: the select holds the one
            # chosen, others are found by typing (the picker, views.area_suggestions).
            chosen = str(self.data.get("area") or "")
            options = (
                areas.filter(pk=chosen).only("pk", "name", "level") if chosen.isdigit() else []
            )
            self.fields["area"].widget.choices = [
                ("", _("All areas")),
                *((a.pk, str(a)) for a in options),
            ]
        bootstrap(self)
        # On every case list page: its widgets written in Python, with the same markup as
        # Django's templates (common.widgets; ~4 ms of CPU a page, issue 12).
        written_in_python(self)


def list_filter_areas(user):
    """The areas a case list can be narrowed to: streets and communities the user sees."""
    return Area.objects.visible_to(user).filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])


# --- action forms ---------------------------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class VerifyForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("Result of the check"),
        choices=[
            ("1", _("Confirmed: close it as resolved")),
            ("0", _("Not confirmed: back to the handler")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What was checked, or what is not right"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class AssignForm(forms.Form):
    mediator = forms.ModelChoiceField(label=_("Mediator"), queryset=None)
    assistants = forms.ModelMultipleChoiceField(
        label=_("Assisting staff"),
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_MAX)

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        people = _People(candidates)
        for name in ("mediator", "assistants"):
            field = self.fields[name]
            field.queryset = candidates  # what a choice is checked against
            field.label_from_instance = lambda u: u.display_name
            field.widget.choices = _PeopleChoices(field, people)


class _People:
    """The candidates, read once when the first of the form's two selects is written: each
    select of a queryset reads it again (a query and the staff of the case's area as objects,
    ~1.5 ms of a case page, issue 12)."""

    def __init__(self, queryset):
        self.queryset, self.choices = queryset, None

    def __iter__(self):
        if self.choices is None:
            # As ModelChoiceIterator writes each option: its value carries the person.
            self.choices = [
                (ModelChoiceIteratorValue(u.pk, u), u.display_name) for u in self.queryset
            ]
        return iter(self.choices)


class _PeopleChoices(BaseChoiceIterator):
    """A select's options from the shared read, after the field's empty label if it has one."""

    def __init__(self, field, people: _People):
        self.field, self.people = field, people

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.people


class NoteWithPhotosForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = MultipleFileField(label=_("Photos or PDF"))


class ProgressForm(NoteWithPhotosForm):
    # Made with the form; a note sent again (from the phone's offline queue, or a retry
    # after a lost reply) with the same key is recorded once.
    client_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["client_key"] = uuid.uuid4().hex


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        required=False,
        choices=[("", _("Keep the recorded outcome"))]
        + [c for c in Outcome.choices if c[0] != Outcome.FAILED],
    )
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReferForm(forms.Form):
    kind = forms.ChoiceField(label=_("Refer to"), choices=ReferralKind.choices)
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.filter(is_active=True)
    )
    note = forms.CharField(
        label=_("Why and how"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class AttachForm(forms.Form):
    files = MultipleFileField(label=_("Photos or PDF"))
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_MAX)


class RaiseRiskForm(forms.Form):
    risk_level = forms.ChoiceField(label=_("New risk level"), choices=RiskLevel.choices)
    reason = forms.CharField(
        label=_("Reason"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            # Only higher levels: the service refuses the others anyway.
            levels = list(RiskLevel.values)
            current = levels.index(case.risk_level) if case.risk_level in levels else -1
            self.fields["risk_level"].choices = [
                (value, label)
                for value, label in RiskLevel.choices
                if levels.index(value) > current
            ]


class DispatchForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(is_active=True)
    )
    assisting = forms.ModelMultipleChoiceField(
        label=_("Assisting departments"),
        queryset=Department.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("What the department should do"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExtensionRequestForm(forms.Form):
    days = forms.IntegerField(label=_("Extra days"), min_value=1, max_value=60, initial=30)
    reason = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Why more time is needed"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExtensionDecideForm(forms.Form):
    """Decides the request the page showed: its id travels with the form, so a request
    decided meanwhile is reported as a conflict instead of deciding a newer one."""

    extension = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("refuse", _("Refuse"))]
    )
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            pending = pending_extension(case)
            self.fields["extension"].initial = pending.pk if pending else None
            if case.status not in OPEN_STATUSES:
                # A case no longer open keeps its deadline; the request can only be refused.
                self.fields["decision"].choices = [("refuse", _("Refuse"))]


class VerifyReportForm(forms.Form):
    """The dispatching level's check of a department's completion report."""

    decision = forms.ChoiceField(
        label=_("Verification"),
        choices=[("pass", _("Pass: the department's part is done")),
                 ("fail", _("Fail: back to the department"))],
        widget=forms.RadioSelect,
    )  # fmt: skip
    note = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Note (required when it fails)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
