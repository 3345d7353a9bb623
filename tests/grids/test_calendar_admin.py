"""Filling in 2027 before its cases' deadlines need it: the notice pasted in admin,
previewed, saved; CSV too; the warnings while a year within 90 days is not covered."""

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from grids.models import CalendarDay, CalendarYear
from grids.workdays import calendar_coverage, calendar_for, uncovered_years
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
URL = "/admin/grids/calendarday/import/"

# A made-up sample in the notice's wording, for the tests only: the real 2027 notice is
# imported by an admin when the State Council publishes it.
SAMPLE_2027 = """国务院办公厅关于2027年部分节假日安排的通知（测试样例）
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月6日（农历除夕、周六）至12日（农历正月初六、周五）放假调休，共7天。2月14日（周日）、2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
"""


@pytest.fixture
def admin_client(client, time_machine):
    time_machine.move_to(datetime(2026, 12, 3, 10, 0, tzinfo=SH), tick=False)
    client.force_login(SuperuserFactory())
    return client


def test_2027_is_not_covered_today_and_the_admin_says_so(admin_client):
    coverage = calendar_coverage(date(2026, 12, 3))
    assert coverage.uncovered == (2027,) and not coverage.ok

    page = admin_client.get("/admin/").content.decode()

    assert 'data-testid="calendar-warning"' in page and "2027" in page
    assert URL in page


def test_the_notice_is_previewed_without_saving_then_saved(admin_client):
    preview = admin_client.post(URL, {"text": SAMPLE_2027, "preview": "1"})

    body = preview.content.decode()
    assert preview.status_code == 200 and not CalendarDay.objects.exists()
    assert preview.context["preview"]["year"] == 2027
    assert (preview.context["preview"]["holidays"], preview.context["preview"]["workdays"]) == (
        13,
        2,
    )
    assert "2027年2月" in body and 'class="work"' in body and "休" in body

    saved = admin_client.post(URL, {"text": SAMPLE_2027, "confirm": "1"})

    assert saved.status_code == 302
    assert CalendarDay.objects.filter(notice_year=2027).count() == 15
    assert CalendarYear.objects.get().year == 2027
    assert calendar_coverage(date(2026, 12, 3)).ok
    assert 'data-testid="calendar-warning"' not in admin_client.get("/admin/").content.decode()


def test_importing_again_changes_nothing_and_keeps_days_typed_by_hand(admin_client):
    CalendarDay.objects.create(date=date(2027, 2, 20), is_workday=False, name="本地例外")
    admin_client.post(URL, {"text": SAMPLE_2027, "confirm": "1"})
    first = list(CalendarDay.objects.values_list("date", "is_workday", "name", "notice_year"))

    admin_client.post(URL, {"text": SAMPLE_2027, "confirm": "1"})

    assert (
        list(CalendarDay.objects.values_list("date", "is_workday", "name", "notice_year")) == first
    )
    assert CalendarDay.objects.get(date=date(2027, 2, 20)).name == "本地例外"


def test_a_ten_working_day_case_filed_on_christmas_lands_after_new_year(admin_client):
    start = datetime(2026, 12, 25, 10, 0, tzinfo=SH)
    estimate = calendar_for(start.date(), 10).add_workdays(start, 10)
    assert estimate.date() == date(2027, 1, 8)  # Monday–Friday guess: 1 January counted

    admin_client.post(URL, {"text": SAMPLE_2027, "confirm": "1"})

    due = calendar_for(start.date(), 10).add_workdays(start, 10)
    assert due.date() == date(2027, 1, 11)
    assert uncovered_years([2026, 2027]) == set()


def test_text_that_is_no_notice_is_a_form_error_and_nothing_is_saved(admin_client):
    response = admin_client.post(URL, {"year": "2027", "text": "明年放假另行通知", "confirm": "1"})
    assert response.status_code == 200 and response.context["form"].errors["text"]
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


def test_a_csv_with_bad_rows_lists_them_and_saves_nothing(admin_client):
    data = "日期,上班,名称\n2027-01-01,0,元旦\n2027-13-01,0,坏日期\n2027-02-07,也许,春节\n"
    upload = SimpleUploadedFile("2027.csv", data.encode("utf-8-sig"), content_type="text/csv")

    response = admin_client.post(URL, {"year": "2027", "csv_file": upload, "confirm": "1"})

    warnings = response.context["preview"]["warnings"]
    assert warnings == [
        "第 3 行：日期应为 YYYY-MM-DD。",
        "第 4 行：上班一栏应为 1/0、是/否 或 上班/放假。",
    ]
    assert not CalendarDay.objects.exists()


def test_a_good_csv_covers_the_year(admin_client):
    data = "date,is_workday,name\n2027-01-01,0,元旦\n2027-02-07,1,春节\n"
    upload = SimpleUploadedFile("2027.csv", data.encode(), content_type="text/csv")

    response = admin_client.post(URL, {"year": "2027", "csv_file": upload, "confirm": "1"})

    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).source == "csv"
    assert CalendarDay.objects.get(date=date(2027, 2, 7)).is_workday


def test_sla_status_fails_while_the_next_90_days_are_not_covered(admin_client):
    out = StringIO()
    with pytest.raises(CommandError, match="2027"):
        call_command("sla_status", stdout=out)
    assert "2027" in out.getvalue()

    admin_client.post(URL, {"text": SAMPLE_2027, "confirm": "1"})
    out = StringIO()
    call_command("sla_status", stdout=out)
    assert "working-day calendar:     covers" in out.getvalue()


def test_only_staff_may_import(client, time_machine):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert reverse("admin:grids_calendarday_import") == URL
