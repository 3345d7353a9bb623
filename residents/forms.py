from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Satisfaction, Topic

TEXT_HINT = _("Who, what, since when. A few sentences are enough.")
# The honeypot's name: something a form-filling bot is happy to fill in.
HONEYPOT = "website"


class PhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one input; their bytes are checked by the services."""

    def __init__(self, **kwargs):
        attrs = {"accept": "image/*", "class": "form-control"}
        super().__init__(widget=PhotoInput(attrs=attrs), required=False, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in items]


def _add_errors(form: forms.Form, exc: ValidationError):
    for name, messages in exc.message_dict.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class ReportForm(forms.Form):
    topic = forms.ChoiceField(
        label=_("What is it about?"), choices=Topic.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("What happened?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": TEXT_HINT}),
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Building, unit and room, or the street")}),
    )
    photos = PhotosField(label=_("Photos (optional)"))
    name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}
        ),
    )
    # Hidden from people by CSS; only bots fill it in (see views.report).
    website = forms.CharField(required=False, max_length=200, label=_("Leave this empty"))

    def __init__(self, *args, area, **kwargs):
        super().__init__(*args, **kwargs)
        self.area = area
        for name, field in self.fields.items():
            if name not in ("topic", "photos"):
                field.widget.attrs.setdefault("class", "form-control form-control-lg")
        self.fields["website"].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off", "class": "form-control"}
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            cleaned = services.report_validate(
                area=self.area,
                topic=data["topic"],
                text=data["text"],
                address=data["address"],
                name=data["name"],
                phone=data["phone"],
                photos=data["photos"],
            )
        except ValidationError as exc:
            _add_errors(self, exc)
            return data
        return {**data, **cleaned}


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    # Empty for a code that came by SMS (a case filed by staff): that code opens by itself.
    secret = forms.CharField(
        label=_("Tracking key"),
        max_length=20,
        required=False,
        help_text=_(
            "The key shown when you reported (like ABCD-EFGH-JKMN); leave it empty if your "
            "code came by SMS. Reports made before December 2026: the last 4 digits of your "
            "phone."
        ),
        widget=forms.TextInput(
            attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_secret(self):
        value = "".join(ch for ch in self.cleaned_data["secret"].upper() if ch.isalnum())
        if value and not (len(value) == 4 and value.isdigit()) and len(value) != 12:
            raise forms.ValidationError(
                _("Enter the 12-character tracking key (or, for an older report, 4 digits).")
            )
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-lg")


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("How satisfied are you with the outcome?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.UNSATISFIED and not data.get("comment"):
            self.add_error("comment", _("Tell us what is still not resolved."))
        return data


class PublicNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Progress the resident may read"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("Shown on the resident's tracking page: no other party's details."),
    )


class ReopenDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Reopen the case")), ("refuse", _("Keep it closed"))]
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
    )


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class CallbackForm(forms.Form):
    reached = forms.ChoiceField(
        label=_("Was the resident reached?"), choices=YES_NO, widget=forms.RadioSelect
    )
    settled = forms.ChoiceField(
        label=_("Is the dispute really settled?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("reached", "settled", "satisfaction"):
            self.fields[name].widget.attrs["class"] = "form-check-input"

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        reached = data["reached"] == "yes"
        return {
            "reached": reached,
            "settled": {"yes": True, "no": False}.get(data["settled"]) if reached else None,
            "satisfaction": data["satisfaction"] if reached else "",
            "notes": data["notes"],
        }
