"""Following a report: the tracking code plus the tracking key open a page with
the stages and the notes the handler made public, nothing else. After closing, the resident
rates the outcome; "unsatisfied" asks the handler's supervisor to reopen the case."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from disputes import services as case_services
from disputes.models import CaseEvent, CaseStatus, Party
from notifications.models import Notification
from residents import services, views
from residents.models import Rating, ReopenRequest, ResidentReport
from residents.selectors import stages
from tests.residents.conftest import T0, handle_to_close, report

pytestmark = pytest.mark.django_db

TRACK = "/r/track/"


def lookup(client, code, secret, **extra):
    return client.post(TRACK, {"code": code, "secret": secret}, **extra)


def without_echo(response, code: str) -> str:
    """The page minus the CSRF token and the code the resident typed (echoed back)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return body.replace(f'value="{code}"', 'value=""')


def assign_to_gridworker(world, case):
    worker = world.u("gridworker")
    return case_services.case_assign(case=case, mediator=worker, actor=worker)


@pytest.fixture
def filed(world):
    return report(world)


def test_the_code_and_the_key_open_the_tracking_page(client, filed):
    key = services.format_key(filed.key).lower()  # any case, with the dashes
    response = lookup(client, filed.display_code.lower(), key)
    assert response.status_code == 302
    assert response["Location"] == reverse("resident_public:case", args=[filed.tracking_code])
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert [s.key for s in page.context["stages"] if s.done] == ["submitted"]
    assert "已提交" in page.content.decode()


def test_a_wrong_code_and_wrong_digits_get_the_same_answer(client, filed, world):
    other = report(world, world.micro, phone="13700001234")
    wrong_digits = lookup(client, filed.tracking_code, "1234")  # another report's digits
    wrong_code = lookup(client, "ABCDE-FGHJK", "5678")
    assert wrong_digits.status_code == wrong_code.status_code == 200
    assert without_echo(wrong_digits, filed.tracking_code) == without_echo(
        wrong_code, "ABCDE-FGHJK"
    )
    assert str(views.NO_MATCH) in wrong_code.content.decode()
    for response in (wrong_digits, wrong_code):
        body = response.content.decode()
        assert filed.case.cause not in body and other.case.cause not in body
        assert "王阿姨" not in body and filed.case.number not in body
    # Neither attempt unlocked anything.
    page = client.get(reverse("resident_public:case", args=[filed.tracking_code]))
    assert page.status_code == 302 and page["Location"].startswith(TRACK)


def test_a_direct_link_without_the_digits_only_prefills_the_code(client, filed):
    response = client.get(reverse("resident_public:case", args=[filed.tracking_code]))
    assert response["Location"] == f"{TRACK}?code={filed.tracking_code}"
    form = client.get(response["Location"])
    assert form.context["form"]["code"].value() == filed.tracking_code


def test_an_unknown_code_link_redirects_exactly_like_a_real_one(client, filed):
    unknown = client.get(reverse("resident_public:case", args=["ZZZZZZZZZZ"]))
    assert unknown.status_code == 302 and unknown["Location"] == f"{TRACK}?code=ZZZZZZZZZZ"


def test_guessing_is_limited_per_network_and_cannot_lock_the_reporter_out(client, filed, settings):
    settings.RESIDENT_RATE_LIMITS = {"track_ip": (3, 900), "track_pair": (2, 3600)}
    assert lookup(client, filed.tracking_code, "0000").status_code == 200
    assert lookup(client, filed.tracking_code, "0001").status_code == 200
    # This network's tries at this code are spent…
    assert lookup(client, filed.tracking_code, filed.key).status_code == 429
    # …but the reporter, elsewhere, still gets in with the key.
    owner = lookup(client, filed.tracking_code, filed.key, REMOTE_ADDR="10.2.2.2")
    assert owner.status_code == 302
    # The network's limit: a third failure from this address blocks other codes too.
    lookup(client, "AAAAAAAAAA", "0000")
    refused = lookup(client, "BBBBBBBBBB", "0000")
    assert refused.status_code == 429 and str(views.TOO_MANY_TRIES) in refused.content.decode()


