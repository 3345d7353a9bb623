"""The street-centre triage dashboard (工作台) and its big-screen mode (大屏); the CSV
export is in export.py.

Every figure comes from `stats` (one aggregate query each); the triage actions call the same
services as the case page, with the same error handling, and swap one queue row in place."""

import functools
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from common.errors import attempt
from disputes.actions import ACTIONS, QUEUE_ACTIONS, queue_actions
from disputes.models import CaseStatus, RiskLevel
from grids.models import Area, AreaLevel
from notifications import live
from referrals.selectors import linkage_figures
from sla.clock import COLOUR_LABELS, GREEN, ORANGE, REASONS, RED

from . import periods, stats
from .templatetags.dashboard_tags import percent

# The case list's area filter offers streets and communities; deeper areas are not links.
LIST_AREA_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY)


# --- which area and period ------------------------------------------------------------------


class DashboardForm(forms.Form):
    """?area=&from=&to= — the area must be one the user has a dashboard for."""

    area = forms.ModelChoiceField(
        label=gettext_lazy("Area"), queryset=Area.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = periods.dashboard_areas(user)
        date_input = {"type": "date", "class": "form-control form-control-sm"}
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("From"), required=False, widget=forms.DateInput(date_input)
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To"), required=False, widget=forms.DateInput(date_input)
        )

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["period"] = periods.period_for(cleaned.get("from"), cleaned.get("to"))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        return cleaned


def _where(request):
    """(area, period, form) for this request; bad parameters fall back to the defaults and
    are reported on the form. PermissionDenied for users without a dashboard."""
    user = request.user
    default = periods.default_area(user)  # raises PermissionDenied first
    form = DashboardForm(request.GET or None, user=user)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["area"] or default, form.cleaned_data["period"], form
    return default, periods.period_for(None, None), form


def _params(request, area_id: int | None, **extra) -> str:
    """The query string that keeps the chosen dates, for an area."""
    params = {"area": area_id} if area_id is not None else {}
    for key in ("from", "to"):
        if request.GET.get(key):
            params[key] = request.GET[key]
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


@functools.cache
def _url(name: str, prefix: str, with_pk: bool = False) -> str:
    """reverse() once per URL name (and script prefix): the page builds a link or two for
    each of its hundred-odd rows, and reverse() is slow. With a pk: a format string."""
    if not with_pk:
        return reverse(name)
    marker = 4_294_967_291
    return reverse(name, args=[marker]).replace(str(marker), "{}")


def url_for(name: str, pk: int | None = None) -> str:
    if pk is None:
        return _url(name, get_script_prefix())
    return _url(name, get_script_prefix(), with_pk=True).format(pk)


def _list_url(area, **params) -> str:
    """A link into the case list (/cases/?…) for the same area."""
    if area is not None and area.level in LIST_AREA_LEVELS:
        params = {"area": area.pk, **params}
    return f"{url_for('disputes:list')}?{urlencode(params)}"


# --- the page ---------------------------------------------------------------------------------


def _figures(request, area, period, now) -> dict:
    summary, areas = stats.overview(area=area, period=period, now=now)
    categories = stats.by_category(area=area, period=period)
    channels = stats.by_channel(area=area, period=period)
    trend = stats.trend(area=area, period=period)
    hotspots = stats.hotspots(area=area, period=period)
    start, end = period.start.isoformat(), period.end.isoformat()
    for row in areas:
        row["url"] = None if row["is_self"] else f"?{_params(request, row['area'].pk)}"
        row["label"] = (
            _("%(name)s (filed on it directly)") % {"name": row["area"].name}
            if row["is_self"]
            else row["area"].name
        )
    # Display strings for the rows, made here: per row, Python is several times cheaper
    # than template filters, tags and lazy translations.
    for row in areas:
        row["rate_text"] = percent(row["resolution_rate"])
    for row in hotspots["micro_grids"]:
        row["url"] = f"?{_params(request, row['area_id'])}"
    for row in hotspots["addresses"]:
        row["url"] = _list_url(area, q=row["address"], filed_from=start, filed_to=end)
    for row in (*hotspots["micro_grids"], *hotspots["addresses"]):
        n = row["open"]
        row["open_text"] = ngettext("%(n)s open", "%(n)s open", n) % {"n": n} if n else ""
    statuses = {key: str(label) for key, label in CaseStatus.choices}
    for row in hotspots["group_disputes"]:
        row["url"] = url_for("disputes:detail", row["pk"])
        row["people_text"] = _("%(n)s people") % {"n": row["people_involved"]}
        row["status_label"] = statuses.get(row["status"], row["status"])
    filed, resolved = _("Filed"), _("Resolved")
    charts = {
        "category": {
            "type": "bar",
            "labels": [r["name"] for r in categories],
            "series": [
                {"name": filed, "data": [r["filed"] for r in categories]},
                {"name": resolved, "data": [r["resolved"] for r in categories]},
            ],
        },
        "area": {
            "type": "bar",
            "labels": [r["label"] for r in areas],
            "series": [
                {"name": filed, "data": [r["filed"] for r in areas]},
                {"name": resolved, "data": [r["resolved"] for r in areas]},
            ],
            "links": [r["url"] for r in areas],
        },
        "trend": {
            "type": "line",
            "labels": [
                p["date"].strftime("%Y-%m" if trend["granularity"] == "month" else "%m-%d")
                for p in trend["points"]
            ],
            "series": [
                {"name": filed, "data": [p["filed"] for p in trend["points"]]},
                {"name": resolved, "data": [p["resolved"] for p in trend["points"]]},
            ],
        },
        "channel": {
            "type": "pie",
            "labels": [str(r["label"]) for r in channels],
            "series": [{"name": filed, "data": [r["filed"] for r in channels]}],
        },
    }
    return {
        "summary": summary,
        "areas": areas,
        "categories": categories,
        "channels": channels,
        "trend": trend,
        "hotspots": hotspots,
        "charts": charts,
        "rates": _rates(summary),
        "satisfaction_rate": stats.satisfaction_rate(area=area, period=period),
        # Linkage referrals (联动) started in the period, by kind and direction: one query.
        "linkage": linkage_figures(area, period.start, period.end),
        "filed_url": _list_url(area, filed_from=start, filed_to=end),
    }


