"""The mediation file (卷宗): archived once when a case closes, numbered per unit and year,
frozen (SHA-256; archiving again makes a new version), its index pointing at each
document's first page, downloadable only within scope, the parties' phone and ID numbers
masked for viewers who may not see them."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from casefiles import services
from casefiles.building import archive_build
from casefiles.models import CaseFileArchive, FrozenArchive
from casefiles.tasks import requeue_stale
from common.errors import StateConflict
from disputes import services as case_services
from disputes.models import CaseEvent, PartyDisclosure
from residents.callbacks import callback_draw_month, callback_record
from tests.casefiles.helpers import close, page_texts, pdftotext, resolved_case
from tests.disputes.test_api import PHONE, VALID_ID, client_for, file_case, seeded  # noqa: F401

pytestmark = pytest.mark.django_db
A = CaseFileArchive


@pytest.fixture
def w(seeded, db, celery_eager):  # noqa: F811
    return seeded


@pytest.fixture
def closed(w, django_capture_on_commit_callbacks):
    case = resolved_case(w, file_case)
    with django_capture_on_commit_callbacks(execute=True):
        close(w, case)
    case.refresh_from_db()
    return case


def the_archive(case) -> A:
    [archive] = A.objects.filter(case=case)
    return archive


def read(field) -> bytes:
    with field.open("rb") as f:
        return f.read()


def test_a_closed_case_is_archived_once_numbered_and_frozen(w, closed):
    archive = the_archive(closed)
    year = timezone.localtime(closed.closed_at).year
    assert archive.status == "ready" and archive.version == 1
    assert re.fullmatch(rf".+调卷〔{year}〕\d+号", archive.number)
    assert archive.unit_id == closed.handling_area_id
    data = read(archive.file)
    assert hashlib.sha256(data).hexdigest() == archive.sha256
    assert hashlib.sha256(read(archive.masked_file)).hexdigest() == archive.masked_sha256
    assert closed.events.filter(kind=CaseEvent.Kind.ARCHIVED).count() == 1
    # The cover: number, parties, type, unit, mediator, dates.
    cover = page_texts(data)[0]
    for text in (archive.number, closed.number, "李秀英", "王强", closed.category.name,
                 archive.unit.name, w.mediator.display_name):  # fmt: skip
        assert text in cover.replace(" ", "").replace("\n", "") or text in cover
    with pytest.raises(FrozenArchive):
        archive.progress = 0
        archive.save()


def test_the_index_points_at_each_documents_first_page(w, closed):
    archive = the_archive(closed)
    data = read(archive.file)
    texts = page_texts(data)
    index = archive.index
    assert len(texts) == archive.pages == index[-1]["page"] + index[-1]["pages"] - 1
    titles = [e["title"] for e in index]
    assert titles[0] == "受理登记表"  # the national order: the intake register first
    assert {"现场照片1.jpg", "现场照片2.jpg", "证据材料1.pdf"} <= set(titles)
    front_pages = index[0]["page"] - 1
    printed = pdftotext(data, 2, front_pages)
    for entry in index:
        first = texts[entry["page"] - 1]
        assert entry["title"].split(".")[0] in first.replace("\n", ""), entry
        # The index printed in the PDF says the same page for the same document.
        line = next(line for line in printed.splitlines() if entry["title"] in line)
        assert line.split()[-1] == str(entry["page"]), line
    # A merged PDF keeps its own pages, in order, right where the index says.
    evidence = next(e for e in index if e["title"] == "证据材料1.pdf")
    assert "证据材料1.pdf 第1页" in texts[evidence["page"] - 1]
    assert "证据材料1.pdf 第2页" in texts[evidence["page"]]


def test_the_masked_copy_hides_phone_and_id_numbers(w, closed):
    archive = the_archive(closed)
    full = "".join(page_texts(read(archive.file)))
    masked = "".join(page_texts(read(archive.masked_file)))
    assert PHONE in full and VALID_ID in full
    assert PHONE not in masked and VALID_ID not in masked
    assert PHONE[:3] + "****" + PHONE[-4:] in masked
    assert "李秀英" in masked  # names stay


def test_downloads_give_each_viewer_their_copy_within_scope_only(w, closed, client):
    archive = the_archive(closed)
    url = f"/casefiles/{archive.pk}/download/"

    client.force_login(w.gridworker2)
    assert client.get(url).status_code == 404
    assert (
        client_for(w.gridworker2).get(f"/api/v1/casefiles/{archive.pk}/download/").status_code
        == 404
    )
    assert client_for(w.gridworker2).get(f"/api/v1/casefiles/{archive.pk}/").status_code == 404

    client.force_login(w.judge)  # sees the community's cases, not the parties' numbers
    response = client.get(url)
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == archive.masked_sha256
    detail = client_for(w.judge).get(f"/api/v1/casefiles/{archive.pk}/").json()
    assert detail["masked"] is True and detail["sha256"] == archive.masked_sha256
    assert not PartyDisclosure.objects.filter(case=closed, user=w.judge).exists()

    client.force_login(w.mediator)
    response = client.get(url + "?print=1")
    assert response.status_code == 200 and response["Content-Disposition"].startswith("inline")
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == archive.sha256
    # Handing out the full copy is recorded like revealing the numbers on the case page.
    assert PartyDisclosure.objects.filter(case=closed, user=w.mediator).count() == 1


def test_archiving_again_makes_a_new_version_and_never_overwrites(
    w, closed, django_capture_on_commit_callbacks
):
    first = the_archive(closed)
    before = read(first.file)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.archive_again(case=closed, actor=w.secretary)
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.version, second.number, second.status) == (2, first.number, "ready")
    assert read(first.file) == before and hashlib.sha256(before).hexdigest() == first.sha256
    assert second.file.name != first.file.name


def test_a_reopened_case_closed_again_gets_a_second_version(
    w, closed, django_capture_on_commit_callbacks
):
    case = case_services.case_reopen(case=closed, actor=w.secretary, reason="当事人反映未履行")
    case = case_services.case_resolve(case=case, actor=w.mediator, outcome="agreement")
    with django_capture_on_commit_callbacks(execute=True):
        close(w, case)
    versions = list(
        A.objects.filter(case=case).order_by("version").values_list("version", "number")
    )
    assert [v for v, _ in versions] == [1, 2] and versions[0][1] == versions[1][1]


def test_archive_numbers_run_per_unit_and_year(w, closed, django_capture_on_commit_callbacks):
    other = resolved_case(w, file_case, photos=0, pdf_page_counts=())
    with django_capture_on_commit_callbacks(execute=True):
        close(w, other)
    a, b = the_archive(closed), the_archive(other)
    assert (a.unit_id, a.year) == (b.unit_id, b.year)
    assert b.sequence == a.sequence + 1


def test_archiving_again_is_refused_to_the_wrong_person_and_in_the_wrong_state(w, closed, client):
    for_open = file_case(w)
    with pytest.raises(StateConflict):
        services.archive_again(case=for_open, actor=w.secretary)
    client.force_login(w.judge)
    assert client.post(f"/casefiles/case/{closed.pk}/archive/").status_code == 403
    client.force_login(w.gridworker2)
    assert client.post(f"/casefiles/case/{closed.pk}/archive/").status_code == 404
    assert (
        client_for(w.gridworker2).post("/api/v1/casefiles/", {"case": closed.pk}).status_code == 404
    )
    assert client_for(w.judge).post("/api/v1/casefiles/", {"case": closed.pk}).status_code == 403
    assert client_for(w.secretary).post("/api/v1/casefiles/", {"case": "x"}).status_code == 400
    assert (
        client_for(w.secretary).post("/api/v1/casefiles/", {"case": for_open.pk}).status_code == 409
    )
    assert A.objects.filter(case=closed).count() == 1


def test_a_lost_build_is_asked_again_by_the_beat_task(w, time_machine):
    case = resolved_case(w, file_case, photos=1, pdf_page_counts=())
    close(w, case)  # the commit's task never ran: the broker lost it
    archive = the_archive(case)
    assert archive.status == "queued"
    assert requeue_stale() == 0  # not stale yet: its task may be on the way
    time_machine.move_to(timezone.now() + timedelta(minutes=16))
    assert requeue_stale() == 1  # asked again (eager here: built at once)
    archive.refresh_from_db()
    assert archive.status == "ready"
    assert archive_build(archive_id=archive.pk) is None  # a second delivery builds nothing
    assert requeue_stale() == 0
    assert case.events.filter(kind=CaseEvent.Kind.ARCHIVED).count() == 1


def test_the_callback_record_joins_the_file_in_its_place(
    w, closed, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(closed.closed_at + timedelta(days=35))
    street = closed.street
    [(draw, _created)] = callback_draw_month(
        month=closed.closed_at.date(), streets=[street], seed=1
    )
    task = draw.tasks.get(case=closed)
    callback_record(task=task, actor=w.street, reached=True, settled=True,
                    satisfaction="satisfied", notes="当事人表示工资已结清")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        again = services.archive_again(case=closed, actor=w.secretary)
    again.refresh_from_db()
    sections = [(e["section"], e["title"]) for e in again.index]
    slots = [e["slot"] for e in again.index]
    assert slots == sorted(slots)  # the national order
    assert sections[-1][0] == "回访记录"
    last = again.index[-1]
    text = page_texts(read(again.file))[last["page"] - 1]
    assert "当事人表示工资已结清" in text and "回访记录" in text
