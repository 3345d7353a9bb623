"""The demo categories and cases: the 15 national people's-mediation types as the first level,
the types from the source reports under them, and a few cases through the real services."""

from disputes.demo import seed
from disputes.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStatus,
    Category,
    HandlingLevel,
    Law,
    Party,
    TypicalCase,
)
from grids.models import Department


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Category, Law, TypicalCase, Case, Party, CaseEvent)
    } | {"numbers": list(CaseNumberSequence.objects.values_list("year", "last"))}


# `demo` (tests/conftest.py) seeds the demo district and its people first, as `make run` does.


def test_it_seeds_the_15_national_types_each_with_second_level_types(demo):
    seed()
    first_level = Category.objects.filter(parent__isnull=True)
    assert first_level.count() == 15
    assert {c.name for c in first_level} >= {"婚姻家庭", "劳动争议", "物业纠纷", "其他纠纷"}
    for category in first_level:
        assert category.children.exists(), category.name
    assert not Category.objects.filter(parent__parent__isnull=False).exists()  # two levels only


def test_it_is_idempotent(demo):
    seed()
    first = counts()
    seed()
    assert counts() == first


def test_it_routes_the_seeded_types_to_their_departments(demo):
    seed()
    wages = Category.objects.get(code="1001")
    assert wages.lead_department == Department.objects.get(code="HRSS")
    assert wages.parent.name == "劳动争议"
    assert Category.objects.get(code="0201").default_handling_level == HandlingLevel.GRID
    assert wages.laws.filter(title="保障农民工工资支付条例").exists()
    assert wages.typical_cases.exists()
    # Every type carries the People's Mediation Law for the mediator to read.
    assert (
        not Category.objects.filter(parent__isnull=False)
        .exclude(laws__title="中华人民共和国人民调解法")
        .exists()
    )


def test_it_seeds_cases_through_the_services_with_their_timelines(demo):
    seed()
    assert Case.objects.count() == 4
    statuses = sorted(Case.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [CaseStatus.FILED, CaseStatus.IN_MEDIATION, CaseStatus.RESOLVED, CaseStatus.FILED]
    )
    for case in Case.objects.all():
        assert case.number.startswith("JF")
        assert case.events.filter(kind=CaseEvent.Kind.FILED).count() == 1
        assert case.parties.filter(side="applicant").exists()
        assert case.grid_id and case.community_id and case.street_id and case.district_id
