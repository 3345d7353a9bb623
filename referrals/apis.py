"""The linkage-referral API (DRF): list and record referrals, record a result, extend a
court-entrusted limit. A case or referral outside your scope is 404; in scope but not yours
to act on, 403; a wrong state, 409; bad input, 400 with field errors (nothing saved)."""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ErrorSerializer
from disputes.models import Case

from . import selectors, services
from .filters import ReferralFilter
from .models import Referral
from .serializers import (
    ExtendInputSerializer,
    ReferralInputSerializer,
    ReferralSerializer,
    ResultInputSerializer,
)

TAG = "referrals"
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; nothing was saved."),
    403: OpenApiResponse(ErrorSerializer, description="You may see the case but not do this."),
    404: OpenApiResponse(ErrorSerializer, description="Outside your scope."),
    409: OpenApiResponse(ErrorSerializer, description="The referral's state does not allow it."),
}


@extend_schema_view(
    get=extend_schema(
        operation_id="referrals_list",
        tags=[TAG],
        summary="Linkage referrals of the cases in your scope, newest first",
        responses={200: ReferralSerializer(many=True), 400: ErrorSerializer},
    ),
    post=extend_schema(
        operation_id="referrals_create",
        tags=[TAG],
        summary="Record a case received from or sent to a linked body",
        request=ReferralInputSerializer,
        responses={201: ReferralSerializer, **ERRORS},
    ),
)
class ReferralListApi(generics.ListAPIView):
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter

    def get_queryset(self):
        return selectors.referral_list(user=self.request.user)

    def post(self, request):
        data = ReferralInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        try:
            case = (
                Case.objects.visible_to(request.user)
                .select_related("handling_area", "mediator")
                .get(pk=fields.pop("case"))
            )
        except Case.DoesNotExist as exc:
            raise Http404 from exc
        referral = services.referral_record(case=case, actor=request.user, **fields)
        return Response(ReferralSerializer(referral).data, status=status.HTTP_201_CREATED)


def _referral(request, pk) -> Referral:
    try:
        return selectors.referral_detail(user=request.user, pk=pk)
    except Referral.DoesNotExist as exc:
        raise Http404 from exc


@extend_schema_view(
    get=extend_schema(
        operation_id="referrals_retrieve",
        tags=[TAG],
        summary="One linkage referral",
        responses={200: ReferralSerializer, 404: ERRORS[404]},
    )
)
class ReferralDetailApi(APIView):
    def get(self, request, pk: int):
        return Response(ReferralSerializer(_referral(request, pk)).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="referrals_result",
        tags=[TAG],
        summary="Record the partner's result (out) or the result sent back (in)",
        request=ResultInputSerializer,
        responses={200: ReferralSerializer, **ERRORS},
    )
)
class ReferralResultApi(APIView):
    def post(self, request, pk: int):
        referral = _referral(request, pk)
        data = ResultInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_result(
            referral=referral, actor=request.user, **data.validated_data
        )
        return Response(ReferralSerializer(referral).data)


@extend_schema_view(
    post=extend_schema(
        operation_id="referrals_extend",
        tags=[TAG],
        summary="Extend a court-entrusted mediation's limit once, by 30 days",
        request=ExtendInputSerializer,
        responses={200: ReferralSerializer, **ERRORS},
    )
)
class ReferralExtendApi(APIView):
    def post(self, request, pk: int):
        referral = _referral(request, pk)
        data = ExtendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_extend(
            referral=referral, actor=request.user, **data.validated_data
        )
        return Response(ReferralSerializer(referral).data)
