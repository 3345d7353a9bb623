from django.urls import path

from . import apis, department_pages, supervision_pages

app_name = "disputes-api"

urlpatterns = [
    path("cases/", apis.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", apis.CaseDetailApi.as_view(), name="case-detail"),
    path(
        "cases/<int:pk>/mediator-candidates/",
        apis.MediatorCandidatesApi.as_view(),
        name="case-mediator-candidates",
    ),
    *(
        path(f"cases/<int:pk>/{name}/", view.as_view(), name=f"case-{name}")
        for name, view in apis.ACTION_ENDPOINTS.items()
    ),
    path("categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path(
        "supervision-cards/",
        supervision_pages.CardListApi.as_view(),
        name="supervision-card-list",
    ),
    path(
        "department-tasks/",
        department_pages.DepartmentQueueApi.as_view(),
        name="department-task-list",
    ),
]
