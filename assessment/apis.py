"""The ranking over the API: GET /api/v1/assessment/?month=&version=&area=&kind= gives the
same rows, figures and definitions as the page (selectors.ranking, present.row_view);
GET /api/v1/assessment/months/ lists the versions the caller may open. 403 for users
without a ranking, 400 (with `errors`) for a month, area, units or version they cannot ask
for."""

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses

from . import metrics, selectors
from .forms import where_for
from .models import UnitKind
from .present import row_view

TAG = "assessment"
PARAMETERS = [
    OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: the newest)."),
    OpenApiParameter(
        "version",
        OpenApiTypes.INT,
        description="A version of the month (default: the newest "
        "published; district staff see a newer draft).",
    ),
    OpenApiParameter(
        "area",
        OpenApiTypes.INT,
        description="The district, street or community drilled into (default: yours).",
    ),
    OpenApiParameter(
        "kind",
        OpenApiTypes.STR,
        enum=UnitKind.values,
        description="Which units are listed (default: the next level down).",
    ),
    OpenApiParameter("page", OpenApiTypes.INT, description="Page of the rows (default: 1)."),
]


class FigureSerializer(serializers.Serializer):
    code = serializers.CharField()
    part = serializers.IntegerField(help_text="Done in time / resolved / satisfied …")
    whole = serializers.IntegerField(allow_null=True, help_text="Due; null for a count.")
    rate = serializers.FloatField(allow_null=True, help_text="part ÷ whole, 4 places.")
    text = serializers.CharField()


class RowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    unit_id = serializers.IntegerField()
    name = serializers.CharField()
    place = serializers.CharField()
    district_id = serializers.IntegerField(allow_null=True)
    street_id = serializers.IntegerField(allow_null=True)
    community_id = serializers.IntegerField(allow_null=True)
    volume = serializers.IntegerField()
    band = serializers.CharField()
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    ranked_among = serializers.IntegerField(allow_null=True)
    figures = FigureSerializer(many=True, source="cells")
    trend = serializers.ListField(
        child=serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True),
        allow_null=True,
        help_text="Scores of the months in `trend_months`, oldest first.",
    )


class SnapshotSerializer(serializers.Serializer):
    month = serializers.DateField()
    version = serializers.IntegerField()
    published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    data_as_of = serializers.DateTimeField()
    scheme_name = serializers.CharField()
    weights = serializers.DictField(child=serializers.CharField())


class DefinitionSerializer(serializers.Serializer):
    term = serializers.CharField()
    definition = serializers.CharField()


class RankingSerializer(serializers.Serializer):
    snapshot = SnapshotSerializer(allow_null=True)
    kind = serializers.CharField()
    area = serializers.DictField(allow_null=True)
    parent = RowSerializer(allow_null=True)
    rows = RowSerializer(many=True)
    count = serializers.IntegerField(help_text="Rows on every page together.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField(help_text=f"{selectors.PAGE_SIZE} rows a page.")
    trend_months = serializers.ListField(child=serializers.CharField())
    definitions = DefinitionSerializer(many=True)


class RankingApi(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="assessment_ranking",
        summary="Monthly assessment: one level of the ranking",
        parameters=PARAMETERS,
        responses={200: RankingSerializer, **error_responses(400, 403)},
    )
    def get(self, request):
        where, form = where_for(request.user, request.query_params)
        if form.errors:
            raise ValidationError(
                {field: list(messages) for field, messages in form.errors.items()}
            )
        body = {
            "snapshot": where.snapshot,
            "kind": where.kind,
            "area": _area(where.container),
            "parent": None,
            "rows": [],
            "trend_months": [],
            "count": 0,
            "page": 1,
            "pages": 1,
            "definitions": [{"term": t, "definition": d} for t, d in metrics.definitions()],
        }
        if where.snapshot is not None:
            ranking = selectors.ranking(
                snapshot=where.snapshot,
                kind=where.kind,
                container=where.container,
                snapshots=where.snapshots,
                page=where.page,
            )
            body.update(count=ranking.total, page=ranking.page, pages=ranking.pages)
            body["rows"] = [row_view(r, ranking.metrics) for r in ranking.rows]
            if ranking.parent is not None:
                body["parent"] = row_view(ranking.parent, metrics.for_kind(ranking.parent.kind))
            body["trend_months"] = [f"{m:%Y-%m}" for m in ranking.trend_months]
        return Response(RankingSerializer(body).data)


def _area(area):
    if area is None:
        return None
    return {"id": area.pk, "name": area.name, "level": area.level}


class MonthsApi(APIView):
    @extend_schema(
        tags=[TAG],
        operation_id="assessment_months",
        summary="Monthly assessment: the versions you may open, newest first",
        responses={200: SnapshotSerializer(many=True), **error_responses(403)},
    )
    def get(self, request):
        selectors.roots(request.user)
        snapshots = selectors.visible_snapshots(request.user)
        return Response(SnapshotSerializer(snapshots, many=True).data)
