"""The case page's action forms, written in Python (common.widgets), give the page the same
markup as Django's widget templates did; the assign form's two selects of people read them
once and write what Django's own choices would."""

import re

import pytest
from django.db import connection
from django.forms.models import ModelChoiceIterator
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common import widgets
from disputes import forms, selectors
from tests.disputes import test_pages
from tests.disputes.test_pages import file_case, login

pytestmark = pytest.mark.django_db
world = test_pages.world  # the fixture

# Per response: the CSRF token is masked anew and the live-update token is signed with the time.
PER_RESPONSE = re.compile(r'(value="|X-CSRFToken": "|data-live-token="|data-live-at=")[^"]*"')


def page(client, url) -> str:
    return PER_RESPONSE.sub(r'\1…"', client.get(url).content.decode())


@pytest.mark.parametrize("username", ["street", "gridworker"])
def test_the_case_page_is_the_same_with_the_template_widgets(client, world, monkeypatch, username):
    case = file_case(world)
    login(client, world, username)
    url = reverse("disputes:detail", args=[case.pk])
    ours = page(client, url)
    assert "<textarea" in ours  # the action forms are there
    if username == "street":
        assert '<select name="assign-mediator"' in ours
    monkeypatch.setattr(widgets.PythonRendered, "written_here", lambda self: False)
    assert page(client, url) == ours


def test_the_assign_form_reads_its_candidates_once_for_both_selects(client, world, monkeypatch):
    case = file_case(world)
    login(client, world, "street")
    url = reverse("disputes:detail", args=[case.pk])
    with CaptureQueriesContext(connection) as shared:
        ours = page(client, url)
    assert '<select name="assign-mediator"' in ours and 'name="assign-assistants"' in ours
    # As Django writes them: each select iterating its own queryset.
    monkeypatch.setattr(forms, "_PeopleChoices", lambda field, people: ModelChoiceIterator(field))
    with CaptureQueriesContext(connection) as apart:
        assert page(client, url) == ours
    assert len(shared) == len(apart) - 1


def test_a_bound_assign_form_shows_what_was_chosen(world, monkeypatch):
    case = file_case(world)
    candidates = selectors.mediator_candidates(case=case)
    people = list(candidates)
    assert len(people) >= 2
    data = {"assign-mediator": str(people[0].pk), "assign-assistants": [str(people[1].pk)]}

    def written():
        form = forms.AssignForm(data, prefix="assign", candidates=candidates)
        return str(form["mediator"]) + str(form["assistants"]), form

    ours, form = written()
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mediator"] == people[0]
    assert list(form.cleaned_data["assistants"]) == [people[1]]
    assert ours.count(" selected") == 2
    monkeypatch.setattr(forms, "_PeopleChoices", lambda field, people: ModelChoiceIterator(field))
    assert written()[0] == ours
