"""The Python-rendered widgets write exactly what Django's widget templates write."""

import datetime

import pytest
from django import forms
from django.utils.safestring import SafeString, mark_safe

from common import widgets
from disputes.demo import seed_categories
from disputes.forms import CaseFilterForm
from grids.models import Area, AreaLevel, User

CHOICES = [
    ("", "All"),
    ("a", "A & <b>"),
    ("b", mark_safe("<i>B</i>")),
    (3, 1.5),
    ("Group <1>", [("g1", "one"), ("g2", "two")]),
]


def django_html(widget, *args) -> str:
    """The same widget rendered by Django's own templates."""
    return forms.Widget.render(widget, *args)


@pytest.mark.parametrize(
    ("widget", "args"),
    [
        (widgets.TextInput(), ("q", None)),
        (widgets.TextInput(), ("q", "")),
        (widgets.TextInput(attrs={"placeholder": "a<b", "class": "c"}), ("q", "x\"<&>'")),
        (widgets.TextInput(), ("q", "漏水", {"id": "id_q", "required": True, "hidden": False})),
        (widgets.TextInput(), ("q", mark_safe("<safe>"), {"aria-describedby": "x&y"})),
        (widgets.DateInput(attrs={"type": "date"}), ("d", datetime.date(2024, 2, 3))),
        (widgets.DateInput(attrs={"type": "date"}), ("d", "not a date", {"id": "id_d"})),
        (widgets.CheckboxInput(), ("c", True, {"id": "id_c"})),
        (widgets.CheckboxInput(), ("c", False)),
        (widgets.CheckboxInput(), ("c", "on")),
        (widgets.NumberInput(attrs={"min": 1, "max": 30}), ("days", 7, {"id": "id_days"})),
        (widgets.NumberInput(), ("days", None)),
        (widgets.HiddenInput(), ("key", 'a"b')),
        (widgets.Textarea(attrs={"rows": 2}), ("note", None, {"id": "id_note"})),
        (widgets.Textarea(), ("note", "")),
        (widgets.Textarea(), ("note", "第一行\n<b>二</b> & 'x'")),
        (widgets.Textarea(), ("note", mark_safe("<i>kept</i>"))),
    ],
)
def test_it_writes_inputs_like_the_templates(widget, args):
    html = widget.render(*args)
    assert html == django_html(widget, *args)
    assert isinstance(html, SafeString)


@pytest.mark.parametrize(
    "value", ["", None, "a", "b", 3, "3", "g2", "not a choice", ["a", "g1"], "<script>"]
)
@pytest.mark.parametrize("attrs", [None, {"id": "id_s", "required": True, "class": "form-select"}])
def test_it_writes_selects_like_the_templates(value, attrs):
    widget = widgets.Select(choices=CHOICES)
    html = widget.render("s", value, attrs)
    assert html == django_html(widget, "s", value, attrs)
    assert ("selected" in html) == (value not in ("not a choice", "<script>"))


@pytest.mark.parametrize("value", [None, [], ["a", "g1"], ["3"], ["nope"]])
def test_a_select_with_several_values_is_written_like_the_templates(value):
    widget = widgets.SelectMultiple(choices=CHOICES, attrs={"size": 4})
    html = widget.render("s", value, {"id": "id_s"})
    assert html == django_html(widget, "s", value, {"id": "id_s"})
    assert html.count(" selected") == len([v for v in value or [] if v != "nope"])


class AnyForm(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs={"placeholder": "<p>"}))
    number = forms.IntegerField(min_value=1, required=False)
    day = forms.DateField(required=False)
    flag = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    choice = forms.ChoiceField(choices=CHOICES, required=False)
    several = forms.MultipleChoiceField(choices=CHOICES, required=False)
    radio = forms.ChoiceField(choices=CHOICES[:2], widget=forms.RadioSelect, required=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"text": "x<y", "number": "0", "day": "2024-02-30", "flag": "on", "note": "a\nb"},
        {"hidden": "h", "choice": "g1", "several": ["a", "3"], "radio": "a"},
    ],
)
def test_a_form_written_in_python_renders_as_before(data):
    ours = widgets.written_in_python(AnyForm(data, prefix="p"))
    theirs = AnyForm(data, prefix="p")
    assert isinstance(ours.fields["choice"].widget, widgets.Select)
    assert isinstance(ours.fields["several"].widget, widgets.SelectMultiple)
    assert type(ours.fields["radio"].widget) is forms.RadioSelect  # no twin: left alone
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    assert {name: str(ours[name]) for name in ours.fields} == {
        name: str(theirs[name]) for name in theirs.fields
    }


def test_a_widget_with_a_template_of_its_own_is_rendered_by_it():
    class Starred(widgets.TextInput):
        template_name = "django/forms/widgets/textarea.html"

    html = Starred().render("q", "x")
    assert html.startswith("<textarea")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"q": "漏水 <b>", "status": "filed", "sort": "sla", "due_soon": "on"},
        {"status": "nonsense", "category": "999999", "area": "abc", "filed_from": "2024-13-45"},
        {"risk_level": "high", "channel": "hotline", "colour": "red", "filed_to": "2024-05-06"},
        {"category": "first", "area": "first street"},
    ],
)
def test_the_case_filter_form_renders_as_it_did_with_the_template_widgets(demo, monkeypatch, data):
    seed_categories()
    user = User.objects.get(username="street")
    if data and data.get("category") == "first":
        category = CaseFilterForm(user=user).fields["category"].queryset.first()
        street = Area.objects.filter(level=AreaLevel.STREET).first()
        data = {"category": str(category.pk), "area": str(street.pk)}
    ours = CaseFilterForm(data, user=user)
    ours_html = {name: str(ours[name]) for name in ours.fields}
    assert all(isinstance(f.widget, widgets.PythonRendered) for f in ours.fields.values())

    monkeypatch.setattr(widgets.PythonRendered, "written_here", lambda self: False)
    theirs = CaseFilterForm(data, user=user)
    assert {name: str(theirs[name]) for name in theirs.fields} == ours_html
    if data and "category" in data and data["category"] != "999999":
        assert " selected>" in ours_html["category"]
