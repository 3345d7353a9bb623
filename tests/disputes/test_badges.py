"""The SLA and "due soon" badges, written by template tags (disputes_tags), give the markup
the partial templates wrote before."""

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from sla import clock

# disputes/_sla.html and disputes/_due_soon.html as they were, for reference.
SLA_BEFORE = (
    "{% load i18n %}<span class=\"badge rounded-pill {% if colour == 'red' %}text-bg-danger"
    "{% elif colour == 'orange' %}text-bg-warning{% else %}text-bg-success{% endif %}\" "
    'data-sla="{{ colour }}">{% if colour == \'red\' %}{% translate "Red" %}'
    "{% elif colour == 'orange' %}{% translate \"Orange\" %}{% else %}"
    '{% translate "Green" %}{% endif %}</span>\n'
)
DUE_SOON_BEFORE = (
    '{% load i18n %}{% if soon %}<span class="badge rounded-pill bg-warning-subtle '
    'text-warning-emphasis border border-warning" data-due-soon="1" '
    'title="{{ soon|join:\'、\' }}">{% translate "Due soon" %}</span>{% endif %}\n'
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "context",
    [
        {"colour": "red"},
        {"colour": "orange"},
        {"colour": "green"},
        {"colour": clock.RED},
        {"colour": None},
        {"colour": '"><b>'},
        {},
    ],
)
def test_the_sla_badge_is_what_the_template_wrote(language, context):
    with translation.override(language):
        assert render_to_string("disputes/_sla.html", context) == Template(SLA_BEFORE).render(
            Context(context)
        )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "soon",
    [
        None,
        [],
        ["受理期限"],
        [gettext_lazy("Due soon"), 'a<b & "c"', mark_safe("<i>x</i>")],
    ],
)
def test_the_due_soon_badge_is_what_the_template_wrote(language, soon):
    context = {"soon": soon}
    with translation.override(language):
        assert render_to_string("disputes/_due_soon.html", context) == Template(
            DUE_SOON_BEFORE
        ).render(Context(context))
