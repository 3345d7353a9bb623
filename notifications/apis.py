"""The inbox over the API: list your messages, mark them read."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import error_responses, parsed

from . import selectors
from .serializers import MarkReadInputSerializer, MarkReadResultSerializer, NotificationSerializer
from .services import mark_read, unread_count


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
