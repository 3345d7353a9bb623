"""The ranking page (考核排名) with its drill-down (district → streets → communities → grid
workers), six months' trend and every figure's definition, and its Excel file."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grids.models import Area

from . import metrics, selectors
from .export import workbook_response
from .forms import Where, where_for
from .models import UnitKind
from .present import row_view, score_text


def _query(where: Where, **changes) -> str:
    params = {}
    if where.month:
        params["month"] = f"{where.month:%Y-%m}"
    if where.container is not None:
        params["area"] = where.container.pk
    params["kind"] = where.kind
    params.update(changes)
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _crumbs(user, container: Area | None) -> list[dict]:
    """The container's ancestors the user may open, top first. One query."""
    if container is None:
        return []
    found = selectors.roots(user)
    tops = [""] if found is None else [r.path for r in found]
    ancestors = Area.objects.filter(path__in=container.ancestor_paths()).order_by("path")
    return [
        {"pk": a.pk, "name": a.name}
        for a in ancestors.only("pk", "name", "path")
        if any(a.path.startswith(top) for top in tops)
    ]


def _tabs(where: Where) -> list[dict]:
    labels = dict(UnitKind.choices)
    return [
        {
            "kind": kind,
            "label": labels[kind],
            "active": kind == where.kind,
            "url": "?" + _query(where, kind=kind, version=None),
        }
        for kind in where.kinds
    ]


def _months(where: Where) -> list[dict]:
    months = sorted({s.month for s in where.snapshots}, reverse=True)
    return [{"value": f"{m:%Y-%m}", "selected": m == where.month} for m in months]


def _versions(where: Where) -> list[dict]:
    return [
        {
            "version": s.version,
            "published": s.published,
            "current": s == where.snapshot,
            "url": "?" + _query(where, version=s.version),
        }
        for s in sorted(where.snapshots, key=lambda s: s.version)
        if s.month == where.month
    ]


def page_context(user, where: Where) -> dict:
    context = {"where": where, "definitions": metrics.definitions()}
    if where.snapshot is None:
        return context
    ranking = selectors.ranking(
        snapshot=where.snapshot,
        kind=where.kind,
        container=where.container,
        snapshots=where.snapshots,
        page=where.page,
    )
    rows = [row_view(r, ranking.metrics) for r in ranking.rows]
    # The long loop of the page: each row's cells are built here, where they cost a tenth
    # of the same work in the template (a district lists hundreds of communities).
    for row in rows:
        row["url"] = _drill_url(where, row)
        row["cells_html"] = _cells_html(row["cells"])
        row["trend_text"] = " · ".join(score_text(v) for v in row["trend"] or [])
    parent = None
    if ranking.parent is not None:
        specs = metrics.for_kind(ranking.parent.kind)
        parent = row_view(ranking.parent, specs)
        for spec, cell in zip(specs, parent["cells"], strict=True):
            cell["label"], cell["definition"] = spec.label, spec.definition
    months = [f"{m:%Y-%m}" for m in ranking.trend_months]
    chart = None
    if parent is not None:
        chart = {
            "type": "line",
            "labels": months,
            "series": [{"name": _("Score"), "data": [_number(v) for v in parent["trend"]]}],
        }
    context.update(
        ranking=ranking,
        pages=_pages(where, ranking),
        rows=rows,
        parent=parent,
        trend_months=months,
        chart=chart,
        columns=[
            {"code": m.code, "short": m.short, "definition": m.definition, "pending": m.pending}
            for m in ranking.metrics
        ],
    )
    return context


def _cells_html(cells: list[dict]) -> str:
    return format_html_join(
        "",
        '<td class="text-end" data-col="{}">{}{}</td>',
        (
            (
                c["code"],
                c["text"],
                format_html(
                    '<div class="text-muted" data-col="{}_parts">{}</div>', c["code"], c["parts"]
                )
                if c["parts"]
                else "",
            )
            for c in cells
        ),
    )


def _pages(where: Where, ranking) -> list[dict]:
    if ranking.pages <= 1:
        return []
    return [
        {"number": n, "current": n == ranking.page, "url": "?" + _query(where, page=n)}
        for n in range(1, ranking.pages + 1)
    ]


def _drill_url(where: Where, row: dict) -> str | None:
    if not row["drill_kind"] or row["kind"] == UnitKind.DEPARTMENT:
        return None
    return "?" + _query(where, area=row["unit_id"], kind=row["drill_kind"], version=None)


def _number(value):
    return None if value is None else float(value)


@login_required
@require_GET
def ranking(request):
    where, form = where_for(request.user, request.GET)
    context = page_context(request.user, where)
    context.update(
        form=form,
        crumbs=_crumbs(request.user, where.container),
        top_allowed=selectors.roots(request.user) is None,
        tabs=_tabs(where),
        months=_months(where),
        versions=_versions(where),
        export_url=reverse("assessment:export")
        + "?"
        + _query(where, version=where.snapshot.version)
        if where.snapshot
        else None,
        container_name=where.container.name if where.container else _("Whole city"),
    )
    return render(request, "assessment/ranking.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def export(request):
    where, form = where_for(request.user, request.GET)
    if form.errors or where.snapshot is None:
        context = {"form": form, "where": where}
        status = 400 if form.errors else 404
        return render(request, "assessment/export_refused.html", context, status=status)
    return workbook_response(where)
