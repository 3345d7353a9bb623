"""The monthly ranking (考核排名) on a known month (assessment_world.py): every figure as
worked out by hand, the same on the page, in the API and in the Excel file; the drill-down
and its scope; six months of trend; a fixed number of queries.

Three users: the street centre of 解放碑街道 (`street`), the district centre above it
(`district`), and outsiders (a grid worker; the street asking for another street)."""

import io
import re
from datetime import date

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from assessment import metrics, services
from assessment.figures import card_model, cards_in_use
from assessment.models import AssessmentRow, UnitKind
from disputes.demo import seed_categories
from grids.demo import seed as seed_demo
from grids.models import Department
from tests.assessment.assessment_world import (
    C1,
    C2,
    DEPARTMENTS,
    DISTRICT,
    MARCH,
    PEOPLE,
    S1,
    SCORES,
    TASK_TIME,
    VOLUMES,
    build,
)
from tests.dashboards.dashboard_world import FAST_HASHERS, World, _at, local

pytestmark = pytest.mark.django_db
RANKING = reverse("assessment:ranking")
EXPORT = reverse("assessment:export")
API = reverse("assessment-api:ranking")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The world and March's published snapshot, inside an outer transaction rolled back at
    the end of the module (each test runs in a savepoint within it)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with _at(local(1, 1)):
                seed_demo()
                seed_categories()
            w = build(World())
            with _at(TASK_TIME):
                w.snapshot = services.snapshot_compute(month=MARCH, reason="test")
                services.snapshot_publish(snapshot=w.snapshot, actor=w.admin)
            yield w
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def w(seeded, db, time_machine):
    time_machine.move_to(TASK_TIME, tick=False)
    return seeded


def rate_text(part, whole) -> str:
    return "—" if not whole else f"{part / whole * 100:.1f}%"


def row_of(w, kind, unit_id, community_id=None) -> AssessmentRow:
    rows = AssessmentRow.objects.filter(snapshot=w.snapshot, kind=kind, unit_id=unit_id)
    if kind == UnitKind.PERSON:
        rows = rows.filter(community_id=community_id)
    return rows.get()


# --- the figures, worked out by hand ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [("c1", "community", C1), ("c2", "community", C2), ("s1", "street", S1),
     ("district_area", "district", DISTRICT)],
)  # fmt: skip
def test_it_counts_every_figure_of_an_area_as_worked_out_by_hand(w, name, kind, expected):
    row = row_of(w, kind, getattr(w, name).pk)
    assert row.figures == expected


def test_it_adds_up_a_street_from_its_communities(w):
    street = row_of(w, "street", w.s1.pk)
    communities = AssessmentRow.objects.filter(snapshot=w.snapshot, kind="community",
                                               street_id=w.s1.pk)  # fmt: skip
    for code, (part, whole) in street.figures.items():
        assert part == sum(r.figures[code][0] for r in communities)
        if whole is not None:
            assert whole == sum(r.figures[code][1] for r in communities)
    assert street.volume == sum(r.volume for r in communities) == VOLUMES["S1"]


def test_it_scores_weights_and_ranks_the_units_within_their_district_and_band(w):
    c4 = w.areas["500103002001"]
    expected = {
        ("community", w.c1.pk): (SCORES["C1"], 1, VOLUMES["C1"]),
        ("community", w.c2.pk): (SCORES["C2"], 2, VOLUMES["C2"]),
        ("community", c4.pk): (SCORES["C4"], 3, VOLUMES["C4"]),
        ("street", w.s1.pk): (SCORES["S1"], 1, VOLUMES["S1"]),
        ("street", w.s2.pk): (SCORES["S2"], 2, VOLUMES["S2"]),
        ("district", w.district_area.pk): (SCORES["district"], 1, VOLUMES["district"]),
    }
    for (kind, pk), (score, rank, volume) in expected.items():
        row = row_of(w, kind, pk)
        assert (row.score, row.rank, row.volume) == (score, rank, volume), (kind, row.name)
    assert row_of(w, "community", w.c1.pk).ranked_among == 3
    assert row_of(w, "community", w.c1.pk).band == "小（不足20件）"
    # No case at all: no score, no rank (not a 0 at the bottom of the table).
    assert (row_of(w, "community", w.c3.pk).score, row_of(w, "community", w.c3.pk).rank) == (
        None, None,
    )  # fmt: skip