def _rates(summary: dict) -> list[dict]:
    def row(key, label, part, whole):
        return {"key": key, "label": label, "rate": summary[key], "part": part, "whole": whole}

    s = summary
    return [
        row("resolution_rate", _("Resolution rate"), s["resolved"], s["counted"]),
        row("closing_rate", _("Closing rate"), s["concluded"], s["counted"]),
        row("assign_on_time_rate", _("Assigned on time"), s["assign_in_time"], s["assign_due"]),
        row(
            "first_handling_on_time_rate",
            _("First handled on time"),
            s["first_handling_in_time"],
            s["first_handling_due"],
        ),
        row("closing_on_time_rate", _("Concluded on time"), s["closing_in_time"], s["closing_due"]),
    ]


def _counts(area, summary) -> dict:
    """The colour and reason tiles, each a link to the filtered case list."""
    return {
        "colours": [
            {
                "key": colour,
                "label": COLOUR_LABELS[colour],
                "count": summary[colour],
                "url": _list_url(area, colour=colour),
            }
            for colour in (RED, ORANGE, GREEN)
        ],
        "reasons": [
            {
                "key": key,
                "label": REASONS[key],
                "count": summary[key],
                "url": _list_url(area, reason=key),
            }
            for key in ("not_assigned", "not_handled", "past_close")
        ],
        "queued_url": _list_url(area, status=CaseStatus.FILED),
        "due_soon_url": _list_url(area, due_soon=1),
    }


class _AreaOption(NamedTuple):
    pk: int
    name: str
    path: str
    depth: int
    parent_id: int | None


def _choices(user, area) -> tuple[list, list[dict]]:
    """(breadcrumb, area picker options) in one query: the user's top areas, their children
    and the current area's ancestors."""
    roots = periods.dashboard_roots(user)
    root_ids = [r.pk for r in roots] if roots is not None else []
    condition = Q(pk__in=root_ids) | Q(parent_id__in=root_ids) if roots is not None else Q(depth=1)
    ancestor_paths = area.ancestor_paths() if area is not None else []
    if area is not None:
        condition |= Q(path__in=ancestor_paths)
    # Tuples, not model instances: a partial (.only) instance costs more to build than the
    # whole picker to render.
    found = [
        _AreaOption._make(row)
        for row in Area.objects.filter(condition).values_list(*_AreaOption._fields)
    ]
    root_paths = [r.path for r in roots] if roots is not None else [""]
    crumbs = []
    if area is not None:
        crumbs = [a for a in found if a.path in ancestor_paths]
        crumbs = [a for a in crumbs if any(a.path.startswith(p) for p in root_paths)]
        crumbs.sort(key=lambda a: a.path)
    options = [
        a
        for a in found
        if (roots is None and a.depth == 1) or a.pk in root_ids or a.parent_id in root_ids
    ]
    if area is not None and all(a.pk != area.pk for a in options):
        options.append(area)
    options.sort(key=lambda a: a.path)
    top = min((a.depth for a in options), default=0)
    # Children indented under their parent with a full-width space (a <select> has no
    # other way to show the tree).
    return crumbs, [
        {
            "pk": a.pk,
            "label": ("　" if a.depth > top else "") + a.name,
            "selected": area is not None and a.pk == area.pk,
        }
        for a in options
    ]


