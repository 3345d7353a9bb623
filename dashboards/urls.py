from django.urls import path

from . import export, views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("screen/", views.screen, name="screen"),
    path("counts/", views.counts, name="counts"),
    path("queue/", views.queue, name="queue"),
    path("export.csv", export.export_csv, name="export"),
    path("queue/<int:pk>/", views.queue_panel, name="queue_panel"),
    path("queue/<int:pk>/<slug:action>/", views.queue_action, name="queue_action"),
]
