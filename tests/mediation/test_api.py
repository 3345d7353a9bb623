"""The read-only mediation API: a case's sessions, agreement (obligations, signatures,
confirmation) and ready papers; 404 outside the scope; a query budget that does not grow
with the sessions and obligations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mediation import services
from tests.disputes.test_api import client_for, seeded, w  # noqa: F401
from tests.mediation.world import make_agreement, sign_everyone

pytestmark = pytest.mark.django_db


def test_it_gives_a_cases_mediation_within_scope_only(w, printed, django_assert_max_num_queries):  # noqa: F811
    with printed():
        agreement = sign_everyone(w, make_agreement(w))
    case = agreement.case
    services.session_schedule(
        case=case,
        actor=w.mediator,
        starts_at=timezone.now() + timedelta(days=1),
        place="调解室",
        mediators=[w.mediator],
        invited=[w.lawyer],
    )
    url = f"/api/v1/mediation/cases/{case.pk}/"
    assert client_for(w.gridworker2).get(url).status_code == 404
    assert client_for(w.gridworker2).get("/api/v1/mediation/cases/999999999/").status_code == 404
    with django_assert_max_num_queries(25):
        response = client_for(w.judge).get(url)
    body = response.json()
    assert response.status_code == 200
    assert body["agreement"]["number"] == agreement.number
    assert body["agreement"]["status"] == "signed" and len(body["agreement"]["sha256"]) == 64
    assert [o["party"] for o in body["agreement"]["obligations"]] == ["王强", "李秀英"]
    assert len(body["agreement"]["signatures"]) == 3 and body["agreement"]["confirmation"] is None
    assert body["sessions"][0]["place"] == "调解室"
    [final] = body["documents"]
    assert final["final"] and final["url"].endswith("/file/")
    assert "13912345678" not in response.content.decode()