def _queue_rows(user, cases, now) -> list[dict]:
    labels = _row_labels()
    return [_queue_row(user, case, now, labels) for case in cases]


BADGES = {RED: "text-bg-danger", ORANGE: "text-bg-warning", GREEN: "text-bg-success"}


def _row_labels() -> dict:
    """The labels a row picks from, as plain strings in the current language: evaluated
    once per page instead of a lazy translation resolved in the template on every row."""
    return {
        "colour": {key: str(label) for key, label in COLOUR_LABELS.items()},
        "risk": {key: str(label) for key, label in RiskLevel.choices},
        "status": {key: str(label) for key, label in CaseStatus.choices},
        "handled_by": _("handled by"),
    }


def _queue_row(user, case, now, labels=None) -> dict:
    """What a queue row shows, worked out here rather than in the template: the queue is
    the page's longest loop, and each variable, filter or tag a row template resolves
    costs far more than the same work in Python (a row used to take 0.27 ms to render)."""
    labels = labels or _row_labels()
    parent = getattr(case, "category_parent_name", None)
    left = time_left(case.assign_due_at, now)
    category = f"{parent} / {case.category.name}" if parent else case.category.name
    return {
        "case": case,
        "pk": case.pk,
        "number": case.number,
        "cause": case.cause,
        "sla": case.sla_colour,
        "left": left,
        "left_text": left["text"],
        "left_class": "text-bg-danger" if left["overdue"] else "text-bg-light border",
        "actions": queue_actions(user, case),
        "badge": BADGES.get(case.sla_colour, BADGES[GREEN]),
        "colour": labels["colour"].get(case.sla_colour, ""),
        # The grey line under the cause, in two pieces around the risk (highlighted).
        "before_risk": f"{case.number} · {category}",
        "risk": labels["risk"].get(case.risk_level, case.risk_level),
        "risk_class": "" if case.risk_level == RiskLevel.ORDINARY else "text-danger fw-semibold",
        "after_risk": f"{case.area_name} · {labels['status'].get(case.status, case.status)} · "
        f"{labels['handled_by']} {case.handling_area.name}",
        "url": url_for("disputes:detail", case.pk),
        "panel_url": url_for("dashboard:queue_panel", case.pk),
    }


def time_left(due, now) -> dict:
    """ "3 hours left" / "2 hours overdue" for the assignment deadline."""
    seconds = (due - now).total_seconds()
    overdue = seconds < 0
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        n = minutes
        text = (
            ngettext("%(n)d minute overdue", "%(n)d minutes overdue", n)
            if overdue
            else ngettext("%(n)d minute left", "%(n)d minutes left", n)
        )
    elif minutes < 48 * 60:
        n = minutes // 60
        text = (
            ngettext("%(n)d hour overdue", "%(n)d hours overdue", n)
            if overdue
            else ngettext("%(n)d hour left", "%(n)d hours left", n)
        )
    else:
        n = minutes // (24 * 60)
        text = (
            ngettext("%(n)d day overdue", "%(n)d days overdue", n)
            if overdue
            else ngettext("%(n)d day left", "%(n)d days left", n)
        )
    return {"text": text % {"n": n}, "overdue": overdue}


def _page_context(request, *, screen: bool = False) -> dict:
    area, period, form = _where(request)
    now = timezone.now()
    figures = _figures(request, area, period, now)
    context = {
        "area": area,
        "area_name": stats.area_label(area),
        "period": period,
        "form": form,
        "now": now,
        "query": _params(request, area.pk if area else None),
        "counts": _counts(area, figures["summary"]),
        "definitions": periods.DEFINITIONS,
        "hotspot_min": periods.HOTSPOT_MIN_CASES,
        "group_min": periods.GROUP_DISPUTE_MIN_PEOPLE,
        "export_url": f"{reverse('dashboard:export')}?{_export_params(area, period)}",
        **figures,
    }
    if not screen:
        context["crumbs"], context["options"] = _choices(request.user, area)
        # The area was checked against the user's dashboards (_where): its events may come.
        context["live_groups"] = [live.area_group(area.pk if area else None)]
    queue = list(stats.triage_queue(area=area, now=now, limit=10 if screen else stats.QUEUE_SIZE))
    context["queue"] = _queue_rows(request.user, queue, now)
    return context


def _export_params(area, period) -> str:
    params = {"filed_from": period.start.isoformat(), "filed_to": period.end.isoformat()}
    if area is not None:
        params = {"area": area.pk, **params}
    return urlencode(params)


@login_required
@require_GET
def dashboard(request):
    context = _page_context(request)
    return render(request, "dashboards/dashboard.html", context, status=_status(context["form"]))


def _status(form) -> int:
    """400 for a bad ?area=/from=/to= (an area outside the user's dashboards, reversed or
    malformed dates). The page still renders, with the errors above the default figures,
    so a mistyped date costs one correction, not a blank page."""
    return 400 if form.errors else 200


