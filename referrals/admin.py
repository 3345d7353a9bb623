from django.contrib import admin

from .models import Referral


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    """Read-only: referrals change through their services, which write the timeline."""

    list_display = ("case", "kind", "direction", "partner", "status", "started_at", "due_at")
    list_filter = ("kind", "direction", "status", "entrustment")
    search_fields = ("case__number", "partner", "partner_case_number")
    raw_id_fields = ("case", "created_by", "result_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
