"""The mediation API (DRF), read-only: a case's sessions, its current agreement with the
obligations, signatures and judicial confirmation, and its printed papers (links to the
scoped downloads). Outside the user's scope 404, in the project's one error shape. The
writes are the pages' (the signatures are drawn on a phone's screen)."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses
from disputes.models import Case

from . import selectors
from .models import (
    Agreement,
    Document,
    JudicialConfirmation,
    MediationSession,
    Obligation,
    Signature,
)

TAG = "mediation"


class MediationSessionSerializer(serializers.ModelSerializer):
    mediators = serializers.SerializerMethodField()
    present = serializers.SerializerMethodField()

    class Meta:
        model = MediationSession
        fields = ["id", "number", "starts_at", "place", "online", "status", "mediators",
                  "present", "recorded_at"]  # fmt: skip

    def get_mediators(self, session) -> list[str]:
        return [u.display_name for u in session.mediators.all()]

    def get_present(self, session) -> list[str]:
        return [a.name for a in session.attendance.all() if a.present]


class MediationObligationSerializer(serializers.ModelSerializer):
    party = serializers.CharField(source="party.name")

    class Meta:
        model = Obligation
        fields = ["id", "position", "party", "description", "amount", "due_on", "manner",
                  "status", "performed_at"]  # fmt: skip


class MediationSignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Signature
        fields = ["id", "signer_name", "method", "signed_at"]


class JudicialConfirmationSerializer(serializers.ModelSerializer):
    class Meta:
        model = JudicialConfirmation
        fields = ["id", "court", "applied_on", "status", "decided_on", "ruling_number",
                  "ruling_date", "court_late"]  # fmt: skip


class MediationAgreementSerializer(serializers.ModelSerializer):
    obligations = MediationObligationSerializer(many=True)
    signatures = MediationSignatureSerializer(many=True)
    confirmation = serializers.SerializerMethodField()

    class Meta:
        model = Agreement
        fields = ["id", "number", "version", "title", "status", "signed_at", "sha256",
                  "obligations", "signatures", "confirmation"]  # fmt: skip

    @extend_schema_field(JudicialConfirmationSerializer(allow_null=True))
    def get_confirmation(self, agreement):
        confirmation = getattr(agreement, "confirmation", None)
        return JudicialConfirmationSerializer(confirmation).data if confirmation else None


class MediationDocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "kind", "final", "status", "sha256", "pages", "ready_at", "url"]

    def get_url(self, document) -> str:
        return reverse("mediation:download", args=[document.case_id, document.pk])


class CaseMediationSerializer(serializers.Serializer):
    case = serializers.IntegerField()
    sessions = MediationSessionSerializer(many=True)
    agreement = MediationAgreementSerializer(allow_null=True)
    documents = MediationDocumentSerializer(many=True)


class CaseMediationApi(APIView):
    @extend_schema(
        operation_id="case_mediation",
        tags=[TAG],
        summary="A case's mediation: sessions, the current agreement, its papers",
        responses={200: CaseMediationSerializer, **error_responses(404)},
    )
    def get(self, request, case_id: int):
        try:
            case = selectors.case_for_mediation(user=request.user, pk=case_id)
        except Case.DoesNotExist as exc:
            raise Http404 from exc
        documents = [d for d in selectors.documents_of(case) if d.status == "ready"]
        data = {
            "case": case.pk,
            "sessions": selectors.sessions_of(case),
            "agreement": selectors.current_agreement(case),
            "documents": documents,
        }
        return Response(CaseMediationSerializer(data).data)
