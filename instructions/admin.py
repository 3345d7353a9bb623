"""Instructions in the admin, read-only: who sent what to whom, when each recipient read and
acknowledged it, the reminders. Written only by the services."""

from django.contrib import admin

from common.admin import ReadOnlyAdmin

from .models import Instruction, InstructionEvent, InstructionRecipient


class InstructionEventInline(admin.TabularInline):
    model = InstructionEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "people"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Instruction)
class InstructionAdmin(ReadOnlyAdmin):
    list_display = ["title", "sender", "area", "recipient_count", "ack_due_at", "created_at"]
    search_fields = ["title", "=sender__username", "sender__real_name"]
    list_select_related = ["sender", "area"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [InstructionEventInline]


@admin.register(InstructionRecipient)
class InstructionRecipientAdmin(ReadOnlyAdmin):
    """Hundreds of thousands of rows per city-wide instruction: filter by instruction id."""

    list_display = ["instruction", "user", "area", "role", "status", "read_at", "acked_at",
                    "reminded_at", "reminders"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["=instruction__id", "=user__username", "user__real_name"]
    list_select_related = ["instruction", "user", "area"]
    raw_id_fields = ["instruction", "user", "area", "branch"]
    show_full_result_count = False
