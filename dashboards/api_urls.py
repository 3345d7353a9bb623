from django.urls import path

from . import apis as api_stats

app_name = "dashboards-api"

urlpatterns = [
    path("summary/", api_stats.StatsSummaryApi.as_view(), name="stats-summary"),
    path("by-area/", api_stats.StatsByAreaApi.as_view(), name="stats-by-area"),
    path("by-category/", api_stats.StatsByCategoryApi.as_view(), name="stats-by-category"),
    path("by-channel/", api_stats.StatsByChannelApi.as_view(), name="stats-by-channel"),
    path("trend/", api_stats.StatsTrendApi.as_view(), name="stats-trend"),
    path("linkage/", api_stats.StatsLinkageApi.as_view(), name="stats-linkage"),
    path("hotspots/", api_stats.StatsHotspotsApi.as_view(), name="stats-hotspots"),
]
