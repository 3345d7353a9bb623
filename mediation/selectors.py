"""Reads of the mediation app, scoped: a case's mediation is seen by whoever may see the case
(Case.objects.visible_to), and nothing is found outside it (the pages answer 404)."""

from django.db.models import Count, Prefetch

from common.prepared import Prepared
from disputes.models import Case
from disputes.permissions import MEDIATOR_ROLES
from grids.models import THREE_OFFICERS_AND_A_LAWYER, Assignment, User

from .models import Agreement, AgreementStatus, Attendance, Document, MediationSession, Signature


def case_for_mediation(*, user, pk: int) -> Case:
    """Case.DoesNotExist outside the user's scope. The case with what the mediation pages
    show and check (its handling area for who-may, its parties and assisting staff)."""
    return (
        Case.objects.filter(pk__in=Case.objects.visible_to(user).filter(pk=pk).values("pk"))
        .select_related(
            "handling_area", "district", "community", "category", "category__parent", "mediator"
        )
        .prefetch_related("parties", "assistants")
        .get()
    )


def sessions_of(case) -> list[MediationSession]:
    return list(
        MediationSession.objects.filter(case=case).prefetch_related(
            "mediators",
            "invited",
            Prefetch("attendance", queryset=Attendance.objects.select_related("party", "user")),
        )
    )


def session_rows(case) -> list[MediationSession]:
    """The case page's list: one query, no people."""
    return SESSIONS.rows(case.pk)


def agreement_summary(case) -> Agreement | None:
    """The case page's line about the agreement: one query."""
    return AGREEMENT.first(case.pk)


# On every case page: compiled once per connection (common.prepared).
SESSIONS = Prepared(lambda case_id: MediationSession.objects.filter(case_id=case_id))


def _current_agreement(case_id: int):
    qs = (
        Agreement.objects.filter(case_id=case_id)
        .exclude(status=AgreementStatus.SUPERSEDED)
        .select_related("confirmation")
        .annotate(obligation_count=Count("obligations"))
    )
    return (qs if qs.ordered else qs.order_by("pk"))[:1]  # what .first() reads


AGREEMENT = Prepared(_current_agreement)


def session_of(case, pk: int) -> MediationSession:
    """MediationSession.DoesNotExist when it is not this case's."""
    return (
        MediationSession.objects.filter(case=case)
        .prefetch_related(
            "mediators",
            Prefetch("attendance", queryset=Attendance.objects.select_related("party", "user")),
        )
        .get(pk=pk)
    )


def current_agreement(case) -> Agreement | None:
    return (
        Agreement.objects.filter(case=case)
        .exclude(status=AgreementStatus.SUPERSEDED)
        .select_related("mediator", "confirmation")
        .prefetch_related(
            "obligations__party",
            Prefetch("signatures", queryset=Signature.objects.select_related("party", "user")),
        )
        .first()
    )


def agreement_of(case, pk: int) -> Agreement:
    return (
        Agreement.objects.filter(case=case)
        .select_related("mediator", "case")
        .prefetch_related(
            "obligations__party",
            Prefetch("signatures", queryset=Signature.objects.select_related("party", "user")),
        )
        .get(pk=pk)
    )


def documents_of(case) -> list[Document]:
    return list(Document.objects.filter(case=case).order_by("kind", "-pk"))


def document_of(*, user, case_id: int, pk: int) -> Document:
    """One paper of a case the user may see; Document.DoesNotExist otherwise."""
    visible = Case.objects.visible_to(user).filter(pk=case_id).values("pk")
    return Document.objects.select_related("case", "case__handling_area").get(
        pk=pk, case_id__in=visible
    )


def latest_documents(documents: list[Document]) -> dict:
    """The newest paper of each kind (and of each session), for the links on the pages."""
    latest = {}
    for document in documents:
        key = (document.kind, document.session_id, document.final)
        if key not in latest or document.pk > latest[key].pk:
            latest[key] = document
    return latest


def mediator_choices(case) -> list[User]:
    """The people who may be picked to mediate a session: holders of a mediating role in
    the case's handling area or above it, and the case's own mediator."""
    people = _holders(case, MEDIATOR_ROLES) | ({case.mediator} if case.mediator_id else set())
    return sorted(people, key=lambda u: u.pk)


def officer_choices(case) -> list[User]:
    """The three officers and a lawyer of the case's community (or of the areas above)."""
    return sorted(_holders(case, THREE_OFFICERS_AND_A_LAWYER), key=lambda u: u.pk)


def _holders(case, roles) -> set:
    area = case.community or case.handling_area
    paths = [*area.ancestor_paths(), area.path]
    ids = Assignment.objects.active().filter(role__in=roles, area__path__in=paths).values("user_id")
    return set(User.objects.filter(pk__in=ids, is_active=True))
