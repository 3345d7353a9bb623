"""Admin: the callback policy is edited here; everything else is evidence, read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin

from .models import (
    CallbackDraw,
    CallbackPolicy,
    CallbackTask,
    PublicUpdate,
    Rating,
    ReopenRequest,
    ResidentReport,
)


@admin.register(CallbackPolicy)
class CallbackPolicyAdmin(admin.ModelAdmin):
    list_display = ["street", "share", "updated_at"]
    autocomplete_fields = ["street"]
    search_fields = ["street__name", "street__code"]


@admin.register(ResidentReport)
class ResidentReportAdmin(ReadOnlyAdmin):
    list_display = ["tracking_code", "case", "topic", "name", "created_at"]
    list_filter = ["topic"]
    search_fields = ["tracking_code", "case__number", "name", "phone"]
    list_select_related = ["case"]
    date_hierarchy = "created_at"


@admin.register(PublicUpdate)
class PublicUpdateAdmin(ReadOnlyAdmin):
    list_display = ["case", "text", "published_by", "created_at", "withdrawn_at"]
    list_select_related = ["case", "published_by"]
    search_fields = ["case__number"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    list_display = ["case", "satisfaction", "comment", "created_at"]
    list_filter = ["satisfaction"]
    list_select_related = ["case"]
    search_fields = ["case__number"]
    date_hierarchy = "created_at"


@admin.register(ReopenRequest)
class ReopenRequestAdmin(ReadOnlyAdmin):
    list_display = ["case", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["case", "decided_by"]
    search_fields = ["case__number"]


class CallbackTaskInline(admin.TabularInline):
    model = CallbackTask
    fields = ["case", "reason", "status", "reached", "settled", "satisfaction", "done_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CallbackDraw)
class CallbackDrawAdmin(ReadOnlyAdmin):
    list_display = ["street", "month", "share", "population_size", "chosen_size", "seed"]
    list_filter = ["month"]
    list_select_related = ["street"]
    search_fields = ["street__name", "street__code"]
    inlines = [CallbackTaskInline]

    @admin.display(description=_("closed cases"))
    def population_size(self, draw):
        return len(draw.population_ids)

    @admin.display(description=_("drawn"))
    def chosen_size(self, draw):
        return len(draw.chosen_ids)


@admin.register(CallbackTask)
class CallbackTaskAdmin(ReadOnlyAdmin):
    list_display = ["case", "street", "reason", "status", "reached", "settled", "satisfaction"]
    list_filter = ["status", "reason", "satisfaction"]
    list_select_related = ["case", "street"]
    search_fields = ["case__number"]