def test_it_scores_each_grid_worker_per_community_on_the_cases_assigned_to_them(w):
    c4 = w.areas["500103002001"]
    places = {"C1": w.c1, "C2": w.c2, "C4": c4}
    for (username, community), expected in PEOPLE.items():
        row = row_of(w, "person", getattr(w, username).pk, places[community].pk)
        assert row.volume == expected["volume"]
        assert (row.score, row.rank) == (expected["score"], expected["rank"])
        for code in ("first_handling", "closing", "verified_resolution", "satisfaction"):
            assert row.figures[code] == expected[code], (username, code)
        # Acceptance and assignment are the centre's, callbacks the street's.
        assert "acceptance" not in row.figures and "callback_coverage" not in row.figures


def test_it_scores_departments_on_their_tasks(w):
    for code, expected in DEPARTMENTS.items():
        row = row_of(w, "department", Department.objects.get(code=code).pk)
        assert row.volume == expected["volume"]
        assert (row.score, row.rank) == (expected["score"], expected["rank"])
        for figure in ("acceptance", "closing", "verified_resolution"):
            assert row.figures[figure] == expected[figure], (code, figure)


def test_it_counts_supervision_cards_or_says_they_are_not_in_use_yet(client, w):
    client.force_login(w.district)
    html = client.get(RANKING).content.decode()
    received = row_of(w, "street", w.s1.pk).figures["cards_received"]
    if not cards_in_use():
        assert received == [0, None]
        assert "督办卡（待上线）" in html
        return
    assert "督办卡（待上线）" not in html
    issued = card_model().objects.filter(
        issued_at__gte=local(3, 1, 0),
        issued_at__lt=local(4, 1, 0),
        area__path__startswith=w.s1.path,
    )
    assert received == [issued.count(), None]


def test_it_counts_each_card_for_the_unit_it_was_issued_to(w):
    if not cards_in_use():
        pytest.skip("the product has no supervision cards in this branch")
    Card = card_model()
    # One card to the community, answered in time; one to the street, answered late.
    before = {k: row_of(w, k, a.pk).figures for k, a in (("community", w.c1), ("street", w.s1))}
    for area, replied in ((w.c1, local(3, 11)), (w.s1, local(3, 20))):
        Card.objects.create(
            case=w.case("g"), colour="yellow", step="manual", area=area, note="督办",
            issued_at=local(3, 10), reply_due_at=local(3, 12), replied_at=replied,
            replied_late=replied > local(3, 12),
        )  # fmt: skip
    again = services.snapshot_compute(month=MARCH, actor=w.admin)
    c1 = AssessmentRow.objects.get(snapshot=again, kind="community", unit_id=w.c1.pk).figures
    s1 = AssessmentRow.objects.get(snapshot=again, kind="street", unit_id=w.s1.pk).figures

    def plus(old, part, whole):
        return [old[0] + part, None if old[1] is None else old[1] + whole]

    assert c1["cards_received"] == plus(before["community"]["cards_received"], 1, 0)
    assert c1["cards_answered"] == plus(before["community"]["cards_answered"], 1, 1)
    assert s1["cards_received"] == plus(before["street"]["cards_received"], 2, 0)
    assert s1["cards_answered"] == plus(before["street"]["cards_answered"], 1, 2)


# --- page, API and Excel agree ---------------------------------------------------------------


