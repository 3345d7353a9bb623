"""The CSV export of the (filtered) case list, for Excel: UTF-8 with BOM, streamed from a
database cursor chunk by chunk, formula-looking cells neutralised."""

import csv
import io

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from disputes import selectors
from disputes.forms import CaseFilterForm
from disputes.models import CaseStatus, Channel, CloseKind, HandlingLevel, Outcome, RiskLevel
from grids.models import Area
from sla.clock import COLOUR_LABELS

EXPORT_MAX_ROWS = 1_000_000
EXPORT_CHUNK = 2000


class ExportFilterForm(CaseFilterForm):
    """The case list's filters; the area may be any visible area (the dashboard drills down
    to grids and micro-grids), not only the streets and communities the list's picker offers."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user is not None:
            self.fields["area"].queryset = Area.objects.visible_to(user)


def _labels() -> dict:
    def choices(cls):
        return {value: str(label) for value, label in cls.choices}

    return {
        "status": choices(CaseStatus),
        "risk": choices(RiskLevel),
        "channel": choices(Channel),
        "level": choices(HandlingLevel),
        "close_kind": choices(CloseKind),
        "outcome": choices(Outcome),
        "colour": {key: str(label) for key, label in COLOUR_LABELS.items()},
        "yes_no": {True: _("Yes"), False: _("No"), None: ""},
    }


EXPORT_FIELDS = (
    "number",
    "cause",
    "status",
    "sla_colour",
    "category__parent__name",
    "category__name",
    "risk_level",
    "channel",
    "people_involved",
    "amount_involved",
    "address",
    "district__name",
    "street__name",
    "community__name",
    "grid__name",
    "area__name",
    "handling_level",
    "handling_area__name",
    "mediator__real_name",
    "mediator__username",
    "filed_at",
    "assigned_at",
    "first_progress_at",
    "resolved_at",
    "closed_at",
    "close_kind",
    "outcome",
    "assigned_on_time",
    "first_update_on_time",
    "closed_on_time",
)


def _export_header() -> list[str]:
    return [
        _("Case number"),
        _("Cause"),
        _("Status"),
        _("Time-limit colour"),
        _("Dispute type"),
        _("Sub-type"),
        _("Risk level"),
        _("Channel"),
        _("People involved"),
        _("Amount involved (yuan)"),
        _("Address"),
        _("District"),
        _("Street"),
        _("Community"),
        _("Grid"),
        _("Area"),
        _("Handling level"),
        _("Handled by"),
        _("Mediator"),
        _("Filed at"),
        _("Assigned at"),
        _("First handled at"),
        _("Resolved at"),
        _("Closed at"),
        _("Close kind"),
        _("Outcome"),
        _("Assigned on time"),
        _("First handled on time"),
        _("Closed on time"),
    ]


# Cells a spreadsheet would run as a formula (CSV injection): a cause typed by a resident
# could start with "=". A leading apostrophe makes Excel show the text as typed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value) -> str:
    if value is None:
        return ""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_rows(values, labels, tz):
    def when(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    yes_no = labels["yes_no"]
    for v in values:
        (
            number,
            cause,
            status,
            colour,
            parent,
            category,
            risk,
            channel,
            people,
            amount,
            address,
            district,
            street,
            community,
            grid,
            area,
            level,
            handled_by,
            mediator_name,
            mediator_username,
            filed,
            assigned,
            first,
            resolved,
            closed,
            close_kind,
            outcome,
            assign_ok,
            first_ok,
            close_ok,
        ) = v
        yield [
            number,
            _text(cause),
            labels["status"].get(status, status),
            labels["colour"].get(colour, colour),
            _text(parent or category),
            _text(category if parent else ""),
            labels["risk"].get(risk, risk),
            labels["channel"].get(channel, channel),
            people,
            amount if amount is not None else "",
            _text(address),
            _text(district),
            _text(street),
            _text(community),
            _text(grid),
            _text(area),
            labels["level"].get(level, level),
            _text(handled_by),
            _text(mediator_name or mediator_username),
            when(filed),
            when(assigned),
            when(first),
            when(resolved),
            when(closed),
            labels["close_kind"].get(close_kind, ""),
            labels["outcome"].get(outcome, ""),
            yes_no[assign_ok],
            yes_no[first_ok],
            yes_no[close_ok],
        ]


def _csv_stream(rows, header):
    """The file in pieces of a few hundred rows, never whole in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The byte-order mark is what makes Excel read the file as UTF-8: without it, Chinese
    # text opens as mojibake on a Chinese-locale Windows.
    yield "\ufeff"
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate(0)
    yield buffer.getvalue()


def _export_refused(request, message: str, problems=()):
    """400 with the reason in words and a way back to the same filters on the case list
    (the link was a download: a redirect would hide that nothing was downloaded)."""
    context = {
        "message": message,
        "problems": problems,
        "back_url": f"{reverse('disputes:list')}?{request.GET.urlencode()}",
    }
    return render(request, "dashboards/export_refused.html", context, status=400)


@login_required
@require_GET
def export_csv(request):
    """The filtered case list as CSV (UTF-8 with BOM, for Excel), streamed from a database
    cursor chunk by chunk: up to a million rows without holding them in memory."""
    form = ExportFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        problems = [m for field_errors in form.errors.values() for m in field_errors]
        return _export_refused(
            request, _("The export filters are not valid; please check them."), problems
        )
    now = timezone.now()
    # One clock for the colour filter and the colour column, as on the case list.
    filters = {**form.cleaned_data, "now": now} if form.is_bound else {}
    qs = selectors.case_list(user=request.user, filters=filters)
    if qs.count() > EXPORT_MAX_ROWS:
        return _export_refused(
            request,
            _("More than %(n)s cases match; narrow the filters to export them.")
            % {"n": f"{EXPORT_MAX_ROWS:,}"},
        )
    if "sla_colour" not in qs.query.annotations:
        qs = qs.annotate_sla(now)
    values = qs.values_list(*EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK)
    rows = _csv_rows(values, _labels(), timezone.get_current_timezone())
    response = StreamingHttpResponse(
        _csv_stream(rows, _export_header()), content_type="text/csv; charset=utf-8"
    )
    filename = _("cases") + f"-{timezone.localtime(now):%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response
