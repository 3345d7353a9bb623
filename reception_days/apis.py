"""The reception-day API (DRF): the sessions in your scope and the report card. Errors have
the project's one shape (grid_governance/api_errors.py): bad input 400 with field errors,
an area or session outside your scope 404."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ErrorSerializer
from disputes.serializers import AreaRefSerializer

from . import selectors
from .filters import SessionFilter
from .forms import ReportCardForm
from .models import ReceptionSession

TAG = "reception-days"


class SessionSerializer(serializers.ModelSerializer):
    community = AreaRefSerializer()
    unit = serializers.CharField(source="unit.name", default="", read_only=True)
    title = serializers.CharField(read_only=True)
    visit_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReceptionSession
        fields = [
            "id",
            "community",
            "unit",
            "kind",
            "title",
            "theme",
            "venue",
            "date",
            "starts_at",
            "ends_at",
            "original_date",
            "move_reason",
            "status",
            "cancel_reason",
            "visit_count",
        ]


class SessionPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    get=extend_schema(
        operation_id="reception_sessions_list",
        tags=[TAG],
        summary="Reception-day sessions in your scope, newest first",
        responses={200: SessionSerializer(many=True), 400: ErrorSerializer},
    )
)
class SessionListApi(generics.ListAPIView):
    serializer_class = SessionSerializer
    filterset_class = SessionFilter
    pagination_class = SessionPagination

    def get_queryset(self):
        return selectors.session_list(user=self.request.user)


class CardRowSerializer(serializers.Serializer):
    area = AreaRefSerializer(allow_null=True)
    sessions_held = serializers.IntegerField()
    attendances = serializers.IntegerField(
        help_text="Officer-visits: attendances at held sessions."
    )
    residents_received = serializers.IntegerField()
    issues_raised = serializers.IntegerField()
    disputes_screened = serializers.IntegerField()
    converted = serializers.IntegerField(help_text="Visits converted into dispute cases.")
    resolved = serializers.IntegerField(
        help_text="Converted cases now resolved or closed substantively."
    )
    closed = serializers.IntegerField(help_text="Converted cases now closed.")
    resolution_rate = serializers.FloatField(
        allow_null=True, help_text="resolved / converted, in percent; null when none converted."
    )
    closing_rate = serializers.FloatField(
        allow_null=True, help_text="closed / converted, in percent; null when none converted."
    )


# "from" is a Python keyword, so the period's fields are declared through type().
PeriodSerializer = type(
    "ReportPeriodSerializer",
    (serializers.Serializer,),
    {
        "from": serializers.DateField(source="date_from"),
        "to": serializers.DateField(source="date_to"),
    },
)


class ReportCardSerializer(serializers.Serializer):
    area = AreaRefSerializer()
    period = PeriodSerializer(source="*")
    total = CardRowSerializer()
    rows = CardRowSerializer(many=True, help_text="One row per street or community below.")


class ReportCardApi(APIView):
    @extend_schema(
        operation_id="reception_report_card",
        tags=[TAG],
        summary="Reception-day report card of an area and period",
        parameters=[
            OpenApiParameter(
                "area",
                OpenApiTypes.INT,
                description="District, street or "
                "community id; default: the highest area you work at.",
            ),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First day (session date); default: the first of this month.",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="Last day; default: the end of this month."
            ),
        ],
        responses={
            200: ReportCardSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Bad area id or dates."),
            404: OpenApiResponse(ErrorSerializer, description="Area outside your scope."),
        },
    )
    def get(self, request):
        params = request.query_params
        data = {
            "area": params.get("area"),
            "date_from": params.get("from"),
            "date_to": params.get("to"),
        }
        form = ReportCardForm({k: v for k, v in data.items() if v not in (None, "")})
        if not form.is_valid():
            names = {"date_from": "from", "date_to": "to"}
            raise exceptions.ValidationError(
                {names.get(field, field): list(errors) for field, errors in form.errors.items()}
            )
        area_id = form.cleaned_data.get("area")
        if area_id is None:
            area = selectors.default_report_area(request.user)
        else:
            area = selectors.report_areas(user=request.user).filter(pk=area_id).first()
        if area is None:
            raise Http404
        card = selectors.report_card(
            area=area,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
        return Response(ReportCardSerializer(card).data)
