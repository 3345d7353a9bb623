"""Every mediation action through its page: the judge (sees the case, may not act) gets 403
and nothing changes, an outsider 404, bad input 400 with nothing saved, a wrong state 409;
the pages' query budgets do not grow with the number of sessions and obligations."""

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mediation import services
from mediation.models import Agreement, Document, JudicialConfirmation, Obligation
from tests.disputes.test_api import seeded, w  # noqa: F401
from tests.mediation.world import assigned_case, drawn_png, make_agreement, sign_everyone

pytestmark = pytest.mark.django_db


def state(agreement):
    agreement = Agreement.objects.get(pk=agreement.pk)
    return (
        agreement.status,
        agreement.revision,
        agreement.signatures.count(),
        list(Obligation.objects.filter(agreement=agreement).values_list("status", flat=True)),
        JudicialConfirmation.objects.filter(agreement=agreement).count(),
        Document.objects.filter(case=agreement.case).count(),
    )


def actions(case, agreement, confirmation=None):
    today = timezone.localdate().isoformat()
    obligation = agreement.obligations.first()
    png = "data:image/png;base64," + base64.b64encode(drawn_png()).decode()
    posts = [
        (
            reverse("mediation:sign", args=[case.pk, agreement.pk]),
            {"signer": "mediator", "image": png},
        ),
        (reverse("mediation:perform", args=[case.pk, obligation.pk]), {"note": "已付"}),
        (
            reverse("mediation:confirmation_apply", args=[case.pk, agreement.pk]),
            {"court": "法院", "applied_on": today},
        ),
        (reverse("mediation:new_version", args=[case.pk, agreement.pk]), {}),
        (
            reverse("mediation:print", args=[case.pk]),
            {"kind": "agreement", "agreement": agreement.pk},
        ),
    ]
    if confirmation:
        posts.append(
            (
                reverse("mediation:confirmation_record", args=[case.pk, confirmation.pk]),
                {"status": "accepted", "decided_on": today},
            )
        )
    return posts


def test_the_judge_gets_403_and_an_outsider_404_on_every_action(client, w, printed):  # noqa: F811
    with printed():
        agreement = sign_everyone(w, make_agreement(w))
    case = agreement.case
    confirmation = services.confirmation_apply(
        agreement=agreement, actor=w.mediator, court="法院", applied_on=timezone.localdate()
    )
    before = state(agreement)
    client.force_login(w.judge)
    assert [
        client.post(url, data).status_code for url, data in actions(case, agreement, confirmation)
    ] == [403] * 6
    client.force_login(w.gridworker2)
    assert [
        client.post(url, data).status_code for url, data in actions(case, agreement, confirmation)
    ] == [404] * 6
    assert state(agreement) == before


def test_bad_input_is_400_and_saves_nothing(client, w):  # noqa: F811
    agreement = make_agreement(w)
    case = agreement.case
    client.force_login(w.mediator)
    sign = reverse("mediation:sign", args=[case.pk, agreement.pk])
    assert (
        client.post(sign, {"signer": "mediator", "image": "data:image/png;base64,!!!"}).status_code
        == 400
    )
    assert client.post(sign, {"signer": "nobody", "image": "x"}).status_code == 400
    scan = reverse("mediation:scan", args=[case.pk, agreement.pk])
    text = SimpleUploadedFile("scan.pdf", b"just text", content_type="application/pdf")
    assert client.post(scan, {"scan": text}).status_code == 400
    assert (
        client.post(reverse("mediation:print", args=[case.pk]), {"kind": "poster"}).status_code
        == 400
    )
    assert state(agreement) == ("draft", 1, 0, ["pending", "pending"], 0, 0)


def test_wrong_states_are_409(client, w, printed):  # noqa: F811
    draft = make_agreement(w)
    case = draft.case
    client.force_login(w.mediator)
    obligation = draft.obligations.first()
    today = timezone.localdate().isoformat()
    # A draft's obligations are not performed, nor is a draft confirmed by a court or versioned.
    assert (
        client.post(reverse("mediation:perform", args=[case.pk, obligation.pk]), {}).status_code
        == 409
    )
    apply = reverse("mediation:confirmation_apply", args=[case.pk, draft.pk])
    assert client.post(apply, {"court": "法院", "applied_on": today}).status_code == 409
    assert (
        client.post(reverse("mediation:new_version", args=[case.pk, draft.pk])).status_code == 409
    )
    with printed():
        signed = sign_everyone(w, draft)
    png = "data:image/png;base64," + base64.b64encode(drawn_png()).decode()
    sign = reverse("mediation:sign", args=[case.pk, signed.pk])
    assert (
        client.post(sign, {"signer": "mediator", "image": png}).status_code == 400
    )  # nobody left to sign
    print_draft = reverse("mediation:print", args=[case.pk])
    assert (
        client.post(print_draft, {"kind": "agreement", "agreement": signed.pk}).status_code == 409
    )
    assert (
        client.post(
            reverse("mediation:print", args=[case.pk]), {"kind": "record", "session": 0}
        ).status_code
        == 404
    )


def test_the_overview_costs_the_same_with_more_sessions(client, w, django_assert_max_num_queries):  # noqa: F811
    case = assigned_case(w)
    agreement = make_agreement(w, case)
    client.force_login(w.mediator)
    url = reverse("mediation:overview", args=[case.pk])

    def queries():
        with django_assert_max_num_queries(40) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    services.session_schedule(
        case=case,
        actor=w.mediator,
        starts_at=timezone.now() + timedelta(days=1),
        place="A",
        mediators=[w.mediator],
    )
    one = queries()
    for n in range(4):
        services.session_schedule(
            case=case,
            actor=w.mediator,
            starts_at=timezone.now() + timedelta(days=2 + n),
            place="B",
            mediators=[w.mediator],
            invited=[w.lawyer],
        )
    services.signature_add(
        agreement=agreement,
        actor=w.mediator,
        signer=f"party:{case.parties.first().pk}",
        image=drawn_png(),
    )
    assert queries() == one


def test_the_document_page_polls_until_the_pdf_is_ready(client, w, django_assert_max_num_queries):  # noqa: F811
    case = assigned_case(w)
    client.force_login(w.mediator)
    document = services.document_request(case=case, actor=w.mediator, kind="notice")  # not rendered
    url = reverse("mediation:document", args=[case.pk, document.pk])
    with django_assert_max_num_queries(20):
        partial = client.get(url, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert 'data-status="pending"' in body and "hx-trigger" in body and "<html" not in body
    assert client.get(reverse("mediation:download", args=[case.pk, document.pk])).status_code == 404
    again = services.document_request(case=case, actor=w.mediator, kind="notice")
    assert again.pk == document.pk  # asked twice, rendered once