@login_required
@require_GET
def screen(request):
    """大屏: the same figures, full screen and dark; htmx polls the figures every minute."""
    context = _page_context(request, screen=True)
    template = (
        "dashboards/_screen_figures.html" if request.htmx else "dashboards/dashboard_screen.html"
    )
    return render(request, template, context, status=_status(context["form"]))


@login_required
@require_GET
def counts(request):
    """The counts panel alone, refreshed after each queue action (hx-trigger)."""
    area, period, form = _where(request)
    summary = stats.summary(area=area, period=period, now=timezone.now())
    context = {
        "summary": summary,
        "counts": _counts(area, summary),
        "query": _params(request, area.pk if area else None),
    }
    return render(request, "dashboards/_dashboard_counts.html", context, status=_status(form))


@login_required
@require_GET
def queue(request):
    """The triage queue alone, fetched again when a case in the area changes (live.js)."""
    area, period, form = _where(request)
    now = timezone.now()
    summary = stats.summary(area=area, period=period, now=now)
    context = {
        "summary": summary,
        "counts": _counts(area, summary),
        "query": _params(request, area.pk if area else None),
        "queue": _queue_rows(request.user, stats.triage_queue(area=area, now=now), now),
    }
    return render(request, "dashboards/_dashboard_queue.html", context, status=_status(form))


# --- triage actions in the queue ------------------------------------------------------------


def _queue_case_or_404(request, pk):
    case = stats.queue_case(user=request.user, pk=pk, now=timezone.now())
    if case is None:
        raise Http404(_("No such case."))
    return case


def _panel(case, forms_by_action=None) -> dict:
    forms_by_action = forms_by_action or {}
    return {
        "mediators": list(stats.mediators_by_load(case=case)),
        "forms": {
            name: forms_by_action.get(name) or ACTIONS[name].build_form(case=case)
            for name in ("accept", "send_back", "escalate")
        },
        "errors": forms_by_action.get("assign").errors if "assign" in forms_by_action else {},
    }


@login_required
@require_GET
def queue_panel(request, pk):
    """The action panel of one queue row (the mediator picker with loads), loaded when the
    row is opened so the queue itself stays light."""
    periods.dashboard_roots(request.user)
    case = _queue_case_or_404(request, pk)
    row = _queue_row(request.user, case, timezone.now())
    return render(request, "dashboards/_dashboard_panel.html", {"row": row, "panel": _panel(case)})


def _done_message(action, case) -> str:
    if action == "accept":
        return _("Accepted.")
    if action == "assign":
        name = case.mediator.display_name if case.mediator_id else ""
        return _("Assigned to %(name)s.") % {"name": name}
    if action == "send_back":
        return _("Sent back to the filer.")
    return _("Escalated to %(area)s.") % {"area": case.handling_area.name}


@login_required
@require_POST
def queue_action(request, pk, action):
    """Accept, assign, send back or escalate from the queue. With htmx the row is swapped
    in place and `dashboard-changed` tells the counts panel to refresh; without JavaScript
    the browser goes back to the dashboard. Errors as on the case page: 403 and 409 become
    a message in the row, bad input re-opens the row's panel with the field errors."""
    if action not in QUEUE_ACTIONS:
        raise Http404
    periods.dashboard_roots(request.user)
    case = _queue_case_or_404(request, pk)
    declared = ACTIONS[action]
    form = declared.build_form(request.POST, case=case)
    error = ""
    done = None
    status = 200
    if form.is_valid():
        outcome = attempt(
            lambda: declared.perform(case, request.user, form.cleaned_data), form=form
        )
        if outcome.ok:
            done = _done_message(action, outcome.result)
        else:
            error, status = outcome.error, outcome.status
    if not request.htmx:
        if done:
            messages.success(request, f"{case.number} {done}")
        else:
            problems = [m for messages_ in form.errors.values() for m in messages_]
            messages.error(request, error or " ".join(problems))
        return redirect("dashboard:index")
    now = timezone.now()
    fresh = stats.queue_case(user=request.user, pk=pk, now=now) or case
    context = {"row": _queue_row(request.user, fresh, now), "message": done, "error": error}
    if done and fresh.status not in stats.QUEUE_STATUSES:
        context["finished"] = True
    elif not done and not error:
        context["panel"] = _panel(fresh, {action: form})
        context["open_action"] = action
    if not done and not error:
        status = 400
    # The row comes back whatever the outcome, with the error in it: dashboard.js lets
    # htmx swap these 400/403/409 rows in (htmx leaves error responses out by default).
    response = render(request, "dashboards/_dashboard_queue_row.html", context, status=status)
    if done:
        response["HX-Trigger"] = "dashboard-changed"
    return response
