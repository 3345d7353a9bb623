"""The ranking as an Excel workbook, in Chinese whatever the user's language (it is filed
and forwarded as an official table): the listed units with every figure as a rate and as
its two counts, six months of scores, and a second sheet with every figure's definition.
The rows and numbers are the page's (selectors.ranking, present.cell)."""

from io import BytesIO
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import metrics, selectors
from .models import UnitKind
from .present import row_view

EXPORT_LANGUAGE = "zh-hans"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value):
    """Text that a spreadsheet would run as a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def build(where) -> Workbook:
    ranking = selectors.ranking(
        snapshot=where.snapshot,
        kind=where.kind,
        container=where.container,
        snapshots=where.snapshots,
    )
    snapshot = ranking.snapshot
    book = Workbook()
    sheet = book.active
    sheet.title = _("Ranking")
    status = _("published") if snapshot.published else _("draft, not published")
    place = where.container.name if where.container else _("Whole city")
    title = _("Monthly assessment %(month)s · %(place)s · %(units)s") % {
        "month": f"{snapshot.month:%Y-%m}",
        "place": place,
        "units": dict(UnitKind.choices)[where.kind],
    }
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(
        [
            _("Version %(version)s (%(status)s), scheme %(scheme)s, data as of %(at)s")
            % {
                "version": snapshot.version,
                "status": status,
                "scheme": snapshot.scheme_name,
                "at": f"{snapshot.data_as_of:%Y-%m-%d %H:%M}",
            }
        ]
    )
    months = [f"{m:%Y-%m}" for m in ranking.trend_months]
    headers = [_("Rank"), _("Unit name"), _("Place"), _("Volume band"), _("Volume"), _("Score")]
    for metric in ranking.metrics:
        if metric.is_count:
            headers.append(str(metric.short))
        else:
            headers += [str(metric.short), _("%(figure)s (done / due)") % {"figure": metric.short}]
    headers += [_("Score %(month)s") % {"month": m} for m in months]
    sheet.append([])
    sheet.append(headers)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in ranking.rows:
        view = row_view(row, ranking.metrics)
        line = [
            view["rank"],
            _safe(view["name"]),
            _safe(view["place"]),
            view["band"],
            view["volume"],
            float(view["score"]) if view["score"] is not None else None,
        ]
        for metric, cell in zip(ranking.metrics, view["cells"], strict=True):
            if metric.is_count:
                line.append(cell["part"])
            else:
                line += [cell["rate"], cell["parts"]]
        line += [float(v) if v is not None else None for v in view["trend"] or []]
        sheet.append(line)
    _format(sheet, header_row, ranking)
    notes = book.create_sheet(_("Definitions"))
    notes.append([_("Figure"), _("Definition")])
    for term, text in metrics.definitions():
        notes.append([term, text])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 100
    for row in notes.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    return book


def _format(sheet, header_row: int, ranking) -> None:
    """Rates as percentages, readable column widths, the header frozen."""
    rate_columns = []
    column = 7
    for metric in ranking.metrics:
        if metric.is_count:
            column += 1
        else:
            rate_columns.append(column)
            column += 2
    for index in rate_columns:
        for (cell,) in sheet.iter_rows(min_row=header_row + 1, min_col=index, max_col=index):
            cell.number_format = "0.0%"
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 14
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 26
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)


def workbook_response(where) -> HttpResponse:
    with translation.override(EXPORT_LANGUAGE):
        book = build(where)
        name = _("assessment")
    buffer = BytesIO()
    book.save(buffer)
    filename = f"{name}-{where.snapshot.month:%Y-%m}-v{where.snapshot.version}-{where.kind}.xlsx"
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
