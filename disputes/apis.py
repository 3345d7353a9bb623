"""The REST API (DRF): thin views that parse input, call one service or selector, and
answer with the case as it now is. Scope and errors follow the pages exactly: a case the
user cannot see is 404, an action they may not take 403, bad input 400 with field errors,
an action the case's state forbids 409 (see grid_governance/api_errors.py)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses, parsed

from . import actions, disclosure, permissions, selectors, services
from .filters import CaseFilter
from .list_rows import CaseRows
from .listing import COUNT_CAP, CaseListPaginator
from .models import Case
from .serializers import (
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    CategorySerializer,
    NoteInputSerializer,
    UserRefSerializer,
)

TAG = "cases"


class CasePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CaseListPagination(CasePagination):
    """The case list's pages: `?page=` (1, 2 …) and `?page_size=` (default 50, at most 200).
    `count` is exact up to 10,000; beyond, it says 10,000 and `count_capped` is true, and
    pages go as deep as the first 10,000 cases (narrow the list with the filters to reach
    older ones). `next` and `previous` are the neighbouring pages' links, null at either
    end. A page past the last is 404."""

    django_paginator_class = CaseListPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            f"Exact up to {COUNT_CAP:,}; {COUNT_CAP:,} with `count_capped` beyond."
        )
        described["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"More than {COUNT_CAP:,} cases match: `count` is a floor and pages "
            f"stop at the {COUNT_CAP:,}th case.",
        }
        described["required"] = [*described.get("required", []), "count_capped"]
        return described


def visible_case(user, pk) -> Case:
    """The case if the user may see it; 404 otherwise, never revealing that it exists."""
    case = selectors.case_list(user=user).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def case_response(request, pk, *, status_code=status.HTTP_200_OK, reveal=False) -> Response:
    try:
        case = selectors.case_detail(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None
    if reveal:  # recorded; refused (403) for whoever may not see party details
        disclosure.reveal_parties(case=case, actor=request.user, channel="api")
    context = {"request": request, "now": timezone.now(), "reveal_parties": reveal}
    return Response(CaseDetailSerializer(case, context=context).data, status=status_code)


# --- reads and filing -----------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_list",
        tags=[TAG],
        summary="Cases in your scope, newest first",
        description=(
            "Paginated by page number: `?page=1` (the default), `?page_size=` up to 200 "
            "(default 50). The answer is `{count, count_capped, next, previous, results}`: "
            "`count` is exact up to 10,000 matching cases; beyond, `count` is 10,000, "
            "`count_capped` is true and pages stop at the 10,000th case (filter by date, "
            "area or status to reach older ones). `next`/`previous` are links to the "
            "neighbouring pages (null at either end); a page past the last answers 404. "
            "The order is stable (newest filed first, then the highest id; `sort=sla`: "
            "red, orange, green, the most overdue first), so pages do not overlap while "
            "no case is filed."
        ),
        responses={200: CaseListSerializer(many=True), **error_responses(400, 404)},
    ),
    post=extend_schema(
        operation_id="cases_file",
        tags=[TAG],
        summary="File a case (JSON, or multipart with photos)",
        description=(
            "Send an `Idempotency-Key` header (up to 64 printable characters, e.g. a UUID "
            "made when the user starts the filing) and a retry can never file twice: the "
            "same key with the same content answers 200 with the case filed first; the "
            "same key with other content answers 409. Keys are per user and kept."
        ),
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="A key of your own for this filing",
            ),
        ],
        request=CaseCreateSerializer,
        responses={
            201: CaseDetailSerializer,
            200: CaseDetailSerializer,
            **error_responses(400, 403, 409),
        },
    ),
)
class CaseListCreateApi(generics.ListAPIView):
    serializer_class = CaseListSerializer
    filterset_class = CaseFilter
    pagination_class = CaseListPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_serializer(self, *args, **kwargs):
        if kwargs.pop("many", False):  # a page of the list: written in one pass (list_rows)
            context = self.get_serializer_context()
            return CaseRows(*args, child=CaseListSerializer(), context=context, **kwargs)
        return super().get_serializer(*args, **kwargs)

    def post(self, request):
        if not permissions.can_file(request.user):
            raise PermissionDenied
        case, first_time = services.case_file_once(
            key=request.headers.get("Idempotency-Key", ""),
            actor=request.user,
            **parsed(CaseCreateSerializer, request),
        )
        if not first_time:  # a retry: the case as it now is
            return case_response(request, case.pk, status_code=status.HTTP_200_OK)
        # The case as filed, from what the filing wrote: nothing read back for the reply.
        context = {"request": request, "now": timezone.now(), "reveal_parties": False}
        data = CaseDetailSerializer(selectors.case_as_filed(case), context=context).data
        return Response(data, status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(
        operation_id="cases_retrieve",
        tags=[TAG],
        summary="One case with its parties, timeline, attachments and category guidance",
        description=(
            "Parties' phone and ID numbers are masked. `?reveal=parties` shows them in full "
            "to those allowed (handlers, the filer, the case's queue); every such view is "
            "recorded for review."
        ),
        parameters=[
            OpenApiParameter("reveal", str, enum=["parties"], description="Show party details"),
        ],
        responses={200: CaseDetailSerializer, **error_responses(403, 404)},
    )
    def get(self, request, pk: int):
        return case_response(request, pk, reveal=request.query_params.get("reveal") == "parties")


class MediatorCandidatesApi(APIView):
    @extend_schema(
        operation_id="cases_mediator_candidates",
        tags=[TAG],
        summary="People who may be assigned to mediate this case (for those who assign)",
        responses={200: UserRefSerializer(many=True), **error_responses(403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case(request.user, pk)
        if not permissions.is_manager(request.user, case):
            raise PermissionDenied
        users = selectors.mediator_candidates(case=case)
        return Response(UserRefSerializer(users, many=True).data)


class CategoryListApi(APIView):
    @extend_schema(
        operation_id="categories_list",
        tags=["categories"],
        summary="Dispute types you can file under, with laws and typical cases",
        responses={200: CategorySerializer(many=True)},
    )
    def get(self, request):
        categories = (
            selectors.category_choices()
            .select_related("lead_department", "parent__lead_department")
            .prefetch_related("laws", "typical_cases")
        )
        return Response(CategorySerializer(categories, many=True).data)


# --- one endpoint per workflow action ------------------------------------------------------


class CaseActionApi(APIView):
    """POST the action's input; the answer is the updated case. Each subclass is built from
    one declaration in disputes.actions (its service call and input serializer)."""

    input_serializer = NoteInputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    success_status = status.HTTP_200_OK

    @staticmethod
    def perform(case, actor, data):
        raise NotImplementedError

    def post(self, request, pk: int):
        case = visible_case(request.user, pk)
        self.perform(case, request.user, parsed(self.input_serializer, request))
        return case_response(request, pk, status_code=self.success_status)


def endpoint(declared: actions.Action):
    """The endpoint class for one declared workflow action, with its own schema entry."""
    cls = type(
        f"Case{declared.name.title().replace('_', '')}Api",
        (CaseActionApi,),
        {
            "perform": staticmethod(declared.perform),
            "input_serializer": declared.serializer,
            "success_status": declared.success,
        },
    )
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"cases_{declared.name}",
            tags=[TAG],
            summary=declared.summary,
            request=declared.serializer,
            responses={
                declared.success: CaseDetailSerializer,
                **error_responses(*declared.errors),
            },
        )
    )(cls)


# One endpoint per declared action: POST /api/v1/cases/{id}/<name with hyphens>/
ACTION_ENDPOINTS = {a.path: endpoint(a) for a in actions.ACTION_LIST}
