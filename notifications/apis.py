"""The inbox over the API: list your messages, mark them read."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses, parsed

from . import selectors
from .serializers import (
    MarkReadInputSerializer,
    MarkReadResultSerializer,
    NotificationSerializer,
    PreferencesSerializer,
)
from .services import mark_read, preferences_save, unread_count


class NotificationPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema_view(
    get=extend_schema(
        operation_id="notifications_list",
        tags=["notifications"],
        summary="Your messages, newest first (`unread=true` for the unread ones only)",
        responses={200: NotificationSerializer(many=True)},
    )
)
class NotificationListApi(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination
    filter_backends = []

    def get_queryset(self):
        unread_only = self.request.query_params.get("unread") in ("1", "true")
        return selectors.notification_list(user=self.request.user, unread_only=unread_only)


class NotificationMarkReadApi(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="notifications_mark_read",
        tags=["notifications"],
        summary="Mark some (`ids`) or all (`all: true`) of your messages as read",
        request=MarkReadInputSerializer,
        responses={200: MarkReadResultSerializer, **error_responses(400)},
    )
    def post(self, request):
        data = parsed(MarkReadInputSerializer, request)
        marked = mark_read(user=request.user, ids=None if data["all"] else data["ids"])
        return Response({"marked": marked, "unread": unread_count(request.user)})


class PreferencesApi(APIView):
    """Your own notification settings: there is no way to name another user here."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="notifications_preferences",
        tags=["notifications"],
        summary="Which groups of notices also come to you by SMS and by email",
        responses={200: PreferencesSerializer},
    )
    def get(self, request):
        return Response({"groups": selectors.preferences_of(request.user)})

    @extend_schema(
        operation_id="notifications_preferences_update",
        tags=["notifications"],
        summary="Change your SMS / email choice per group (groups not named stay as they are)",
        request=PreferencesSerializer,
        responses={200: PreferencesSerializer, **error_responses(400, 403)},
    )
    def put(self, request):
        data = parsed(PreferencesSerializer, request)
        channels = ("sms", "email")
        choices = {r["group"]: {c: r[c] for c in channels if c in r} for r in data["groups"]}
        rows = preferences_save(user=request.user, actor=request.user, choices=choices)
        return Response({"groups": rows})
