from django.urls import path

from . import apis

app_name = "reception-days-api"

urlpatterns = [
    path("sessions/", apis.SessionListApi.as_view(), name="session-list"),
    path("report-card/", apis.ReportCardApi.as_view(), name="report-card"),
]
