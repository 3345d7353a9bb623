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


def test_a_select_with_several_values_is_written_like_the_templates():
    widget = widgets.Select(choices=CHOICES)
    widget.allow_multiple_selected = True
    html = widget.render("s", ["a", "g1"])
    assert html == django_html(widget, "s", ["a", "g1"])
    assert html.count(" selected") == 2


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

    monkeypatch.setattr(widgets.PythonRendered, "written_here", lambda self: False)
    theirs = CaseFilterForm(data, user=user)
    assert {name: str(theirs[name]) for name in theirs.fields} == ours_html
    if data and "category" in data and data["category"] != "999999":
        assert " selected>" in ours_html["category"]