def test_an_old_report_still_opens_with_the_phone_digits_under_a_per_code_limit(
    client, filed, settings
):
    ResidentReport.objects.filter(pk=filed.pk).update(tracking_key_hash="")  # filed before keys
    settings.RESIDENT_RATE_LIMITS = {"track_code": (2, 86400)}
    assert lookup(client, filed.tracking_code, "5678").status_code == 302
    client.logout()
    assert lookup(client, filed.tracking_code, "0000", REMOTE_ADDR="10.3.3.3").status_code == 200
    assert lookup(client, filed.tracking_code, "0001", REMOTE_ADDR="10.4.4.4").status_code == 200
    # Four digits can be guessed, so an old report's code has a limit of its own.
    assert lookup(client, filed.tracking_code, "5678", REMOTE_ADDR="10.5.5.5").status_code == 429


def test_a_keyed_report_does_not_open_with_the_phone_digits(client, filed):
    response = lookup(client, filed.tracking_code, "5678")
    assert response.status_code == 200 and str(views.NO_MATCH) in response.content.decode()


@pytest.mark.parametrize("secret", ["", "12", "abcd", "123456", "ABCD-EFGH"])
def test_a_malformed_secret_is_a_form_error(client, filed, secret):
    response = lookup(client, filed.tracking_code, secret)
    assert response.status_code == 200 and response.context["form"].errors["secret"]


def test_the_page_shows_public_notes_but_no_internal_note_or_other_party(client, world, filed):
    case = filed.case
    worker = world.u("gridworker")
    assign_to_gridworker(world, case)
    internal = "内部：被申请人李四电话13600001111，脾气暴躁"
    case_services.case_progress(case=case, actor=worker, note=internal)
    Party.objects.create(case=case, side="respondent", name="李四", phone="13600001111")
    services.public_note_add(case=case, actor=worker, note="已联系双方，约定周五上门协调。")
    lookup(client, filed.tracking_code, filed.key)
    page = client.get(reverse("resident_public:case", args=[filed.tracking_code]))
    body = page.content.decode()
    assert "已联系双方，约定周五上门协调。" in body
    assert "内部" not in body and "李四" not in body and "13600001111" not in body
    assert "13912345678" not in body  # not even the resident's own number
    assert "张网格" not in body  # nor the staff's names
    keys = {s.key: s for s in page.context["stages"]}
    assert keys["dispatched"].done and keys["in_mediation"].current
    assert "已分派" in body and "调解中" in body


def test_the_tracking_page_has_a_fixed_number_of_queries(
    client, world, filed, django_assert_max_num_queries
):
    assign_to_gridworker(world, filed.case)
    for n in range(5):
        services.public_note_add(case=filed.case, actor=world.u("gridworker"), note=f"进展{n}")
    lookup(client, filed.tracking_code, filed.key)
    url = reverse("resident_public:case", args=[filed.tracking_code])
    with django_assert_max_num_queries(7):
        assert client.get(url).status_code == 200


def test_stages_follow_the_case_and_a_reopen_moves_back(world, filed):
    case = handle_to_close(world, filed.case, closed_at=T0 + timedelta(days=3))
    assert [s.key for s in stages(case) if s.done] == [
        "submitted", "dispatched", "in_mediation", "resolved", "closed"
    ]  # fmt: skip
    assert all(s.at for s in stages(case))
    case = case_services.case_reopen(case=case, actor=world.u("admin"), reason="复发")
    assert [s.key for s in stages(case) if s.current] == ["in_mediation"]
    assert stages(case)[4].at is None


# --- rating -----------------------------------------------------------------------------------


@pytest.fixture
def closed(world, filed):
    handle_to_close(world, filed.case, closed_at=T0 + timedelta(days=3))
    filed.refresh_from_db()
    return filed


def rate(client, filed, **data):
    lookup(client, filed.tracking_code, filed.key)
    return client.post(reverse("resident_public:rate", args=[filed.tracking_code]), data)


def test_there_is_no_rating_before_closing(client, world, filed):
    lookup(client, filed.tracking_code, filed.key)
    page = client.get(reverse("resident_public:case", args=[filed.tracking_code]))
    assert page.context["can_rate"] is False and 'id="rating-form"' not in page.content.decode()
    response = rate(client, filed, satisfaction="satisfied")
    assert response.status_code == 409 and not Rating.objects.exists()


