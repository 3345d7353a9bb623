from django.urls import path

from . import apis

app_name = "mediation-api"

urlpatterns = [
    path("cases/<int:case_id>/", apis.CaseMediationApi.as_view(), name="case"),
]
