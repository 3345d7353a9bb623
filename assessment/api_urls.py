from django.urls import path

from . import apis

app_name = "assessment-api"

urlpatterns = [
    path("", apis.RankingApi.as_view(), name="ranking"),
    path("months/", apis.MonthsApi.as_view(), name="months"),
]
