from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("export.xlsx", views.export, name="export"),
]
