"""The dashboard's figures over the API: /api/v1/stats/{summary,by-area,by-category,
by-channel,trend,hotspots}/?area=&from=&to=. Same scope, same definitions and the same
selectors as the pages (disputes.stats), so the two can never disagree. 403 for users
without a dashboard, 400 (with `errors`) for an area outside their scope or a bad period."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import ErrorSerializer
from grids.models import Area
from referrals.selectors import linkage_figures
from sla.clock import GREEN, ORANGE, RED

from . import periods, stats

TAG = "stats"
PARAMETERS = [
    OpenApiParameter(
        "area", OpenApiTypes.INT, description="An area you have a dashboard for (default: yours)."
    ),
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day of the period (default: the 1st)."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
]


class StatsQuerySerializer(serializers.Serializer):
    area = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.none(), required=False, allow_null=True
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["area"].queryset = periods.dashboard_areas(self.context["request"].user)
        # "from" is a Python keyword, so these two are added by name.
        fields["from"] = serializers.DateField(required=False)
        fields["to"] = serializers.DateField(required=False)
        return fields

    def validate(self, attrs):
        try:
            attrs["period"] = periods.period_for(attrs.get("from"), attrs.get("to"))
        except ValueError as exc:
            raise serializers.ValidationError({"from": [str(exc)]}) from exc
        return attrs


# --- response shapes (for the schema; the data are plain dicts) ---------------------------------


class AreaBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()


class PeriodSerializer(serializers.Serializer):
    def get_fields(self):
        return {"from": serializers.DateField(), "to": serializers.DateField()}


class OnTimeSerializer(serializers.Serializer):
    in_time = serializers.IntegerField()
    due = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class RatesSerializer(serializers.Serializer):
    resolution = serializers.FloatField(allow_null=True)
    closing = serializers.FloatField(allow_null=True)
    assign_on_time = serializers.FloatField(allow_null=True)
    first_handling_on_time = serializers.FloatField(allow_null=True)
    closing_on_time = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(
        allow_null=True,
        help_text="Residents' answers in the period (ratings and callbacks), each case once by "
        "its latest answer: satisfied or basically satisfied ÷ answers; null when nobody "
        "answered. Follows when residents answered, not when the case was filed.",
    )


class OpenNowSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    green = serializers.IntegerField()
    orange = serializers.IntegerField()
    red = serializers.IntegerField()
    not_assigned = serializers.IntegerField()
    not_handled = serializers.IntegerField()
    past_close = serializers.IntegerField()
    due_soon = serializers.IntegerField(
        help_text="Open cases with a deadline in its warning window (即将超时): its policy's "
        "warning time has passed, the deadline not yet."
    )
    due_within_24h = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    awaiting_check = serializers.IntegerField(
        help_text="Resolved, waiting for the check (核查) before they count as resolved."
    )


class SummarySerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    filed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    counted = serializers.IntegerField()
    resolved = serializers.IntegerField()
    concluded = serializers.IntegerField()
    group_disputes = serializers.IntegerField()
    rates = RatesSerializer()
    on_time = serializers.DictField(child=OnTimeSerializer())
    open = OpenNowSerializer()


class AreaRowSerializer(serializers.Serializer):
    area = AreaBriefSerializer()
    is_self = serializers.BooleanField(help_text="Cases filed on the area itself.")
    filed = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    counted = serializers.IntegerField()
    resolved = serializers.IntegerField()
    concluded = serializers.IntegerField()
    resolution_rate = serializers.FloatField(allow_null=True)
    closing_rate = serializers.FloatField(allow_null=True)
    open = serializers.IntegerField()
    green = serializers.IntegerField()
    orange = serializers.IntegerField()
    red = serializers.IntegerField()
    unassigned = serializers.IntegerField()


class ByAreaSerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    children = AreaRowSerializer(many=True)


class CategoryRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="category_id")
    name = serializers.CharField()
    filed = serializers.IntegerField()
    resolved = serializers.IntegerField()


class ByCategorySerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    categories = CategoryRowSerializer(many=True)


class ChannelRowSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="The channel's code (grid_worker, hotline, …).")
    label = serializers.CharField(help_text="Its name in the request's language.")
    filed = serializers.IntegerField()


class ByChannelSerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    channels = ChannelRowSerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    filed = serializers.IntegerField()
    resolved = serializers.IntegerField()


class TrendSerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    granularity = serializers.ChoiceField(choices=["day", "month"])
    points = TrendPointSerializer(many=True)


class HotAddressSerializer(serializers.Serializer):
    address = serializers.CharField()
    cases = serializers.IntegerField()
    open = serializers.IntegerField()


class HotMicroGridSerializer(serializers.Serializer):
    area_id = serializers.IntegerField()
    name = serializers.CharField()
    cases = serializers.IntegerField()
    open = serializers.IntegerField()


class GroupDisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField()
    cause = serializers.CharField()
    people_involved = serializers.IntegerField()
    status = serializers.CharField()
    is_open = serializers.BooleanField()
    area_id = serializers.IntegerField()
    area_name = serializers.CharField()


class HotspotsSerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    min_cases = serializers.IntegerField()
    min_people = serializers.IntegerField()
    addresses = HotAddressSerializer(many=True)
    micro_grids = HotMicroGridSerializer(many=True)
    group_disputes = GroupDisputeSerializer(many=True)


# --- views ------------------------------------------------------------------------------------


class StatsApi(APIView):
    """Every endpoint checks the user has a dashboard (403), parses ?area=&from=&to= (400 on
    bad input), and answers the area and period followed by its own `figures`."""

    serializer_class: type[serializers.Serializer]

    def get(self, request):
        periods.dashboard_roots(request.user)  # PermissionDenied → 403
        query = StatsQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        area = query.validated_data.get("area") or periods.default_area(request.user)
        period = query.validated_data["period"]
        brief = {"id": area.pk, "name": area.name, "level": area.level} if area else None
        head = {"area": brief, "period": {"from": period.start, "to": period.end}}
        return Response(self.serializer_class({**head, **self.figures(area, period)}).data)

    def figures(self, area, period) -> dict:
        raise NotImplementedError


DESCRIPTION = (
    "Figures for an area you have a dashboard for (community, street and district centre "
    "staff), over the cases that happened in it. Period figures count the cases filed "
    "between `from` and `to`; open-case figures (colours, reasons, the queue) are as of now. "
    "The definitions of every rate are on the dashboard page and in `disputes/stats.py`."
)
ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="`area` outside your dashboards, or bad dates."
    ),
    403: OpenApiResponse(ErrorSerializer, description="You have no dashboard."),
}


def _schema(operation_id: str, summary: str, response):
    """The class decorator documenting an endpoint's GET."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            tags=[TAG],
            summary=summary,
            description=DESCRIPTION,
            parameters=PARAMETERS,
            responses={200: response, **ERRORS},
        )
    )


