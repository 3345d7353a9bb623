"""The case list API's rows written in one pass (disputes.list_rows) are what
CaseListSerializer writes: the same JSON, byte for byte, for cases in every state and colour,
with and without a mediator or a parent type, in Chinese and English, in any time zone; and
the list API answers with them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from disputes import selectors
from disputes.list_rows import CaseRows
from disputes.models import Category
from disputes.serializers import CaseListSerializer
from tests.disputes.test_api import client_for
from tests.disputes.test_due_soon import random_world
from tests.disputes.test_sla_engine import T0, World, file

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(T0, tick=False)


def both(cases, now) -> tuple[bytes, bytes]:
    context = {"now": now}
    ours = CaseRows(cases, child=CaseListSerializer(), context=context).data
    drf = CaseListSerializer(cases, many=True, context=context).data
    return JSONRenderer().render(ours), JSONRenderer().render(drf)


def test_the_rows_are_what_the_serializer_writes(time_machine):
    w = random_world(time_machine, seed=4)
    sub = Category.objects.create(code="sub-1", name='小类<"x">', parent=w.category)
    file(w, cause="<b>吵</b> & 闹", address='"东街" 1号', category=sub)
    cases = list(selectors.case_list(user=w.district).order_by("pk"))
    assert any(c.mediator_id is None for c in cases) and any(c.mediator_id for c in cases)
    colours = set()
    for days in (0, 6, 13, 27, 45):
        now = timezone.now() + timedelta(days=days)
        for language in ("zh-hans", "en"):
            for zone in ("Asia/Shanghai", "UTC"):
                with translation.override(language), timezone.override(zone):
                    ours, drf = both(cases, now)
                assert ours == drf
        rows = CaseRows(cases, child=CaseListSerializer(), context={"now": now}).data
        colours |= {row["sla"]["colour"] for row in rows}
    assert colours == {"green", "orange", "red"}


def test_an_empty_page_is_an_empty_list():
    assert both([], timezone.now()) == (b"[]", b"[]")


def test_the_list_api_answers_with_them(time_machine):
    w = World()
    for n in range(3):
        file(w, cause=f"纠纷{n}")
    response = client_for(w.district).get("/api/v1/cases/?page_size=2")
    assert response.status_code == 200
    newest = list(selectors.case_list(user=w.district)[:2])
    expected = CaseListSerializer(newest, many=True, context={"now": timezone.now()}).data
    assert response.json()["results"] == json.loads(JSONRenderer().render(expected))
    assert response.json()["count"] == 3 and response.json()["next"]
