from django.urls import path

from . import views

app_name = "instructions"

urlpatterns = [
    path("", views.sent_list, name="list"),
    path("new/", views.send, name="send"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("received/", views.received, name="received"),
    path("received/<int:pk>/", views.view, name="view"),
    path("received/<int:pk>/ack/", views.ack, name="ack"),
]
