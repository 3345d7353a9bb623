"""Instructions over the API: send and follow them (senders), acknowledge them (recipients).
Errors have the project's one shape (grid_governance/api_errors.py): bad input 400 with field
errors, an area outside your scope 403, an instruction you may not see 404."""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses, parsed

from . import selectors, services
from .models import Instruction, InstructionRecipient
from .serializers import (
    InstructionDetailSerializer,
    InstructionSerializer,
    ReceiptSerializer,
    RemindResultSerializer,
    SendInputSerializer,
)

TAG = "instructions"
NOT_FOUND = {"e404": "No such instruction, or not one you may follow."}


class InstructionPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def _followed(request, pk) -> Instruction:
    try:
        return selectors.instruction_detail(user=request.user, pk=pk)
    except Instruction.DoesNotExist as exc:
        raise Http404 from exc


def _with_report(instruction: Instruction) -> Instruction:
    report = selectors.progress_report(instruction)
    instruction.progress, instruction.branches = report.overall, report.rows
    return instruction


@extend_schema_view(
    get=extend_schema(
        operation_id="instructions_list",
        tags=[TAG],
        summary="Instructions you sent or may follow (sent to an area in your charge), "
        "newest first, with their progress",
        responses={200: InstructionSerializer(many=True)},
    ),
    post=extend_schema(
        operation_id="instructions_send",
        tags=[TAG],
        summary="Send an instruction to everyone holding the roles under an area",
        request=SendInputSerializer,
        responses={
            201: InstructionDetailSerializer,
            **error_responses(
                400,
                403,
                e400="Bad input, or nobody holds these roles there. Nothing was sent.",
                e403="You may not send to this area. Nothing was sent.",
            ),
        },
    ),
)
class InstructionListApi(generics.ListAPIView):
    serializer_class = InstructionSerializer
    pagination_class = InstructionPagination
    filter_backends = []
    parser_classes = [JSONParser, FormParser]

    def get_queryset(self):
        return selectors.sent_list(user=self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        progress = selectors.progress_of(page)
        for instruction in page:
            instruction.progress = progress.get(instruction.pk, selectors.Progress())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        data = parsed(SendInputSerializer, request)
        instruction = services.instruction_send(actor=request.user, **data)
        instruction = selectors.instruction_detail(user=request.user, pk=instruction.pk)
        body = InstructionDetailSerializer(_with_report(instruction)).data
        return Response(body, status=status.HTTP_201_CREATED)


class InstructionDetailApi(APIView):
    @extend_schema(
        operation_id="instructions_retrieve",
        tags=[TAG],
        summary="One instruction with its progress per child area",
        responses={200: InstructionDetailSerializer, **error_responses(404, **NOT_FOUND)},
    )
    def get(self, request, pk: int):
        instruction = _with_report(_followed(request, pk))
        return Response(InstructionDetailSerializer(instruction).data)


class InstructionRemindApi(APIView):
    @extend_schema(
        operation_id="instructions_remind",
        tags=[TAG],
        summary="Remind, by SMS, everyone who has not acknowledged (each at most once an hour)",
        request=None,
        responses={
            200: RemindResultSerializer,
            **error_responses(
                403, 404, 409, e409="Everyone has acknowledged; nobody was reminded.", **NOT_FOUND
            ),
        },
    )
    def post(self, request, pk: int):
        instruction = _followed(request, pk)
        reminded = services.instruction_remind(instruction=instruction, actor=request.user)
        return Response({"reminded": reminded})


@extend_schema_view(
    get=extend_schema(
        operation_id="instructions_received",
        tags=[TAG],
        summary="Instructions sent to you: not yet acknowledged first",
        responses={200: ReceiptSerializer(many=True)},
    )
)
class ReceivedListApi(generics.ListAPIView):
    serializer_class = ReceiptSerializer
    pagination_class = InstructionPagination
    filter_backends = []

    def get_queryset(self):
        return selectors.received_list(user=self.request.user)


class AckApi(APIView):
    @extend_schema(
        operation_id="instructions_ack",
        tags=[TAG],
        summary="已签收: acknowledge an instruction sent to you (again: the first time is kept)",
        request=None,
        responses={
            200: ReceiptSerializer,
            **error_responses(404, e404="No such instruction was sent to you."),
        },
    )
    def post(self, request, pk: int):
        try:
            receipt = selectors.receipt_for(user=request.user, instruction_pk=pk)
        except InstructionRecipient.DoesNotExist as exc:
            raise Http404 from exc
        receipt = services.instruction_ack(
            instruction=receipt.instruction, actor=request.user, receipt=receipt
        )
        return Response(ReceiptSerializer(receipt).data)
