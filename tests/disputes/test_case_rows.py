"""A case list's rows, written by the `case_rows` tag (disputes_tags), give the markup the
{% for %} loop of disputes/list.html wrote before: for cases in every colour, with and
without reasons and "due soon" warnings, text that needs escaping, in Chinese and English."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from disputes import views
from disputes.models import Case
from tests.disputes.test_due_soon import random_world
from tests.disputes.test_sla_engine import T0, file

pytestmark = pytest.mark.django_db

# The loop of disputes/list.html as it was, for reference.
LOOP_BEFORE = (
    "{% load i18n humanize disputes_tags %}"
    "{% for row in rows %}{% with case=row.case %}\n"
    '  <a class="list-group-item list-group-item-action" href="{% url \'disputes:detail\' '
    'case.pk %}" data-case="{{ case.number }}">\n'
    '    <div class="d-flex justify-content-between flex-wrap gap-1">\n'
    "      <strong>{{ case.cause }}</strong>\n"
    "      <span>{% due_soon_badge row.soon %}\n"
    " {% sla_badge row.sla.0 %}\n"
    ' <span class="badge text-bg-secondary">{{ case.get_status_display }}</span></span>\n'
    "    </div>\n"
    '    {% if row.labels %}<div class="small fw-semibold sla-{{ row.sla.0 }}" '
    'data-testid="sla-reasons">{{ row.labels|join:"、" }}</div>{% endif %}\n'
    '    {% if row.soon %}<div class="small text-warning-emphasis" data-testid="due-soon">'
    '{{ row.soon|join:"、" }}</div>{% endif %}\n'
    '    <div class="small text-muted">{{ case.number }} · {{ case.category.name }} · '
    "{{ case.get_risk_level_display }} · {{ case.handling_area.name }} · "
    '{{ case.filed_at|date:"Y-m-d H:i" }}</div>\n'
    "  </a>\n"
    "  {% endwith %}{% endfor %}"
)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def rows_now() -> list[dict]:
    cases = Case.objects.select_related("category", "handling_area", "sla_policy", "sla_check")
    return views._rows(type("Page", (), {"object_list": list(cases.order_by("pk"))}))


def test_the_rows_are_what_the_loop_wrote(time_machine):
    w = random_world(time_machine, seed=20261204)
    file(w, cause='<b>"吵闹"</b> & 噪音', address="<script>x</script>")
    w.category.name = "邻里<纠纷>"
    w.category.save(update_fields=["name"])
    seen_colours, seen_soon = set(), False
    for days in (0, 5, 12, 26, 40):
        time_machine.move_to(timezone.now() + timedelta(days=days))
        rows = rows_now()
        seen_colours |= {row["sla"][0] for row in rows}
        seen_soon |= any(row["soon"] for row in rows)
        for language in ("zh-hans", "en"):
            with translation.override(language):
                before = Template(LOOP_BEFORE).render(Context({"rows": rows}))
                after = Template("{% load disputes_tags %}{% case_rows rows %}").render(
                    Context({"rows": rows})
                )
            assert after == before
            assert after.count("<a ") == len(rows) == 25
    assert seen_colours == {"green", "orange", "red"}  # every branch of the badge was written
    assert seen_soon
    assert "&lt;b&gt;&quot;吵闹&quot;&lt;/b&gt; &amp; 噪音" in after
    assert "邻里&lt;纠纷&gt;" in after


def test_an_empty_list_writes_nothing():
    assert Template("{% load disputes_tags %}{% case_rows rows %}").render(
        Context({"rows": []})
    ) == Template(LOOP_BEFORE).render(Context({"rows": []}))
