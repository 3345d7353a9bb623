from django.urls import path

from . import views

app_name = "casefiles"

urlpatterns = [
    path("case/<int:case_pk>/", views.case_files, name="case"),
    path("case/<int:case_pk>/progress/", views.progress, name="progress"),
    path("case/<int:case_pk>/archive/", views.archive_again, name="archive"),
    path("<int:pk>/download/", views.download, name="download"),
]
