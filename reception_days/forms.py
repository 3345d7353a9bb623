from datetime import date, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.limits import TEXT_MAX
from disputes.forms import GroupedCategoryField
from disputes.models import RiskLevel
from grids.models import Area, AreaLevel, Department

from .models import ServiceItem, SessionKind, SessionStatus, VisitOutcome
from .services import community_grids


def _bootstrap(form: forms.Form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        widget.attrs.setdefault("class", css)


DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
TIME = {"widget": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
RECORDABLE_OUTCOMES = [(v, label) for v, label in VisitOutcome.choices if v != VisitOutcome.CASE]


class VisitForm(forms.Form):
    """Fast on a phone: name and issue are all that is required; the rest has defaults."""

    resident_name = forms.CharField(label=_("Resident"), max_length=50)
    resident_phone = forms.CharField(label=_("Phone (optional)"), max_length=32, required=False)
    people = forms.IntegerField(label=_("People"), min_value=1, max_value=999, initial=1)
    issue = forms.CharField(
        label=_("Issue raised"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    common_services = forms.ModelMultipleChoiceField(
        label=_("Services given"),
        queryset=ServiceItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    more_services = forms.ModelMultipleChoiceField(
        label=_("Individual services"),
        queryset=ServiceItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_dispute = forms.BooleanField(label=_("A dispute between parties"), required=False)
    outcome = forms.ChoiceField(
        label=_("How it was handled"), choices=RECORDABLE_OUTCOMES, initial=VisitOutcome.ANSWERED
    )
    advice = forms.CharField(
        max_length=TEXT_MAX,
        label=_("Answer or prescription"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    department = forms.ModelChoiceField(
        label=_("Referred to"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        active = ServiceItem.objects.filter(is_active=True)
        self.fields["common_services"].queryset = active.filter(parent__isnull=True)
        self.fields["more_services"].queryset = active.filter(
            parent__isnull=False, parent__is_active=True
        ).select_related("parent")
        self.fields["more_services"].label_from_instance = lambda item: item.name
        self.fields["department"].queryset = Department.objects.filter(is_active=True)
        _bootstrap(self)
        self.fields["resident_phone"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["resident_name"].widget.attrs["autocomplete"] = "off"

    def clean(self):
        # The service checks these too; checking them here as well shows every problem at
        # once instead of one round trip per mistake.
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        if outcome == VisitOutcome.REFERRED and not cleaned.get("department"):
            self.add_error("department", _("Choose the department the issue is referred to."))
        if outcome == VisitOutcome.PRESCRIPTION and not cleaned.get("advice", "").strip():
            self.add_error("advice", _("Write the prescription given."))
        cleaned["services"] = [
            *cleaned.get("common_services", []),
            *cleaned.get("more_services", []),
        ]
        return cleaned


class ConvertForm(forms.Form):
    category = GroupedCategoryField(label=_("Dispute type"))
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Area.objects.none())
    cause = forms.CharField(label=_("Cause"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=200)
    respondent_name = forms.CharField(
        label=_("Other party (optional)"), max_length=100, required=False
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level"),
        required=False,
        choices=[("", _("Default for the type")), *RiskLevel.choices],
    )

    def __init__(self, *args, visit=None, **kwargs):
        if visit is not None:
            kwargs.setdefault("prefix", f"convert-{visit.pk}")
            kwargs.setdefault(
                "initial",
                {
                    "cause": visit.issue.strip().splitlines()[0][:200] if visit.issue else "",
                    "address": visit.session.venue,
                },
            )
        super().__init__(*args, **kwargs)
        if visit is not None:
            grids = community_grids(visit.session.community)
            self.fields["grid"].queryset = grids
            self.fields["grid"].empty_label = None
        _bootstrap(self)


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply to the resident"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, visit=None, **kwargs):
        if visit is not None:
            kwargs.setdefault("prefix", f"reply-{visit.pk}")
            kwargs.setdefault("initial", {"reply": visit.reply})
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class HoldForm(forms.Form):
    attended = forms.MultipleChoiceField(
        label=_("Who attended"), widget=forms.CheckboxSelectMultiple, required=False
    )

    def __init__(self, *args, session=None, viewer=None, **kwargs):
        staff = list(session.staff.all()) if session is not None else []
        if not kwargs.get("data") and not args:
            ticked = [s.pk for s in staff if s.attended]
            if not ticked and viewer is not None:
                ticked = [s.pk for s in staff if s.user_id == viewer.pk]
            kwargs.setdefault("initial", {"attended": ticked})
        super().__init__(*args, **kwargs)
        self.fields["attended"].choices = [(s.pk, str(s)) for s in staff]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class StaffForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    duty = forms.CharField(
        label=_("Duty"),
        max_length=50,
        help_text=_("e.g. petition worker, fire-safety officer, legal worker"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class SessionForm(forms.Form):
    community = forms.ModelChoiceField(label=_("Community"), queryset=Area.objects.none())
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(k, label) for k, label in SessionKind.choices if k != SessionKind.DUTY],
        initial=SessionKind.THEMATIC,
    )
    theme = forms.CharField(
        label=_("Theme"),
        max_length=100,
        required=False,
        help_text=_("e.g. anti-fraud in the square, law in schools"),
    )
    venue = forms.CharField(label=_("Venue"), max_length=200, required=False)
    date = forms.DateField(label=_("Date"), **DATE)
    starts_at = forms.TimeField(label=_("Starts at"), initial=time(9, 0), **TIME)
    ends_at = forms.TimeField(label=_("Ends at"), initial=time(11, 30), **TIME)
    with_team = forms.BooleanField(
        label=_("Schedule the community's three officers and a lawyer"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        if communities is not None:
            self.fields["community"].queryset = communities
        _bootstrap(self)


class SessionFilterForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All communities"),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All kinds")), *SessionKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *SessionStatus.choices],
        required=False,
    )
    date_from = forms.DateField(label=_("From"), required=False, **DATE)
    date_to = forms.DateField(label=_("To"), required=False, **DATE)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["community"].queryset = Area.objects.visible_to(user).filter(
                level=AreaLevel.COMMUNITY
            )
        _bootstrap(self)


def month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


class ReportCardForm(forms.Form):
    """Parses the report card's query string for the page, the CSV and the API alike. The
    area is only parsed here: the view looks it up in the user's scope, so an area outside
    it is "not found" (404) rather than an invalid choice that reveals it exists."""

    area = forms.IntegerField(
        label=_("Area"), required=False, min_value=1, max_value=2**62, widget=forms.Select
    )
    date_from = forms.DateField(label=_("From"), required=False, **DATE)
    date_to = forms.DateField(label=_("To"), required=False, **DATE)

    def __init__(self, data=None, *, areas=None, today=None, **kwargs):
        super().__init__(data, **kwargs)
        if areas is not None:
            # "　" (an ideographic space) per level indents the tree in a plain select.
            self.fields["area"].widget.choices = [
                (a.pk, "　" * (a.depth - 1) + a.name) for a in areas.only("name", "depth")
            ]
        self.default_from, self.default_to = month_bounds(today or timezone.localdate())
        _bootstrap(self)

    def clean(self):
        cleaned = super().clean()
        if "date_from" not in self.errors:
            cleaned["date_from"] = cleaned.get("date_from") or self.default_from
        if "date_to" not in self.errors:
            cleaned["date_to"] = cleaned.get("date_to") or self.default_to
        if not self.errors and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
