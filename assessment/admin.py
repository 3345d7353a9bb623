from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from common.admin import ReadOnlyAdmin
from common.errors import attempt

from . import services, tasks
from .models import AssessmentRow, AssessmentScheme, AssessmentSnapshot, MetricWeight, VolumeBand


class MetricWeightInline(admin.TabularInline):
    model = MetricWeight
    extra = 0


class VolumeBandInline(admin.TabularInline):
    model = VolumeBand
    extra = 0


@admin.register(AssessmentScheme)
class AssessmentSchemeAdmin(admin.ModelAdmin):
    """Weights and bands are edited freely: a month already computed keeps the copy it
    was scored with."""

    list_display = ["name", "is_active", "updated_at"]
    inlines = [MetricWeightInline, VolumeBandInline]


@admin.register(AssessmentSnapshot)
class AssessmentSnapshotAdmin(ReadOnlyAdmin):
    """Computed by the monthly task or the action below, never typed in; a published
    month can be neither changed nor deleted, only recomputed as a new version."""

    list_display = [
        "month", "version", "published", "published_at", "computed_at", "row_count", "seconds",
        "reason",
    ]  # fmt: skip
    list_filter = ["published"]
    date_hierarchy = "month"
    actions = ["publish", "recompute"]

    def has_delete_permission(self, request, obj=None):
        # A draft that was never published may go; a published month is evidence.
        return request.user.is_superuser and (obj is None or not obj.published)

    @admin.action(description=_("Publish the selected versions (they can never change again)"))
    def publish(self, request, queryset):
        done = 0
        for snapshot in queryset.filter(published=False):
            outcome = attempt(
                lambda s=snapshot: services.snapshot_publish(snapshot=s, actor=request.user)
            )
            if outcome.ok:
                done += 1
            else:
                self.message_user(request, f"{snapshot}: {outcome.error}", messages.ERROR)
        self.message_user(
            request, ngettext("%d version published.", "%d versions published.", done) % done
        )

    @admin.action(description=_("Recompute the selected months (each as a new version)"))
    def recompute(self, request, queryset):
        if not services.may_manage(request.user):
            self.message_user(request, _("Only administrators may do this."), messages.ERROR)
            return
        months = sorted({s.month for s in queryset})
        for month in months:
            transaction.on_commit(
                lambda m=month: tasks.assess_month.delay(
                    m.isoformat(), request.user.pk, "recomputed in the admin"
                )
            )
        self.message_user(
            request,
            ngettext(
                "%d month is being recomputed; the new version appears here when done.",
                "%d months are being recomputed; the new versions appear here when done.",
                len(months),
            )
            % len(months),
        )


@admin.register(AssessmentRow)
class AssessmentRowAdmin(ReadOnlyAdmin):
    list_display = ["snapshot", "kind", "name", "place", "volume", "band", "score", "rank"]
    list_filter = ["kind", "snapshot"]
    search_fields = ["name"]
    list_select_related = ["snapshot"]
    ordering = ["-snapshot__month", "-snapshot__version", "kind", "rank", "name"]