@_schema(
    "stats_summary", "Headline figures: rates for the period, open cases now", SummarySerializer
)
class StatsSummaryApi(StatsApi):
    serializer_class = SummarySerializer

    def figures(self, area, period) -> dict:
        s = stats.summary(area=area, period=period, now=timezone.now())
        steps = ("assign", "first_handling", "closing")
        counts = ("filed", "withdrawn", "counted", "resolved", "concluded", "group_disputes")
        return {
            **{key: s[key] for key in counts},
            "rates": {
                "resolution": s["resolution_rate"],
                "closing": s["closing_rate"],
                **{f"{step}_on_time": s[f"{step}_on_time_rate"] for step in steps},
                "satisfaction": stats.satisfaction_rate(area=area, period=period),
            },
            "on_time": {
                step: {
                    "in_time": s[f"{step}_in_time"],
                    "due": s[f"{step}_due"],
                    "rate": s[f"{step}_on_time_rate"],
                }
                for step in steps
            },
            "open": {
                "total": s["open"],
                GREEN: s[GREEN],
                ORANGE: s[ORANGE],
                RED: s[RED],
                "not_assigned": s["not_assigned"],
                "not_handled": s["not_handled"],
                "past_close": s["past_close"],
                "due_soon": s["due_soon"],
                "due_within_24h": s["due_24h"],
                "unassigned": s["unassigned"],
                "awaiting_check": s["awaiting_check"],
            },
        }


