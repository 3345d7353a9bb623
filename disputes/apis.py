"""The REST API (DRF): thin views that parse input, call one service or selector, and
answer with the case as it now is. Scope and errors follow the pages exactly: a case the
user cannot see is 404, an action they may not take 403, bad input 400 with field errors,
an action the case's state forbids 409 (see grid_governance/api_errors.py)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses, parsed

from . import permissions, selectors, services
from .filters import CaseFilter
from .models import Case, ExtensionRequest
from .serializers import (
    AssignInputSerializer,
    AttachInputSerializer,
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseListSerializer,
    CategorySerializer,
    DispatchInputSerializer,
    ExtensionDecideInputSerializer,
    ExtensionRequestInputSerializer,
    NoteInputSerializer,
    OutcomeInputSerializer,
    ProgressInputSerializer,
    RaiseRiskInputSerializer,
    ReasonInputSerializer,
    ReferInputSerializer,
    ResolveInputSerializer,
    UserRefSerializer,
)

TAG = "cases"


class CasePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def visible_case(user, pk) -> Case:
    """The case if the user may see it; 404 otherwise, never revealing that it exists."""
    case = selectors.case_list(user=user).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def case_response(request, pk, *, status_code=status.HTTP_200_OK) -> Response:
    try:
        case = selectors.case_detail(user=request.user, pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None
    context = {"request": request, "now": timezone.now()}
    return Response(CaseDetailSerializer(case, context=context).data, status=status_code)


# --- reads and filing -----------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        operation_id="cases_list",
        tags=[TAG],
        summary="Cases in your scope, newest first",
        responses={200: CaseListSerializer(many=True), **error_responses(400)},
    ),
    post=extend_schema(
        operation_id="cases_file",
        tags=[TAG],
        summary="File a case (JSON, or multipart with photos)",
        request=CaseCreateSerializer,
        responses={201: CaseDetailSerializer, **error_responses(400, 403)},
    ),
)
class CaseListCreateApi(generics.ListAPIView):
    serializer_class = CaseListSerializer
    filterset_class = CaseFilter
    pagination_class = CasePagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def post(self, request):
        if not permissions.can_file(request.user):
            raise PermissionDenied
        case = services.case_file(actor=request.user, **parsed(CaseCreateSerializer, request))
        return case_response(request, case.pk, status_code=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(
        operation_id="cases_retrieve",
        tags=[TAG],
        summary="One case with its parties, timeline, attachments and category guidance",
        responses={200: CaseDetailSerializer, **error_responses(404)},
    )
    def get(self, request, pk: int):
        return case_response(request, pk)


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
    """POST the action's input; the answer is the updated case. Each subclass names the
    service and its input serializer, whose fields are the service's keyword arguments."""

    input_serializer = NoteInputSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    success_status = status.HTTP_200_OK

    @staticmethod
    def service(**kwargs):
        raise NotImplementedError

    def post(self, request, pk: int):
        case = visible_case(request.user, pk)
        self.service(case=case, actor=request.user, **parsed(self.input_serializer, request))
        return case_response(request, pk, status_code=self.success_status)


def action(
    name: str, service, input_serializer, summary: str, *, codes=(400, 403, 404, 409),
    success=status.HTTP_200_OK,
):  # fmt: skip
    """Build the endpoint class for one workflow action, with its own schema entry."""
    cls = type(
        f"Case{name.title().replace('-', '')}Api",
        (CaseActionApi,),
        {
            "service": staticmethod(service),
            "input_serializer": input_serializer,
            "success_status": success,
        },
    )
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"cases_{name.replace('-', '_')}",
            tags=[TAG],
            summary=summary,
            request=input_serializer,
            responses={success: CaseDetailSerializer, **error_responses(*codes)},
        )
    )(cls)


ACTIONS = {
    "accept": action(
        "accept", services.case_accept, NoteInputSerializer, "Accept a filed case"
    ),
    "send-back": action(
        "send-back", services.case_send_back, ReasonInputSerializer,
        "Send a case back to the filer for more information",
    ),
    "resubmit": action(
        "resubmit", services.case_resubmit, NoteInputSerializer, "Resubmit a sent-back case"
    ),
    "assign": action(
        "assign", services.case_assign, AssignInputSerializer,
        "Assign the mediator (and assisting staff)",
    ),
    "progress": action(
        "progress", services.case_progress, ProgressInputSerializer,
        "Record progress (multipart for photos)",
    ),
    "outcome": action(
        "outcome", services.case_record_outcome, OutcomeInputSerializer,
        "Record the mediation outcome",
    ),
    "resolve": action(
        "resolve", services.case_resolve, ResolveInputSerializer, "Mark the case resolved"
    ),
    "close": action("close", services.case_close, NoteInputSerializer, "Close the case"),
    "reopen": action(
        "reopen", services.case_reopen, ReasonInputSerializer, "Reopen a resolved or closed case"
    ),
    "withdraw": action(
        "withdraw", services.case_withdraw, ReasonInputSerializer, "Withdraw the case"
    ),
    "refer": action(
        "refer", services.case_refer, ReferInputSerializer,
        "Refer the case to litigation, arbitration or a department",
    ),
    "attachments": action(
        "attachments", services.case_attach, AttachInputSerializer,
        "Add photos or PDFs (multipart)", codes=(400, 403, 404),
    ),
}  # fmt: skip


# --- SLA: escalation, risk, dispatch (发令), extensions, the judicial-confirmation pause ----------

SLA_ACTIONS = {
    "escalate": action(
        "escalate", services.case_escalate, ReasonInputSerializer,
        "Escalate to the next level's queue (new assignment deadline, same closing deadline)",
    ),
    "raise-risk": action(
        "raise-risk", services.case_raise_risk, RaiseRiskInputSerializer,
        "Raise the risk level; major moves the case to the street centre, serious to the district",
    ),
    "dispatch": action(
        "dispatch", services.case_dispatch, DispatchInputSerializer,
        "Issue an order (发令): a department leads the case from now on",
    ),
    "extensions": action(
        "extensions", services.extension_request, ExtensionRequestInputSerializer,
        "Request more time to close the case; the level above decides",
        success=status.HTTP_201_CREATED,
    ),
    "pause-clock": action(
        "pause-clock", services.case_pause_clock, NoteInputSerializer,
        "Pause the closing clock during judicial confirmation (if the case's policy allows)",
    ),
    "resume-clock": action(
        "resume-clock", services.case_resume_clock, NoteInputSerializer,
        "Resume the closing clock; the deadline moves by the paused time",
    ),
}  # fmt: skip


class ExtensionDecideApi(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="cases_extensions_decide",
        tags=[TAG],
        summary="Approve or refuse an extension request (the level above the handling area)",
        request=ExtensionDecideInputSerializer,
        responses={200: CaseDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, pk: int, extension_id: int):
        case = visible_case(request.user, pk)
        extension = get_object_or_404(ExtensionRequest, pk=extension_id, case=case)
        data = parsed(ExtensionDecideInputSerializer, request)
        services.extension_decide(
            extension=extension,
            actor=request.user,
            approve=data["decision"] == "approve",
            note=data["note"],
        )
        return case_response(request, pk)
