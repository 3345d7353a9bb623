"""The admin: agreement templates are edited there (per dispute type, one for all types
shipped by a migration); agreements, sessions and confirmations are shown read-only."""

import pytest
from django.urls import reverse

from mediation.models import AgreementTemplate
from tests.disputes.test_api import seeded, w  # noqa: F401
from tests.factories import SuperuserFactory
from tests.mediation.world import make_agreement, sign_everyone

pytestmark = pytest.mark.django_db


def test_the_admin_edits_templates_and_shows_the_rest_read_only(
    client,
    w,  # noqa: F811
    django_assert_max_num_queries,
):
    sign_everyone(w, make_agreement(w))
    client.force_login(SuperuserFactory())
    for model in ("agreementtemplate", "agreement", "mediationsession", "judicialconfirmation"):
        with django_assert_max_num_queries(15):
            assert client.get(reverse(f"admin:mediation_{model}_changelist")).status_code == 200
    assert client.get(reverse("admin:mediation_agreement_add")).status_code == 403
    add = client.post(
        reverse("admin:mediation_agreementtemplate_add"),
        {
            "category": w.categories["0203"].pk,
            "title": "邻里纠纷调解协议书",
            "facts_hint": "",
            "items_hint": "",
            "clauses": "和睦相处",
        },
    )
    assert add.status_code == 302
    assert AgreementTemplate.objects.get(category=w.categories["0203"]).clauses == "和睦相处"


def test_a_template_for_all_types_ships_with_the_product(w):  # noqa: F811
    fallback = AgreementTemplate.objects.get(category__isnull=True)
    assert "一式三份" in fallback.clauses
