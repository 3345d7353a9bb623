from django.urls import path

from . import apis

app_name = "notifications-api"

urlpatterns = [
    path("", apis.NotificationListApi.as_view(), name="notification-list"),
    path("preferences/", apis.PreferencesApi.as_view(), name="preferences"),
    path("mark-read/", apis.NotificationMarkReadApi.as_view(), name="notification-mark-read"),
]
