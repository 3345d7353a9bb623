"""Races on PostgreSQL (SQLite serialises writers, so there is no race to lose there): each
thread has its own connection; one of two identical actions wins and the other gets a clear
conflict; numbers stay dense and unique."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from common.errors import StateConflict
from disputes.demo import seed_categories
from disputes.models import Case, CaseEvent
from grids.models import User
from mediation import services
from mediation.models import Agreement, Document, MediationSession, Signature
from sla.models import Timer
from tests.conftest import service_missing
from tests.disputes.test_api import World
from tests.disputes.test_api_concurrency import run_in_threads
from tests.mediation.world import assigned_case, drawn_png, make_agreement, obligation_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def w(demo):
    if connection.vendor != "postgresql":
        service_missing("race tests need PostgreSQL (set DATABASE_URL)")
    seed_categories()
    return World()


def conflicts(results) -> int:
    return sum(isinstance(r, StateConflict) for r in results)


def test_agreement_numbers_stay_dense_and_one_agreement_per_case(w):
    cases = [assigned_case(w) for _ in range(6)]

    def create(i):
        case = Case.objects.get(pk=cases[i % 3].pk if i >= 3 else cases[i + 3].pk)
        return services.agreement_create(
            case=case,
            actor=User.objects.get(pk=w.mediator.pk),
            facts="事实",
            disputed_items="争议",
            obligations=obligation_rows(case),
        )

    results = run_in_threads(6, create)

    made = [r for r in results if isinstance(r, Agreement)]
    assert len(made) == 6, results
    numbers = sorted(int(a.number.split("〕")[1].rstrip("号")) for a in made)
    assert numbers == list(range(1, 7))

    def again(i):
        case = Case.objects.get(pk=cases[0].pk)
        return make_agreement(w, case)

    assert conflicts(run_in_threads(2, again)) == 2  # the case has one already


def test_one_of_two_record_saves_and_of_two_schedulings_each_get_their_number(w):
    case = assigned_case(w)

    def schedule(i):
        return services.session_schedule(
            case=Case.objects.get(pk=case.pk),
            actor=User.objects.get(pk=w.mediator.pk),
            starts_at=timezone.now() + timedelta(days=1),
            place="调解室",
            mediators=[User.objects.get(pk=w.mediator.pk)],
        )

    sessions = run_in_threads(2, schedule)
    assert sorted(s.number for s in sessions) == [1, 2]

    def record(i):
        return services.session_record(
            session=MediationSession.objects.get(pk=sessions[0].pk),
            actor=User.objects.get(pk=[w.mediator.pk, w.secretary.pk][i]),
            record_text=f"记录{i}",
            present=set(),
            version=1,
        )

    results = run_in_threads(2, record)
    assert conflicts(results) == 1
    assert MediationSession.objects.get(pk=sessions[0].pk).version == 2


def test_the_last_two_signatures_at_once_freeze_the_agreement_once(w, celery_eager):
    agreement = make_agreement(w)
    parties = list(agreement.case.parties.all())
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer=f"party:{parties[0].pk}", image=drawn_png()
    )
    signers = [f"party:{parties[1].pk}", "mediator"]

    def sign(i):
        return services.signature_add(
            agreement=Agreement.objects.get(pk=agreement.pk),
            actor=User.objects.get(pk=w.mediator.pk),
            signer=signers[i],
            image=drawn_png(),
        )

    results = run_in_threads(2, sign)

    assert all(isinstance(r, Signature) for r in results), results
    agreement.refresh_from_db()
    assert agreement.status == "signed" and agreement.sha256
    assert Document.objects.filter(agreement=agreement, final=True).count() == 1
    assert (
        agreement.case.events.filter(
            kind=CaseEvent.Kind.MEDIATION, data__step="agreement_signed"
        ).count()
        == 1
    )
    assert (
        Timer.objects.filter(kind="mediation.confirmation_window", object_id=agreement.pk).count()
        == 1
    )

    def sign_again(i):
        return services.signature_add(
            agreement=Agreement.objects.get(pk=agreement.pk),
            actor=User.objects.get(pk=w.mediator.pk),
            signer="mediator",
            image=drawn_png(),
        )

    assert conflicts(run_in_threads(2, sign_again)) == 2  # frozen


def test_one_of_two_signatures_by_the_same_signer_counts(w):
    agreement = make_agreement(w)
    party = agreement.case.parties.first()

    def sign(i):
        return services.signature_add(
            agreement=Agreement.objects.get(pk=agreement.pk),
            actor=User.objects.get(pk=w.mediator.pk),
            signer=f"party:{party.pk}",
            image=drawn_png(),
        )

    assert conflicts(run_in_threads(2, sign)) == 1
    assert Signature.objects.filter(agreement=agreement).count() == 1


def test_one_of_two_applications_and_of_two_performances_wins(w, celery_eager):
    agreement = make_agreement(w)
    for party in agreement.case.parties.all():
        services.signature_add(
            agreement=agreement, actor=w.mediator, signer=f"party:{party.pk}", image=drawn_png()
        )
    services.signature_add(
        agreement=agreement, actor=w.mediator, signer="mediator", image=drawn_png()
    )
    actors = [w.mediator.pk, w.secretary.pk]

    def apply(i):
        return services.confirmation_apply(
            agreement=Agreement.objects.get(pk=agreement.pk),
            actor=User.objects.get(pk=actors[i]),
            court="渝中区人民法院",
            applied_on=timezone.localdate(),
        )

    assert conflicts(run_in_threads(2, apply)) == 1
    obligation = agreement.obligations.first()

    def perform(i):
        return services.obligation_perform(
            obligation=type(obligation).objects.get(pk=obligation.pk),
            actor=User.objects.get(pk=actors[i]),
            note=f"{i}",
        )

    assert conflicts(run_in_threads(2, perform)) == 1
    assert agreement.case.events.filter(data__step="obligation_performed").count() == 1


def test_a_record_and_a_cancellation_at_once_one_wins(w):
    case = assigned_case(w)
    session = services.session_schedule(
        case=case,
        actor=w.mediator,
        starts_at=timezone.now() + timedelta(days=1),
        place="调解室",
        mediators=[w.mediator],
    )

    def act(i):
        fresh = MediationSession.objects.get(pk=session.pk)
        actor = User.objects.get(pk=[w.mediator.pk, w.secretary.pk][i])
        if i == 0:
            return services.session_record(
                session=fresh, actor=actor, record_text="记录", present=set(), version=1
            )
        return services.session_cancel(session=fresh, actor=actor, reason="改期")

    results = run_in_threads(2, act)
    assert conflicts(results) == 1, results
    assert MediationSession.objects.get(pk=session.pk).status in ("held", "cancelled")