def page_cells(html: str, unit_id: int) -> dict[str, str]:
    row = re.search(rf'<tr data-unit="{unit_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row for unit {unit_id}"
    cells = dict(re.findall(r'data-col="([a-z_]+)">([^<]*)<', row.group(1)))
    return {k: v.strip() for k, v in cells.items()}


def excel_rows(content: bytes) -> tuple[list, dict[str, list]]:
    book = load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "排名")
    headers = rows[header_at]
    by_name = {r[1]: dict(zip(headers, r, strict=True)) for r in rows[header_at + 1 :] if r[1]}
    definitions = {r[0]: r[1] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    return headers, by_name, definitions


def test_it_shows_the_same_figures_and_definitions_on_the_page_in_the_api_and_in_excel(client, w):
    client.force_login(w.district)
    params = {"month": "2026-03", "area": w.s1.pk, "kind": "community"}
    html = client.get(RANKING, params).content.decode()
    api = client.get(API, params).json()
    excel = client.get(EXPORT, params)
    assert excel["Content-Type"].startswith("application/vnd.openxmlformats")
    _headers, sheet, definitions = excel_rows(excel.content)
    api_rows = {r["unit_id"]: r for r in api["rows"]}

    for area, expected, score in ((w.c1, C1, SCORES["C1"]), (w.c2, C2, SCORES["C2"])):
        cells = page_cells(html, area.pk)
        api_row = api_rows[area.pk]
        excel_row = sheet[area.name]
        assert cells["score"] == f"{score:.2f}" == api_row["score"]
        assert excel_row["得分"] == float(score)
        api_figures = {f["code"]: f for f in api_row["figures"]}
        for metric in metrics.for_kind("community"):
            part, whole = expected[metric.code]
            short = str(metric.short)
            if metric.is_count:
                assert cells[metric.code] == str(part) == api_figures[metric.code]["text"]
                assert excel_row[short] == part
                continue
            text = rate_text(part, whole)
            assert cells[metric.code] == text == api_figures[metric.code]["text"], metric.code
            assert (api_figures[metric.code]["part"], api_figures[metric.code]["whole"]) == (
                part, whole,
            )  # fmt: skip
            assert cells[f"{metric.code}_parts"] == f"{part}/{whole}"
            assert excel_row[f"{short}（达标/应办）"] == f"{part}/{whole}"
            expected_rate = round(part / whole, 4) if whole else None
            assert api_figures[metric.code]["rate"] == excel_row[short] == expected_rate

    # One set of definitions, word for word, beside the figures everywhere.
    api_definitions = {d["term"]: d["definition"] for d in api["definitions"]}
    assert api_definitions == definitions
    for term, text in definitions.items():
        assert f'<dt>{term}</dt><dd class="text-muted">{text}</dd>' in html.replace("&#x27;", "'")
    assert "按时办结" in definitions and "核实化解率" in definitions


def test_it_shows_the_definition_of_each_column_as_its_tooltip(client, w):
    client.force_login(w.street)
    html = client.get(RANKING).content.decode()
    for metric in metrics.for_kind("community"):
        assert f'title="{metric.definition}" data-col="{metric.code}"' in html


def test_it_writes_the_excel_file_in_chinese_for_an_english_speaker(client, w):
    client.force_login(w.district)
    client.cookies["django_language"] = "en"
    response = client.get(EXPORT, {"kind": "street"}, HTTP_ACCEPT_LANGUAGE="en")
    headers, sheet, _definitions = excel_rows(response.content)
    assert headers[:6] == ["排名", "名称", "所在", "量级分档", "办件量", "得分"]
    assert sheet["解放碑街道"]["得分"] == float(SCORES["S1"])
    assert "%E8%80%83%E6%A0%B8" in response["Content-Disposition"]  # 考核


# --- drill-down and scope --------------------------------------------------------------------


def test_it_lets_the_district_drill_from_streets_to_communities_to_grid_workers(client, w):
    client.force_login(w.district)
    html = client.get(RANKING).content.decode()
    assert f'<tr data-unit="{w.s1.pk}">' in html and f'<tr data-unit="{w.s2.pk}">' in html
    link = re.search(rf'<tr data-unit="{w.s1.pk}">.*?href="([^"]+)"', html, re.S).group(1)
    html = client.get(RANKING + link.replace("&amp;", "&")).content.decode()
    assert 'data-testid="container">解放碑街道<' in html
    assert f'<tr data-unit="{w.c1.pk}">' in html and f'<tr data-unit="{w.c2.pk}">' in html
    link = re.search(rf'<tr data-unit="{w.c1.pk}">.*?href="([^"]+)"', html, re.S).group(1)
    html = client.get(RANKING + link.replace("&amp;", "&")).content.decode()
    assert f'<tr data-unit="{w.mediator.pk}">' in html
    assert f'<tr data-unit="{w.gridworker.pk}">' in html
    # The community's own scorecard heads its grid workers.
    assert re.search(r'data-figure="score">\s*67.33<', html)


def test_it_shows_a_street_its_street_and_what_is_below_it_only(client, w):
    client.force_login(w.street)
    response = client.get(RANKING)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="container">解放碑街道<' in html
    assert f'<tr data-unit="{w.c1.pk}">' in html
    assert f'data-unit="{w.areas["500103002001"].pk}"' not in html  # 七星岗's community
    # Another street, the district, or the departments: refused with a reason.
    for params in ({"area": w.s2.pk}, {"area": w.district_area.pk}, {"kind": "department"}):
        refused = client.get(RANKING, params)
        assert refused.status_code == 400
        assert f'data-unit="{w.s2.pk}"' not in refused.content.decode()
        api = client.get(API, params)
        assert api.status_code == 400 and api.json()["errors"]


def test_it_refuses_the_ranking_to_a_grid_worker(client, w):
    client.force_login(w.gridworker)
    assert client.get(RANKING).status_code == 403
    assert client.get(API).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(reverse("assessment-api:months")).status_code == 403


def test_it_answers_a_bad_month_or_version_with_400_and_the_reason(client, w):
    client.force_login(w.district)
    assert client.get(API, {"month": "March"}).json()["errors"]["month"]
    assert client.get(API, {"month": "2026-03", "version": 9}).json()["errors"]["version"]
    assert client.get(RANKING, {"kind": "nonsense"}).status_code == 400
    nothing = client.get(API, {"month": "2025-01"}).json()
    assert nothing["snapshot"] is None and nothing["rows"] == []


# --- trend -----------------------------------------------------------------------------------


def test_it_shows_each_units_score_over_the_last_six_months(client, w):
    with time_machine.travel(local(4, 1, 4), tick=False):
        february = services.snapshot_compute(month=date(2026, 2, 1), reason="test")
        services.snapshot_publish(snapshot=february, actor=w.admin)
    client.force_login(w.district)
    api = client.get(API, {"month": "2026-03", "kind": "street"}).json()
    assert api["trend_months"] == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02",
                                   "2026-03"]  # fmt: skip
    s1 = next(r for r in api["rows"] if r["unit_id"] == w.s1.pk)
    february_s1 = row_of(w, "street", w.s1.pk).__class__.objects.get(
        snapshot=february, kind="street", unit_id=w.s1.pk
    )
    assert s1["trend"] == [None, None, None, None, str(february_s1.score), str(SCORES["S1"])]
    html = client.get(RANKING, {"month": "2026-03", "area": w.s1.pk}).content.decode()
    assert re.search(r'<script id="chart-trend" type="application/json">', html)


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["district", "street"])
def test_it_builds_the_page_in_a_fixed_number_of_queries(
    client, w, user, django_assert_max_num_queries
):
    # Session, user, scope (3); the area asked for (1); the versions (1); the rows to sort
    # and their container's (1), the page's whole rows (1); six months of scores (1); the
    # breadcrumb (1); unread messages (1); the instructions banner (1).
    client.force_login(getattr(w, user))
    for params in ({}, {"area": w.s1.pk, "kind": "community"}, {"area": w.c1.pk}):
        with django_assert_max_num_queries(11):
            assert client.get(RANKING, params).status_code in (200, 400)


