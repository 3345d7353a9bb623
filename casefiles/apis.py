"""The mediation file's API: the archived versions of the cases in your scope (the copy you
get: full, or masked), its download, and archiving a closed case again (202: built in the
background; poll its `progress`)."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ErrorSerializer
from disputes.models import Case

from . import selectors, services, views
from .models import CaseFileArchive
from .serializers import ArchiveAgainSerializer, ArchiveSerializer

TAG = "casefiles"
A = CaseFileArchive
ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input; nothing was saved."),
    403: OpenApiResponse(ErrorSerializer, description="You may see the case but not do this."),
    404: OpenApiResponse(ErrorSerializer, description="Outside your scope."),
    409: OpenApiResponse(ErrorSerializer, description="The case is not closed, or a build runs."),
}


def _payload(user, archive: A) -> dict:
    copy = selectors.copy_for(user, archive) if archive.ready else {}
    url = reverse("casefiles-api:download", args=[archive.pk]) if archive.ready else None
    return {
        **{f: getattr(archive, f) for f in ("id", "version", "number", "year", "reason")},
        "case": archive.case_id,
        "case_number": archive.case.number,
        "unit": archive.unit.name,
        "status": archive.status,
        "progress": archive.progress,
        "masked": copy.get("masked", False),
        "sha256": copy.get("sha256", ""),
        "pages": copy.get("pages", 0),
        "index": copy.get("index", []),
        "built_at": archive.built_at,
        "created_at": archive.created_at,
        "download_url": url,
    }


@extend_schema_view(
    get=extend_schema(
        operation_id="casefiles_list",
        tags=[TAG],
        summary="Archived mediation files of the cases in your scope",
        parameters=[OpenApiParameter("case", OpenApiTypes.INT, description="One case's files.")],
        responses={200: ArchiveSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="casefiles_archive_again",
        tags=[TAG],
        summary="Archive a closed case's file again (a new version)",
        request=ArchiveAgainSerializer,
        responses={202: ArchiveSerializer, **ERRORS},
    ),
)
class ArchiveListApi(generics.GenericAPIView):
    serializer_class = ArchiveSerializer
    filter_backends: list = []

    def get(self, request):
        case_id = request.query_params.get("case")
        case_id = int(case_id) if case_id and case_id.isdigit() else None
        qs = selectors.archive_list(user=request.user, case_id=case_id)
        page = self.paginate_queryset(qs)
        # Which copy each viewer gets is decided per case (sees_party_details).
        rows = [ArchiveSerializer(_payload(request.user, a)).data for a in page]
        return self.get_paginated_response(rows)

    def post(self, request):
        data = ArchiveAgainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            case = (
                Case.objects.visible_to(request.user)
                .select_related("handling_area")
                .get(pk=data.validated_data["case"])
            )
        except Case.DoesNotExist as exc:
            raise Http404 from exc
        archive = services.archive_again(case=case, actor=request.user)
        archive = A.objects.select_related("case", "unit").get(pk=archive.pk)
        return Response(
            ArchiveSerializer(_payload(request.user, archive)).data,
            status=status.HTTP_202_ACCEPTED,
        )


def _archive(request, pk) -> A:
    try:
        return selectors.archive_detail(user=request.user, pk=pk)
    except A.DoesNotExist as exc:
        raise Http404 from exc


@extend_schema_view(
    get=extend_schema(
        operation_id="casefiles_retrieve",
        tags=[TAG],
        summary="One archived version: status, progress, and your copy's hash and index",
        responses={200: ArchiveSerializer, 404: ERRORS[404]},
    )
)
class ArchiveDetailApi(APIView):
    def get(self, request, pk: int):
        return Response(ArchiveSerializer(_payload(request.user, _archive(request, pk))).data)


@extend_schema_view(
    get=extend_schema(
        operation_id="casefiles_download",
        tags=[TAG],
        summary="The PDF (your copy: full, or with phone and ID numbers masked)",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            404: ERRORS[404],
        },
    )
)
class ArchiveDownloadApi(APIView):
    def get(self, request, pk: int):
        return views.serve(request, _archive(request, pk), channel="api")
