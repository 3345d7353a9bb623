"""A list's rows read by `listing.RowReader` (the row statement compiled once per connection)
are the objects the ORM builds for the same ids: every column of the case and of each joined
row, the joined rows in place (no query when a row shows them), a missing one None, in the
list's order; and a queryset it cannot serve is read by the ORM as before. A case page's case
(selectors.case_detail) is read the same way, with its prefetches, on any database."""

import pytest
from django.db import connection, connections
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from disputes import selectors
from disputes.listing import CaseListPaginator, RowReader, case_page
from disputes.models import Case, CaseEvent, ExtensionRequest, SupervisionCard
from tests.disputes.test_scope_branches import NOW, RandomWorld, fresh, reference_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("lists read rows this way on PostgreSQL only (listing._fast)")


def columns(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def same_objects(got: list, expected: list, related: tuple[str, ...]):
    assert [c.pk for c in got] == [c.pk for c in expected]
    for case, reference in zip(got, expected, strict=True):
        assert columns(case) == columns(reference)
        for path in related:
            mine, theirs = case, reference
            for name in path.split("__"):
                mine = getattr(mine, name, None) if mine is not None else None
                theirs = getattr(theirs, name, None) if theirs is not None else None
            assert (mine is None) == (theirs is None), path
            if mine is not None:
                assert type(mine) is type(theirs) and columns(mine) == columns(theirs), path


@pytest.mark.parametrize(
    "related", [selectors.LIST_RELATED, selectors.PAGE_RELATED], ids=["api", "page"]
)
@pytest.mark.parametrize(
    "filters", [{}, {"sort": "sla"}, {"colour": "red"}, {"q": "李四"}], ids=lambda f: str(f)
)
def test_the_rows_are_the_orms_objects(postgresql, related, filters):
    world = RandomWorld(7)
    for name in ("street_staff", "two_posts", "assisting", "admin"):
        user = fresh(world.users[name])
        qs = selectors.case_list(user=user, filters={**filters, "now": NOW}, related=related)
        expected_ids = reference_list(fresh(user), filters)
        assert expected_ids or name == "assisting"
        for offset in range(0, len(expected_ids) + 5, 9):
            got = case_page(qs, offset, 9)
            with CaptureQueriesContext(connection) as captured:
                for case in got:  # what a row shows: joined, no query of its own
                    for path in related:
                        obj = case
                        for part in path.split("__"):
                            obj = getattr(obj, part, None) if obj is not None else None
            assert not captured, [q["sql"][:80] for q in captured]
            ids = expected_ids[offset : offset + 9]
            by_id = Case.objects.select_related(*related).in_bulk(ids)
            same_objects(got, [by_id[pk] for pk in ids], related)


def test_the_reader_is_made_once_per_connection_and_set_of_joins(postgresql):
    world = RandomWorld(3)
    readers = connections["default"].__dict__.setdefault("case_row_readers", {})
    readers.clear()
    for name in ("street_staff", "district_staff", "grid_worker"):
        user = fresh(world.users[name])
        for related in (selectors.LIST_RELATED, selectors.PAGE_RELATED):
            CaseListPaginator(selectors.case_list(user=user, related=related), 5).page(1)
    assert len(readers) == 2


def test_rows_it_cannot_serve_are_read_by_the_orm(postgresql):
    world = RandomWorld(5)
    qs = selectors.case_list(user=fresh(world.users["district_staff"]))
    assert RowReader.of(qs.defer("description")) is None
    assert RowReader.of(qs.prefetch_related("parties")) is None
    assert RowReader.of(qs.extra(select={"x": "1"})) is None
    assert RowReader.of(qs) is not None
    page = CaseListPaginator(qs.defer("description"), 6).page(1).object_list
    assert [c.pk for c in page] == reference_list(fresh(world.users["district_staff"]))[:6]
    assert "description" in page[0].get_deferred_fields()


# What a case page shows of each prefetched relation, with the rows joined to each.
PREFETCHED = {**selectors.DETAIL_RELATIONS, "assistants": ()}


def orm_prefetch() -> tuple:
    """The ORM's own prefetches of what a case page reads (its Prefetch objects)."""
    return (
        *(
            Prefetch(name, queryset=Case._meta.get_field(name).related_model.objects
                     .select_related(*joins))
            for name, joins in selectors.DETAIL_RELATIONS.items()
        ),
        "assistants",
        "category__laws",
        "category__typical_cases",
    )  # fmt: skip


def with_history(world) -> None:
    """Every third case a timeline, an extension asked for and a supervision card."""
    people = [fresh(u) for u in world.users.values()]
    for n, case in enumerate(Case.objects.order_by("pk")[::3]):
        actor = people[n % len(people)]
        for kind in ("filed", "accepted", "progress")[: 1 + n % 3]:
            CaseEvent.objects.create(case=case, kind=kind, actor=actor, at=NOW)
        ExtensionRequest.objects.create(case=case, days=5, reason="等待鉴定", requested_by=actor)
        SupervisionCard.objects.create(
            case=case, colour="yellow", step="not_assigned", area=case.area,
            issued_by=actor if n % 2 else None, issued_at=NOW, reply_due_at=NOW,
        )  # fmt: skip


def test_a_case_page_reads_the_case_the_orm_reads():
    world = RandomWorld(11)
    with_history(world)
    cases = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for name in ("street_staff", "grid_worker", "assisting", "liaison", "admin"):
        user = fresh(world.users[name])
        visible = set(reference_list(fresh(user)))
        for pk in cases[::7]:
            if pk not in visible:
                with pytest.raises(Case.DoesNotExist):
                    selectors.case_detail(user=user, pk=pk)
                continue
            got = selectors.case_detail(user=user, pk=pk)
            expected = (
                Case.objects.select_related(*selectors.DETAIL_RELATED)
                .prefetch_related(*orm_prefetch())
                .get(pk=pk)
            )
            same_objects([got], [expected], selectors.DETAIL_RELATED)
            with CaptureQueriesContext(connection) as captured:
                for lookup, joined in PREFETCHED.items():
                    mine = list(getattr(got, lookup).all())
                    theirs = list(getattr(expected, lookup).all())
                    same_objects(mine, theirs, joined)
                    # Each row knows its case, as prefetch_related leaves it.
                    assert all(row.case is got for row in mine if lookup != "assistants")
                for lookup in ("laws", "typical_cases"):
                    mine = [columns(o) for o in getattr(got.category, lookup).all()]
                    assert mine == [columns(o) for o in getattr(expected.category, lookup).all()]
            assert len(captured) == 0  # prefetched, as before
    with pytest.raises(Case.DoesNotExist):
        selectors.case_detail(user=fresh(world.users["admin"]), pk=max(cases) + 1)


def test_a_lists_branches_are_compiled_once_for_its_count_and_its_page(postgresql, monkeypatch):
    """The count and the page of a list in its default order share the branches' compiled
    conditions (listing._compiled): each branch compiled once, not once per statement."""
    from disputes import listing

    compiled = []
    real = listing._compile
    monkeypatch.setattr(listing, "_compile", lambda branch: compiled.append(1) or real(branch))
    world = RandomWorld(3)
    user = fresh(world.users["two_posts"])
    qs = selectors.case_list(user=user, filters={"now": NOW}, related=selectors.PAGE_RELATED)
    page = CaseListPaginator(qs, 5).get_page(1)
    assert [c.pk for c in page.object_list] == reference_list(fresh(user), {})[:5]
    assert len(compiled) == len(listing._branches(qs)) > 1
