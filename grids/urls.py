from django.urls import path

from . import views

app_name = "grids"

urlpatterns = [
    path("", views.responsibility_page, name="responsibility"),
]
