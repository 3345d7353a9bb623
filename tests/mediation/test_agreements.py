"""The agreement: numbered per year from the district (渝中调〔2026〕1号), from the type's
template, edited while a draft; signed on the phone by every party and the mediator, then
frozen (edits refused with 409, the final PDF's SHA-256 kept, a change is a new version);
the PDFs rendered by the task hold the parties' Chinese names, the obligations and the
number; masked for a viewer who may not see the parties' numbers; every paper URL scoped."""

import hashlib
import io
import subprocess
import tempfile
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageFile

from common.errors import StateConflict
from disputes import case_file
from disputes import services as case_services
from disputes.case_file import Slot
from disputes.models import Case
from mediation import printing, services
from mediation.models import Agreement, AgreementTemplate, Document, Signature
from mediation.services.agreements import AgreementFrozen
from notifications.models import Notification
from tests.disputes.test_api import PHONE, seeded, w  # noqa: F401
from tests.mediation.world import (
    assigned_case,
    case_in,
    drawn_png,
    make_agreement,
    obligation_rows,
    sign_everyone,
)

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    """The PDF's text with pdftotext, without the line breaks and spaces of its layout (a
    long obligation wraps onto a second line)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return (
            subprocess.run(
                ["pdftotext", "-layout", handle.name, "-"],
                capture_output=True,
                check=True,
                text=True,
            )
            .stdout.replace(" ", "")
            .replace("\n", "")
        )


def test_numbers_count_up_per_year_under_the_district_prefix(w):  # noqa: F811
    first, second = make_agreement(w), make_agreement(w)
    year = timezone.localdate().year
    assert first.number == f"渝中调〔{year}〕1号"
    assert second.number == f"渝中调〔{year}〕2号"


def test_the_type_template_gives_the_title_and_clauses(w):  # noqa: F811
    case = assigned_case(w)
    AgreementTemplate.objects.create(category=None, title="人民调解协议书", clauses="通用条款")
    AgreementTemplate.objects.create(
        category=case.category.parent, title="邻里纠纷调解协议书", clauses="双方今后和睦相处"
    )
    agreement = make_agreement(w, case)
    assert (agreement.title, agreement.clauses) == ("邻里纠纷调解协议书", "双方今后和睦相处")


def test_bad_obligations_a_second_agreement_and_the_judge_save_nothing(w):  # noqa: F811
    case = assigned_case(w)
    rows = obligation_rows(case)
    for broken in (
        {"party": 0},
        {"description": ""},
        {"due_on": "明天"},
        {"due_on": timezone.localdate() - timedelta(days=1)},
        {"amount": "-5"},
    ):
        with pytest.raises(ValidationError):
            services.agreement_create(
                case=case,
                actor=w.mediator,
                facts="事实",
                disputed_items="争议",
                obligations=[rows[0] | broken],
            )
    with pytest.raises(ValidationError):
        services.agreement_create(
            case=case, actor=w.mediator, facts="事实", disputed_items="争议", obligations=[]
        )
    with pytest.raises(PermissionDenied):
        services.agreement_create(
            case=case, actor=w.judge, facts="事实", disputed_items="争议", obligations=rows
        )
    assert not Agreement.objects.filter(case=case).exists()
    make_agreement(w, case)
    with pytest.raises(StateConflict):
        make_agreement(w, case)


def test_everyone_signs_and_the_agreement_is_frozen_with_its_pdf_hash(w, printed):  # noqa: F811
    agreement = make_agreement(w)
    party = agreement.case.parties.first()
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
    )
    with pytest.raises(StateConflict):  # a double tap
        services.signature_add(
            agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
        )
    with pytest.raises(PermissionDenied):  # only the mediator signs as the mediator
        services.signature_add(
            agreement=agreement, actor=w.secretary, signer="mediator", image=drawn_png()
        )
    assert Agreement.objects.get(pk=agreement.pk).status == "draft"

    with printed():
        agreement = sign_everyone_left(w, agreement)
    agreement.refresh_from_db()

    assert agreement.status == "signed" and agreement.signed_at
    final = Document.objects.get(agreement=agreement, final=True)
    assert final.status == "ready"
    full = final.file.read()
    assert agreement.sha256 == final.sha256 == hashlib.sha256(full).hexdigest()
    text = pdf_text(full)
    for expected in ("李秀英", "王强", "支付维修费用", "12000.00", agreement.number, PHONE):
        assert expected in text
    assert PHONE not in pdf_text(final.masked_file.read())
    assert Signature.objects.filter(agreement=agreement).count() == 3


def sign_everyone_left(w, agreement):  # noqa: F811
    signed = {s.party_id for s in agreement.signatures.all()}
    for party in agreement.case.parties.exclude(pk__in=[p for p in signed if p]):
        services.signature_add(
            agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
        )
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer="mediator", image=drawn_png()
    )
    return Agreement.objects.get(pk=agreement.pk)


def test_a_blank_or_broken_signature_is_refused(w):  # noqa: F811
    agreement = make_agreement(w)
    party = agreement.case.parties.first()
    for image in (b"", b"not a png", blank_png()):
        with pytest.raises(ValidationError):
            services.signature_add(
                agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=image
            )
    assert not Signature.objects.filter(agreement=agreement).exists()


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (200, 80), (0, 0, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_signed_agreement_cannot_be_edited_and_a_change_is_a_new_version(w, printed, client):  # noqa: F811
    with printed():
        agreement = sign_everyone(w, make_agreement(w))
    agreement.refresh_from_db()
    case = agreement.case
    with pytest.raises(AgreementFrozen):
        services.agreement_update(
            agreement=agreement,
            actor=w.mediator,
            facts="改",
            disputed_items="改",
            obligations=obligation_rows(case),
            clauses="",
            revision=agreement.revision,
        )
    client.force_login(w.mediator)
    response = client.post(
        reverse("mediation:agreement_edit", args=[case.pk]), agreement_post(case)
    )
    assert response.status_code == 409
    page = client.get(reverse("mediation:agreement_edit", args=[case.pk]))
    assert page.status_code == 409 and "新版本" in page.content.decode()
    with pytest.raises(StateConflict):
        services.signature_add(
            agreement=agreement, actor=w.mediator, signer="mediator", image=drawn_png()
        )
    agreement.refresh_from_db()
    assert agreement.facts.startswith("2026年11月") and agreement.status == "signed"

    new = services.agreement_new_version(agreement=agreement, actor=w.mediator)

    agreement.refresh_from_db()
    assert agreement.status == "superseded" and agreement.sha256
    assert (new.number, new.version, new.status) == (agreement.number, 2, "draft")
    assert new.obligations.count() == 2


def agreement_post(case, **extra) -> dict:
    rows = obligation_rows(case)
    data = {
        "facts": "事实",
        "disputed_items": "争议",
        "clauses": "",
        "revision": 1,
        "ob-TOTAL_FORMS": len(rows),
        "ob-INITIAL_FORMS": 0,
        "ob-MIN_NUM_FORMS": 0,
        "ob-MAX_NUM_FORMS": 30,
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"ob-{i}-{key}"] = "" if value is None else str(value)
    return data | extra


def test_editing_a_draft_removes_signatures_given_to_the_old_text(w):  # noqa: F811
    agreement = make_agreement(w)
    party = agreement.case.parties.first()
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
    )
    services.agreement_update(
        agreement=agreement,
        actor=w.mediator,
        facts="新的事实",
        disputed_items="争议",
        obligations=obligation_rows(agreement.case, amount="8000"),
        clauses="",
        revision=1,
    )
    agreement.refresh_from_db()
    assert agreement.revision == 2 and not agreement.signatures.exists()
    with pytest.raises(StateConflict):  # a form opened before that change
        services.agreement_update(
            agreement=agreement,
            actor=w.mediator,
            facts="旧",
            disputed_items="旧",
            obligations=obligation_rows(agreement.case),
            clauses="",
            revision=1,
        )


def test_the_agreement_page_fills_prints_and_offers_the_pdf(
    client,
    w,  # noqa: F811
    printed,
    django_assert_max_num_queries,
):
    case = assigned_case(w)
    client.force_login(w.mediator)
    url = reverse("mediation:agreement_edit", args=[case.pk])
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200
    assert client.post(url, agreement_post(case, facts="")).status_code == 400
    assert not Agreement.objects.filter(case=case).exists()
    with django_assert_max_num_queries(40):
        assert client.post(url, agreement_post(case)).status_code == 302
    agreement = Agreement.objects.get(case=case)
    with django_assert_max_num_queries(40), printed():
        response = client.post(
            reverse("mediation:print", args=[case.pk]),
            {"kind": "agreement", "agreement": agreement.pk},
        )
    document = Document.objects.get(agreement=agreement)
    assert response.url == reverse("mediation:document", args=[case.pk, document.pk])
    with django_assert_max_num_queries(20):
        page = client.get(response.url)
    assert "open-pdf" in page.content.decode()
    with django_assert_max_num_queries(20):
        pdf = client.get(reverse("mediation:download", args=[case.pk, document.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    assert agreement.number in pdf_text(b"".join(pdf.streaming_content))
    with django_assert_max_num_queries(30):
        assert (
            client.get(reverse("mediation:sign", args=[case.pk, agreement.pk])).status_code == 200
        )


def test_every_paper_url_is_scoped_and_masked(
    client,
    w,  # noqa: F811
    printed,
    django_assert_max_num_queries,
):
    with printed():
        agreement = sign_everyone(w, make_agreement(w))
    case = agreement.case
    final = Document.objects.get(agreement=agreement, final=True)
    obligation = agreement.obligations.first()
    services.obligation_perform(
        obligation=obligation,
        actor=w.mediator,
        note="已转账",
        proof=SimpleUploadedFile("回单.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    signature = agreement.signatures.first()
    today = timezone.localdate()
    confirmation = services.confirmation_apply(
        agreement=agreement, actor=w.mediator, court="渝中区人民法院", applied_on=today
    )
    services.confirmation_record(
        confirmation=confirmation, actor=w.mediator, status="accepted", decided_on=today
    )
    services.confirmation_record(
        confirmation=confirmation,
        actor=w.mediator,
        status="confirmed",
        ruling_number="（2026）渝0103民特1号",
        ruling_date=today,
        papers=SimpleUploadedFile("裁定.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )
    urls = [
        reverse("mediation:download", args=[case.pk, final.pk]),
        reverse("mediation:document", args=[case.pk, final.pk]),
        reverse("mediation:signature", args=[case.pk, signature.pk]),
        reverse("mediation:proof", args=[case.pk, obligation.pk]),
        reverse("mediation:confirmation_papers", args=[case.pk, confirmation.pk]),
    ]
    client.force_login(w.gridworker2)
    assert [client.get(u).status_code for u in urls] == [404] * 5
    other = assigned_case(w)  # right ids, wrong case: 404 too
    wrong = [u.replace(f"/cases/{case.pk}/", f"/cases/{other.pk}/") for u in urls]
    client.force_login(w.mediator)
    assert [client.get(u).status_code for u in wrong] == [404] * 5
    for url in urls:
        with django_assert_max_num_queries(15):
            assert client.get(url).status_code == 200
    client.force_login(w.judge)  # sees the case, not the parties' numbers
    assert client.get(urls[4]).status_code == 403  # court papers cannot be masked
    masked = b"".join(client.get(urls[0]).streaming_content)
    assert PHONE not in pdf_text(masked) and "李秀英" in pdf_text(masked)
    client.force_login(w.mediator)
    assert PHONE in pdf_text(b"".join(client.get(urls[0]).streaming_content))
    assert (
        client.post(reverse("mediation:print", args=[case.pk]), {"kind": "notice"}).status_code
        == 302
    )
    client.force_login(w.judge)
    assert (
        client.post(reverse("mediation:print", args=[case.pk]), {"kind": "notice"}).status_code
        == 403
    )


def test_the_case_file_gets_the_papers_in_their_slots(w, printed):  # noqa: F811
    with printed():
        agreement = sign_everyone(w, make_agreement(w))
        case = agreement.case
        services.document_request(case=case, actor=w.mediator, kind="notice")
    docs = case_file.documents_for(case)
    slots = [d.slot for d in docs]
    assert Slot.NOTICE in slots and Slot.AGREEMENT in slots
    agreement_doc = next(d for d in docs if d.slot == Slot.AGREEMENT)
    assert agreement_doc.read().startswith(b"%PDF") and agreement_doc.holds_pii
    assert PHONE not in pdf_text(agreement_doc.read_masked())


def test_a_scan_of_the_signed_paper_freezes_the_agreement(w, client):  # noqa: F811
    agreement = make_agreement(w)
    scan = SimpleUploadedFile(
        "签字版.pdf", b"%PDF-1.4\nsigned\n%%EOF\n", content_type="application/pdf"
    )
    services.signature_scan(agreement=agreement, actor=w.mediator, scan=scan)
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    assert agreement.sha256 == hashlib.sha256(b"%PDF-1.4\nsigned\n%%EOF\n").hexdigest()
    final = Document.objects.get(agreement=agreement, final=True)
    client.force_login(w.judge)  # a scan cannot be masked
    assert (
        client.get(reverse("mediation:download", args=[agreement.case_id, final.pk])).status_code
        == 403
    )


def test_printing_leaves_pillows_truncated_image_check_on():
    # WeasyPrint switches it off for the whole process at import; a damaged photo must
    # still be refused in a process that prints (tests/disputes/test_photos.py).
    assert printing.HTML and ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_signed_agreement_is_the_cases_outcome_and_the_unit_is_told(w):  # noqa: F811
    case = case_in(w, "in_mediation")
    agreement = sign_everyone(w, make_agreement(w, case))
    case.refresh_from_db()
    assert case.outcome == "agreement" and agreement.number in case.outcome_note
    assert Notification.objects.filter(
        recipient=w.secretary, kind="case_mediation_agreement", case=case
    ).exists()
    # The mediator resolves with no second entry.
    case_services.case_resolve(case=case, actor=w.mediator, note="协议已签")
    assert Case.objects.get(pk=case.pk).status == "resolved"
