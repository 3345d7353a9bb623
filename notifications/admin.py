from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import NotificationPreference, SmsTemplate


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


# What the list shows in place of the placeholders.
SAMPLE = {"number": "JF2026-000123", "code": "ABCDE-FGHJK", "url": "https://…/r/track/ABCDEFGHJK/"}


@admin.register(SmsTemplate)
class SmsTemplateAdmin(SimpleHistoryAdmin):
    """The wording parties get by SMS at each step. Never deleted (a missing event falls
    back to the built-in wording, which would surprise whoever deleted it)."""

    list_display = ["event", "preview", "updated_at"]
    fields = ["event", "text"]

    @admin.display(description=_("as sent (example)"))
    def preview(self, obj):
        return obj.render({**SAMPLE, "status": str(obj.get_event_display())})

    def get_readonly_fields(self, request, obj=None):
        return ["event"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