def test_it_answers_the_api_in_a_fixed_number_of_queries(client, w, django_assert_max_num_queries):
    client.force_login(w.district)
    for params in ({}, {"area": w.s1.pk, "kind": "person"}):
        with django_assert_max_num_queries(8):
            assert client.get(API, params).status_code == 200


def test_it_shows_an_administrator_the_citys_districts_first(client, w):
    client.force_login(w.admin)
    html = client.get(RANKING).content.decode()
    assert 'data-testid="container">全市<' in html
    cells = page_cells(html, w.district_area.pk)
    assert cells["score"] == f"{SCORES['district']:.2f}"
    assert cells["acceptance_parts"] == "6/9"


def test_it_lists_the_departments_for_the_district_centre(client, w):
    client.force_login(w.district)
    api = client.get(API, {"kind": "department"}).json()
    hrss = next(r for r in api["rows"] if r["name"] == "区人力资源和社会保障局")
    figures = {f["code"]: [f["part"], f["whole"]] for f in hrss["figures"]}
    assert figures["acceptance"] == DEPARTMENTS["HRSS"]["acceptance"]
    assert figures["closing"] == DEPARTMENTS["HRSS"]["closing"]
    assert hrss["score"] == str(DEPARTMENTS["HRSS"]["score"])
    assert "assignment" not in figures  # assigning is the centres' step, not a bureau's


def test_it_lists_the_versions_a_user_may_open(client, w):
    client.force_login(w.street)
    months = client.get(reverse("assessment-api:months")).json()
    assert [(m["month"], m["version"], m["published"]) for m in months] == [("2026-03-01", 1, True)]
