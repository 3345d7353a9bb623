from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import NotificationPreference


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(SimpleHistoryAdmin):
    """Read only: each user sets their own on the settings page (the history shows who
    changed what, when)."""

    list_display = ["user", "group", "sms", "email", "updated_at"]
    list_filter = ["group", "sms", "email"]
    list_select_related = ["user"]
    search_fields = ["=user__username", "user__real_name"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
