"""The department queue (部门待办) for liaisons: the page and the API. Thin: the selector
scopes the tasks to the user's departments; anyone else gets 403."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers

from common.api import error_responses
from grids.selectors import user_scope

from . import permissions, selectors
from .apis import CasePagination
from .department_models import DepartmentTask
from .serializers import DepartmentTaskSerializer

PAGE_SIZE = 20


class DepartmentQueueSerializer(DepartmentTaskSerializer):
    """A row of a department's queue: the task with the case it belongs to."""

    case = serializers.SerializerMethodField()
    sign_colour = serializers.CharField(read_only=True)

    class Meta(DepartmentTaskSerializer.Meta):
        fields = [*DepartmentTaskSerializer.Meta.fields, "case", "sign_colour"]

    def get_case(self, task) -> dict:
        case = task.case
        return {"id": case.pk, "number": case.number, "cause": case.cause, "status": case.status}


def _require_liaison(user):
    if not (permissions.liaison_departments(user) or user_scope(user).sees_everything):
        raise PermissionDenied(_("Only a department's liaison has a department queue."))


@login_required
def department_queue(request):
    _require_liaison(request.user)
    show_all = request.GET.get("show") == "all"
    tasks = selectors.department_queue(user=request.user, live_only=not show_all)
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "show_all": show_all, "query": "show=all" if show_all else ""}
    return render(request, "disputes/department_queue.html", context)


@extend_schema_view(
    get=extend_schema(
        operation_id="department_tasks_list",
        tags=["cases"],
        summary="My department's tasks (liaisons): live ones, the nearest sign-for deadline first",
        parameters=[OpenApiParameter("show", str, enum=["all"], description="include finished")],
        responses={200: DepartmentQueueSerializer(many=True), **error_responses(403)},
    )
)
class DepartmentQueueApi(generics.ListAPIView):
    serializer_class = DepartmentQueueSerializer
    pagination_class = CasePagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator, no user
            return DepartmentTask.objects.none()
        _require_liaison(self.request.user)
        live_only = self.request.query_params.get("show") != "all"
        return selectors.department_queue(user=self.request.user, live_only=live_only)
