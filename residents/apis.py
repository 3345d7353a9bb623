"""The residents API (staff only; the public pages have no API): figures for dashboards,
the street's callbacks and the supervisors' reopen requests. Errors have the project's
shape (grid_governance/api_errors.py)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from common.dates import out_of_range
from disputes.models import Case
from grids.models import Area
from grids.selectors import user_scope

from . import callbacks, permissions, selectors, services
from .models import CallbackTask, ReopenRequest, Satisfaction

TAG = "residents"
MAX_PERIOD = timedelta(days=3 * 366)


class FigureAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "code", "name", "level"]


class FiguresQuerySerializer(serializers.Serializer):
    area = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.all(), required=False, allow_null=True,
        help_text="An area you can see; empty: everything (system-wide users only).",
    )  # fmt: skip
    # "from" is a Python keyword: the field is declared under its real name below.
    to = serializers.DateField(required=False, help_text="Last day, included. Default: today.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text="First day, included. Default: the 1st of this month."
        )
        request = self.context.get("request")
        if request is not None:
            # An area outside the caller's scope is "no such area": its existence is not told.
            fields["area"].queryset = Area.objects.visible_to(request.user)
        return fields

    def validate(self, attrs):
        user = self.context["request"].user
        today = timezone.localdate()
        attrs["to"] = attrs.get("to") or today
        attrs["from"] = attrs.get("from") or attrs["to"].replace(day=1)
        refused = out_of_range(attrs["from"], attrs["to"])
        if refused:
            raise serializers.ValidationError({"to": [refused]})
        if attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["“from” must not be after “to”."]})
        if attrs["to"] - attrs["from"] > MAX_PERIOD:
            raise serializers.ValidationError({"from": ["Ask for at most three years."]})
        if attrs.get("area") is None and not user_scope(user).sees_everything:
            raise serializers.ValidationError({"area": ["Choose an area."]})
        return attrs


class FiguresSerializer(serializers.Serializer):
    answered = serializers.IntegerField(help_text="Cases with a rating or callback answer.")
    satisfied = serializers.IntegerField()
    basically_satisfied = serializers.IntegerField()
    unsatisfied = serializers.IntegerField()
    satisfaction_rate = serializers.FloatField(
        allow_null=True, help_text="(satisfied + basically satisfied) / answered; null if none."
    )
    closed = serializers.IntegerField(help_text="Cases closed in the period (still closed).")
    callbacks_drawn = serializers.IntegerField()
    called_back = serializers.IntegerField(help_text="Closed cases whose resident was reached.")
    callback_coverage = serializers.FloatField(allow_null=True, help_text="called_back / closed.")


class ChildFiguresSerializer(serializers.Serializer):
    area = FigureAreaSerializer()
    figures = FiguresSerializer()


class FiguresResponseSerializer(serializers.Serializer):
    area = FigureAreaSerializer(allow_null=True)
    period_from = serializers.DateField()
    period_to = serializers.DateField()
    figures = FiguresSerializer()
    children = ChildFiguresSerializer(many=True)


class FiguresApi(APIView):
    @extend_schema(
        operation_id="residents_figures",
        tags=[TAG],
        summary="Satisfaction rate and callback coverage of an area (and each area below it)",
        parameters=[
            OpenApiParameter("area", int, description="Area id; empty: everything."),
            OpenApiParameter("from", str, description="YYYY-MM-DD, included."),
            OpenApiParameter("to", str, description="YYYY-MM-DD, included."),
        ],
        responses={200: FiguresResponseSerializer},
    )
    def get(self, request):
        query = FiguresQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        area, start, end = params.get("area"), params["from"], params["to"]
        result = selectors.area_figures(area, start, end, children=True)
        return Response(
            {
                "area": FigureAreaSerializer(area).data if area else None,
                "period_from": start.isoformat(),
                "period_to": end.isoformat(),
                "figures": result["total"].as_dict(),
                "children": [
                    {"area": FigureAreaSerializer(kid).data, "figures": figures.as_dict()}
                    for kid, figures in result["children"]
                ],
            }
        )


# --- callbacks -------------------------------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class CallbackTaskSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    cause = serializers.CharField(source="case.cause", read_only=True)
    street = FigureAreaSerializer(read_only=True)
    month = serializers.DateField(source="draw.month", read_only=True)

    class Meta:
        model = CallbackTask
        fields = [
            "id", "case", "case_number", "cause", "street", "month", "reason", "closed_at",
            "status", "attempts", "reached", "settled", "satisfaction", "notes", "reopened",
            "done_at",
        ]  # fmt: skip


class CallbackRecordSerializer(serializers.Serializer):
    reached = serializers.BooleanField()
    settled = serializers.BooleanField(required=False, allow_null=True, default=None)
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default=""
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CallbackListApi(generics.ListAPIView):
    serializer_class = CallbackTaskSerializer
    pagination_class = Pagination

    @extend_schema(
        operation_id="residents_callbacks_list",
        tags=[TAG],
        summary="Callbacks of the streets you call for, open ones first",
        parameters=[OpenApiParameter("status", str, enum=CallbackTask.Status.values)],
    )
    def get(self, request, *args, **kwargs):
        if permissions.callback_paths(request.user) == ():
            raise PermissionDenied
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status")
        return selectors.callback_tasks(
            user=self.request.user, status=status if status in CallbackTask.Status.values else None
        )


class CallbackRecordApi(APIView):
    @extend_schema(
        operation_id="residents_callbacks_record",
        tags=[TAG],
        summary="Record a callback; “not settled” reopens the case",
        request=CallbackRecordSerializer,
        responses={200: CallbackTaskSerializer},
    )
    def post(self, request, pk: int):
        task = selectors.callback_tasks(user=request.user).filter(pk=pk).first()
        if task is None:
            raise NotFound
        data = CallbackRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = callbacks.callback_record(task=task, actor=request.user, **data.validated_data)
        task = selectors.callback_tasks(user=request.user).get(pk=task.pk)
        return Response(CallbackTaskSerializer(task).data)


# --- reopen requests -------------------------------------------------------------------------


class ReopenRequestSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    satisfaction = serializers.CharField(source="rating.satisfaction", default=None)

    class Meta:
        model = ReopenRequest
        fields = [
            "id", "case", "case_number", "reason", "satisfaction", "status", "decision_note",
            "created_at", "decided_at",
        ]  # fmt: skip


class DecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ReopenRequestListApi(generics.ListAPIView):
    serializer_class = ReopenRequestSerializer
    pagination_class = Pagination

    @extend_schema(
        operation_id="residents_reopen_requests_list",
        tags=[TAG],
        summary="Reopen requests on cases you can see",
        parameters=[OpenApiParameter("status", str, enum=ReopenRequest.Status.values)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        status = self.request.query_params.get("status")
        return selectors.reopen_requests(
            user=self.request.user,
            status=status if status in ReopenRequest.Status.values else None,
        )


class ReopenDecideApi(APIView):
    @extend_schema(
        operation_id="residents_reopen_requests_decide",
        tags=[TAG],
        summary="Approve (the case is reopened) or refuse (with a note) a reopen request",
        request=DecisionSerializer,
        responses={200: ReopenRequestSerializer},
    )
    def post(self, request, pk: int):
        visible = Case.objects.visible_to(request.user).values("pk")
        reopen = ReopenRequest.objects.filter(pk=pk, case_id__in=visible).first()
        if reopen is None:
            raise NotFound
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reopen = services.reopen_decide(request=reopen, actor=request.user, **data.validated_data)
        reopen = selectors.reopen_requests(user=request.user, status=None).get(pk=reopen.pk)
        return Response(ReopenRequestSerializer(reopen).data)
