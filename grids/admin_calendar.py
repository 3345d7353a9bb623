"""The working-day calendar in admin: the days (holidays, make-up working days), the years
entered in full, and the page where the State Council's yearly notice is pasted, previewed
beside the month grids and saved (or a CSV uploaded)."""

import calendar as month_calendar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .holiday_notice import NoticeDay, NoticeError, notice_year, parse_notice
from .models import CalendarDay, CalendarYear
from .services_calendar import calendar_year_import, read_calendar_csv
from .workdays import calendar_coverage

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]


class NoticeForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=_("Taken from the notice's title when it is pasted with it."),
    )
    text = forms.CharField(
        label=_("The notice as published"),
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100}),
        required=False,
    )
    csv_file = forms.FileField(
        label=_("Or a CSV file"),
        required=False,
        help_text=_("Columns date,is_workday,name (日期,上班,名称), e.g. 2027-01-01,0,元旦."),
    )

    def clean(self):
        data = super().clean()
        year = data.get("year") or notice_year(data.get("text") or "")
        if not data.get("text") and not data.get("csv_file"):
            raise forms.ValidationError(_("Paste the notice or choose a CSV file."))
        if year is None:
            raise forms.ValidationError(_("Give the year, or paste the notice with its title."))
        data["year"] = year
        return data


def month_grids(year: int, days: list[NoticeDay]) -> list[dict]:
    """The months the notice touches, as weeks of (day,休/班/weekend) for the preview."""
    marks = {d.day: d for d in days}
    months = sorted({(d.day.year, d.day.month) for d in days} | {(year, 1)})
    grids = []
    for y, m in months:
        weeks = []
        for week in month_calendar.Calendar().monthdatescalendar(y, m):
            row = []
            for day in week:
                mark = marks.get(day)
                row.append({
                    "day": day.day if day.month == m else "",
                    "off": mark is not None and not mark.is_workday,
                    "work": mark is not None and mark.is_workday,
                    "weekend": day.weekday() >= 5,
                    "name": mark.name if mark else "",
                })  # fmt: skip
            weeks.append(row)
        grids.append({"title": f"{y}年{m}月", "weeks": weeks})
    return grids


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name", "notice_year"]
    list_filter = ["is_workday", "notice_year"]
    date_hierarchy = "date"
    search_fields = ["name"]
    change_list_template = "admin/grids/calendarday/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [
            path("import/", view, name="grids_calendarday_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Paste → preview (nothing saved) → confirm (saved in one transaction)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NoticeForm(request.POST or None, request.FILES or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            year = form.cleaned_data["year"]
            days, problems, source = self._read(form, year)
            if problems is None:  # the text is no notice: the form carries the error
                days, problems = [], []
            elif "confirm" in request.POST and not any(p.startswith("!") for p in problems):
                result = calendar_year_import(
                    year=year, days=days, source=source, actor=request.user,
                    text=form.cleaned_data.get("text") or "",
                )  # fmt: skip
                text = _("Saved %(n)s days of %(year)s.") % {"n": result.written, "year": year}
                messages.success(request, text)
                if result.recompute_queued:
                    messages.info(
                        request,
                        _(
                            "Open cases with working-day deadlines in %(year)s estimated on "
                            "Monday–Friday are being moved onto its real working days; each "
                            "case's timeline records the move."
                        )
                        % {"year": year},
                    )
                for day, is_workday in result.kept:
                    messages.warning(
                        request,
                        _("%(day)s kept as typed by hand (the notice says %(what)s).")
                        % {"day": day, "what": _("working day") if is_workday else _("day off")},
                    )
                return redirect(reverse("admin:grids_calendarday_changelist"))
            preview = {
                "year": year,
                "days": days,
                "warnings": [p.lstrip("!") for p in problems],
                "blocking": any(p.startswith("!") for p in problems),
                "grids": month_grids(year, days),
                "holidays": sum(1 for d in days if not d.is_workday),
                "workdays": sum(1 for d in days if d.is_workday),
            }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import the State Council's holiday notice"),
            "form": form,
            "preview": preview,
            "weekdays": WEEKDAYS,
            "coverage": calendar_coverage(timezone.localdate()),
            "years": CalendarYear.objects.all()[:10],
        }
        return TemplateResponse(request, "admin/grids/calendarday/import.html", context)

    @staticmethod
    def _read(form, year):
        """(days, problems, source); a problem starting with "!" blocks saving."""
        upload = form.cleaned_data.get("csv_file")
        if upload:
            days, errors = read_calendar_csv(upload.read(), year)
            return days, [f"!{e}" for e in errors], "csv"
        try:
            parsed = parse_notice(form.cleaned_data["text"], year)
        except NoticeError as exc:
            form.add_error("text", str(exc))
            return [], None, "notice"
        problems = list(parsed.warnings)
        if not parsed.days:
            problems.append("!" + str(_("No dates were found in the notice.")))
        elif not any(d.day.year == year for d in parsed.days):
            problems.append("!" + str(_("None of the dates is in the year given.")))
        return parsed.days, problems, "notice"


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source", "imported_at", "imported_by"]
    readonly_fields = ["year", "source", "text", "imported_at", "imported_by"]

    def has_add_permission(self, request):
        return False  # a year is added by importing it (calendar days → import)
