from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from . import api_stats, apis

app_name = "disputes-api"

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token"),
    path("cases/", apis.CaseListCreateApi.as_view(), name="case-list"),
    path("cases/<int:pk>/", apis.CaseDetailApi.as_view(), name="case-detail"),
    path(
        "cases/<int:pk>/mediator-candidates/",
        apis.MediatorCandidatesApi.as_view(),
        name="case-mediator-candidates",
    ),
    *(
        path(f"cases/<int:pk>/{name}/", view.as_view(), name=f"case-{name}")
        for name, view in apis.ACTIONS.items()
    ),
    *(
        path(f"cases/<int:pk>/{name}/", view.as_view(), name=f"case-{name}")
        for name, view in apis.SLA_ACTIONS.items()
    ),
    path(
        "cases/<int:pk>/extensions/<int:extension_id>/decide/",
        apis.ExtensionDecideApi.as_view(),
        name="case-extension-decide",
    ),
    path("notifications/", apis.NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/mark-read/",
        apis.NotificationMarkReadApi.as_view(),
        name="notification-mark-read",
    ),
    path("categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path("stats/summary/", api_stats.StatsSummaryApi.as_view(), name="stats-summary"),
    path("stats/by-area/", api_stats.StatsByAreaApi.as_view(), name="stats-by-area"),
    path("stats/by-category/", api_stats.StatsByCategoryApi.as_view(), name="stats-by-category"),
    path("stats/by-channel/", api_stats.StatsByChannelApi.as_view(), name="stats-by-channel"),
    path("stats/trend/", api_stats.StatsTrendApi.as_view(), name="stats-trend"),
    path("stats/hotspots/", api_stats.StatsHotspotsApi.as_view(), name="stats-hotspots"),
]