@_schema(
    "stats_by_area", "The figures of each child area (drill down with ?area=)", ByAreaSerializer
)
class StatsByAreaApi(StatsApi):
    serializer_class = ByAreaSerializer

    def figures(self, area, period) -> dict:
        rows = stats.by_area(area=area, period=period, now=timezone.now())
        return {
            "children": [
                {
                    **row,
                    "area": {
                        "id": row["area"].pk,
                        "name": row["area"].name,
                        "level": row["area"].level,
                    },
                }
                for row in rows
            ]
        }


@_schema(
    "stats_by_category", "The period's cases by first-level dispute type", ByCategorySerializer
)
class StatsByCategoryApi(StatsApi):
    serializer_class = ByCategorySerializer

    def figures(self, area, period) -> dict:
        return {"categories": stats.by_category(area=area, period=period)}


@_schema(
    "stats_by_channel", "The period's cases by the channel they came in by", ByChannelSerializer
)
class StatsByChannelApi(StatsApi):
    serializer_class = ByChannelSerializer

    def figures(self, area, period) -> dict:
        return {"channels": stats.by_channel(area=area, period=period)}


@_schema(
    "stats_trend", "Cases filed and resolved per day (per month beyond 92 days)", TrendSerializer
)
class StatsTrendApi(StatsApi):
    serializer_class = TrendSerializer

    def figures(self, area, period) -> dict:
        return stats.trend(area=area, period=period)


@_schema(
    "stats_hotspots",
    "Early warning: hot addresses, hot micro-grids, group disputes",
    HotspotsSerializer,
)
class StatsHotspotsApi(StatsApi):
    serializer_class = HotspotsSerializer

    def figures(self, area, period) -> dict:
        return {
            "min_cases": periods.HOTSPOT_MIN_CASES,
            "min_people": periods.GROUP_DISPUTE_MIN_PEOPLE,
            **stats.hotspots(area=area, period=period),
        }


class LinkageCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    finished = serializers.IntegerField()


class LinkageEntrustedFields(serializers.Serializer):
    entrusted = serializers.IntegerField(help_text="Court-entrusted mediations (委派/委托调解).")
    entrusted_pending = serializers.IntegerField(help_text="Still within their limit.")
    entrusted_on_time = serializers.IntegerField(help_text="Finished within the limit.")
    entrusted_late = serializers.IntegerField(help_text="Finished late, or past the limit.")


def _with_directions(name: str, base, **fields):
    """A serializer with fields named "in" and "out" (a Python keyword cannot be declared
    as a class attribute; the metaclass collects them from the namespace all the same)."""
    directions = {"in": LinkageCountsSerializer(), "out": LinkageCountsSerializer()}
    return type(name, (base,), {**fields, **directions, "__module__": __name__})


LinkageKindSerializer = _with_directions(
    "LinkageKindSerializer",
    LinkageEntrustedFields,
    kind=serializers.CharField(),
    label=serializers.CharField(),
    total=serializers.IntegerField(),
)
LinkageTotalsSerializer = _with_directions(
    "LinkageTotalsSerializer", LinkageEntrustedFields, total=serializers.IntegerField()
)


class LinkageSerializer(serializers.Serializer):
    area = AreaBriefSerializer(allow_null=True)
    period = PeriodSerializer()
    kinds = LinkageKindSerializer(many=True)
    totals = LinkageTotalsSerializer()


@_schema(
    "stats_linkage",
    "Linkage referrals (联动) started in the period, by kind and direction",
    LinkageSerializer,
)
class StatsLinkageApi(StatsApi):
    serializer_class = LinkageSerializer

    def figures(self, area, period) -> dict:
        return linkage_figures(area, period.start, period.end)
