from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin
from grids.models import THREE_OFFICERS_AND_A_LAWYER, AreaLevel

from . import services
from .models import (
    MediationUnit,
    ReceptionSession,
    RotaSlot,
    ServiceItem,
    SessionStaff,
    SessionStatus,
    TeamMember,
    Visit,
)


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    """The catalogue: the 4 common services come with the database; the individual ones
    (29 in Yuzhong) are added and worded here."""

    list_display = ["name", "code", "parent", "sort_order", "is_active"]
    list_filter = ["parent", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["name", "=code"]
    list_select_related = ["parent"]

    def has_delete_permission(self, request, obj=None):
        # Visits refer to services; retire an item with "active" instead.
        return request.user.is_superuser and (obj is None or not obj.visits.exists())


class RotaSlotInline(admin.TabularInline):
    model = RotaSlot
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(MediationUnit)
class MediationUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "kind", "duty_starts_at", "duty_ends_at", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "community__name", "address"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]
    inlines = [RotaSlotInline]


def team_url(community_id: int) -> str:
    url = reverse("admin:reception_days_teammember_changelist")
    return f"{url}?{urlencode({'area__id__exact': community_id})}"


class SessionStaffInline(admin.TabularInline):
    model = SessionStaff
    extra = 0
    fields = ["name", "role", "duty", "user", "attended"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class VisitInline(admin.TabularInline):
    model = Visit
    extra = 0
    fields = ["created_at", "resident_name", "issue", "outcome", "case", "reply"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case")


class SessionAdminForm(forms.ModelForm):
    class Meta:
        model = ReceptionSession
        fields = ["community", "unit", "kind", "theme", "venue", "date", "starts_at", "ends_at"]

    def clean(self):
        cleaned = super().clean()
        unit, community = cleaned.get("unit"), cleaned.get("community")
        if unit is not None and community is not None and unit.community_id != community.pk:
            self.add_error("unit", _("This unit belongs to another community."))
        return cleaned


@admin.register(ReceptionSession)
class ReceptionSessionAdmin(admin.ModelAdmin):
    """Sessions are created and changed through the services (who may, the team scheduled,
    the once-a-month rule); holding and cancelling happen on the session page, where the
    attendance and the reason are recorded."""

    form = SessionAdminForm
    list_display = ["date", "community", "kind", "title", "status", "moved", "team"]
    list_filter = ["kind", "status", "date"]
    search_fields = ["community__name", "=community__code", "theme", "venue"]
    list_select_related = ["community", "unit"]
    autocomplete_fields = ["community", "unit"]
    date_hierarchy = "date"
    show_full_result_count = False
    inlines = [SessionStaffInline, VisitInline]
    readonly_fields = [
        "status",
        "original_date",
        "move_reason",
        "cancel_reason",
        "held_at",
        "held_by",
        "cancelled_at",
        "cancelled_by",
        "created_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*self.readonly_fields, "community", "unit", "kind", "date"]

    @admin.display(description=_("moved from"))
    def moved(self, obj):
        if not obj.original_date:
            return "—"
        return f"{obj.original_date:%Y-%m-%d}（{obj.move_reason}）"

    @admin.display(description=_("team"))
    def team(self, obj):
        return format_html('<a href="{}">{}</a>', team_url(obj.community_id), _("team"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                services.session_update(
                    session=ReceptionSession.objects.get(pk=obj.pk),
                    actor=request.user,
                    venue=data["venue"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    theme=data["theme"],
                )
            else:
                obj.pk = services.session_create(
                    actor=request.user,
                    community=data["community"],
                    kind=data["kind"],
                    date=data["date"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    venue=data["venue"],
                    theme=data["theme"],
                    unit=data["unit"],
                ).pk
        except (ValidationError, services.SessionStateError) as exc:
            # The form has passed the model's own checks and the unit's community; what is
            # left is a state change made meanwhile by someone else: refuse, never a 500.
            raise PermissionDenied(getattr(exc, "message", "; ".join(exc.messages))) from exc

    def has_change_permission(self, request, obj=None):
        # A held or cancelled session is a record; it is shown, not edited.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.status == SessionStatus.PLANNED)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    """Read-only: visits are recorded and followed up on the session page."""

    list_display = ["created_at", "resident_name", "session", "outcome", "is_dispute", "case"]
    list_filter = ["outcome", "is_dispute"]
    search_fields = ["resident_name", "issue", "=case__number"]
    list_select_related = ["session__community", "session__unit", "case"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    """Each community's "three officers and a lawyer": their assignments, filtered. Pairing
    an officer with a community is done in Assignments, where the history is kept."""

    list_display = ["user", "role", "area", "started_at", "ended_at", "active", "edit"]
    list_filter = ["role", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__real_name", "area__name", "=area__code"]
    list_select_related = ["user", "area"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(role__in=THREE_OFFICERS_AND_A_LAWYER, area__level=AreaLevel.COMMUNITY)
        )

    def lookup_allowed(self, lookup, value, request=None):
        # The sessions' "team" links filter by community.
        return lookup == "area__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(boolean=True, description=_("active"))
    def active(self, obj):
        return obj.is_active

    @admin.display(description=_("assignment"))
    def edit(self, obj):
        url = reverse("admin:grids_assignment_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("edit"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
