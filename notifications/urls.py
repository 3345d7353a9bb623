from django.urls import path

from . import views as views_inbox

app_name = "inbox"

urlpatterns = [
    path("", views_inbox.notification_list, name="list"),
    path("<int:pk>/read/", views_inbox.notification_read, name="read"),
    path("badge/", views_inbox.unread_badge, name="badge"),
    path("recent/", views_inbox.recent, name="recent"),
    path("read-all/", views_inbox.notification_read_all, name="read_all"),
    path("settings/", views_inbox.notification_settings, name="settings"),
]