def test_a_satisfied_rating_is_recorded_once(client, closed):
    response = rate(client, closed, satisfaction="satisfied", comment="谢谢网格员")
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.satisfaction, rating.comment) == ("satisfied", "谢谢网格员")
    assert rating.closed_at == closed.case.closed_at
    assert not ReopenRequest.objects.exists()
    again = rate(client, closed, satisfaction="unsatisfied", comment="改主意了")
    assert again.status_code == 409 and Rating.objects.count() == 1
    assert again.context["can_rate"] is False


def test_unsatisfied_needs_a_comment(client, closed):
    response = rate(client, closed, satisfaction="unsatisfied", comment="")
    assert response.context["rating_form"].errors["comment"]
    assert not Rating.objects.exists()


@pytest.mark.parametrize("value", ["", "great", "5"])
def test_a_bad_rating_is_refused(client, closed, value):
    response = rate(client, closed, satisfaction=value)
    assert response.context["rating_form"].errors["satisfaction"]
    assert not Rating.objects.exists()


def test_rating_needs_the_verified_session(client, closed):
    url = reverse("resident_public:rate", args=[closed.tracking_code])
    response = client.post(url, {"satisfaction": "unsatisfied", "comment": "x"})
    assert response.status_code == 302 and not Rating.objects.exists()


def test_unsatisfied_raises_a_reopen_request_to_the_handlers_supervisor(client, world, closed):
    response = rate(client, closed, satisfaction="unsatisfied", comment="楼上还是半夜装修")
    assert response.status_code == 302
    request = ReopenRequest.objects.get()
    assert request.case == closed.case and request.status == "pending"
    assert request.reason == "楼上还是半夜装修" and request.rating.satisfaction == "unsatisfied"
    notified = Notification.objects.filter(kind="reopen_request")
    # A grid-level case: the grid has no assigner, so the community above decides.
    assert {n.recipient.username for n in notified} == {"secretary"}
    page = client.get(reverse("resident_public:case", args=[closed.tracking_code]))
    assert page.context["rating"].satisfaction == "unsatisfied"


def test_a_case_closed_again_after_a_reopen_can_be_rated_again(client, world, closed):
    rate(client, closed, satisfaction="unsatisfied", comment="没解决")
    services.reopen_decide(
        request=ReopenRequest.objects.get(), actor=world.u("secretary"), approve=True
    )
    case = closed.case
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_MEDIATION
    admin = world.u("admin")
    world.at(T0 + timedelta(days=5))
    case = case_services.case_resolve(case=case, actor=world.u("mediator"), outcome="agreement")
    case = case_services.case_close(case=case, actor=admin)
    assert rate(client, closed, satisfaction="satisfied").status_code == 302
    assert list(Rating.objects.order_by("id").values_list("satisfaction", flat=True)) == [
        "unsatisfied", "satisfied"
    ]  # fmt: skip


def test_the_residents_side_lands_on_the_case_timeline(client, world, closed):
    """A note shown to the resident, their rating and a refused reopen request are part of
    the case's record, written through disputes' services (no other app writes events)."""
    K = CaseEvent.Kind
    rate(client, closed, satisfaction="unsatisfied", comment="没解决")
    services.reopen_decide(
        request=ReopenRequest.objects.get(), actor=world.u("secretary"), approve=False,
        note="已核实，双方已签协议",
    )  # fmt: skip
    events = list(closed.case.events.filter(kind__in=[K.RATED, K.REOPEN_REFUSED]).order_by("id"))
    assert [(e.kind, e.actor_id) for e in events] == [
        (K.RATED, None),
        (K.REOPEN_REFUSED, world.u("secretary").pk),
    ]
    assert events[0].data["satisfaction"] == "unsatisfied" and events[0].note == "没解决"
    assert events[1].note == "已核实，双方已签协议"


def test_a_note_shown_to_the_resident_is_recorded_on_the_timeline(world, filed):
    worker = world.u("gridworker")
    assign_to_gridworker(world, filed.case)
    services.public_note_add(case=filed.case, actor=worker, note="约定周五上门")
    shown = filed.case.events.get(kind=CaseEvent.Kind.PUBLISHED)
    assert (shown.actor, shown.note) == (worker, "约定周五上门")
