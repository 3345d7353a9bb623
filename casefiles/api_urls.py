from django.urls import path

from . import apis

app_name = "casefiles-api"

urlpatterns = [
    path("", apis.ArchiveListApi.as_view(), name="list"),
    path("<int:pk>/", apis.ArchiveDetailApi.as_view(), name="detail"),
    path("<int:pk>/download/", apis.ArchiveDownloadApi.as_view(), name="download"),
]
