from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import ReadOnlyAdmin
from grids.models import Role
from notifications.models import Notification, OutboxMessage
from sla.models import SlaPolicy, Timer

from .models import (
    Case,
    CaseEvent,
    Category,
    ExtensionRequest,
    Law,
    PartyDisclosure,
    TypicalCase,
)


class LawInline(admin.StackedInline):
    model = Law
    extra = 0


class TypicalCaseInline(admin.StackedInline):
    model = TypicalCase
    extra = 0


class CategoryForm(forms.ModelForm):
    assisting_roles = forms.MultipleChoiceField(
        label=_("assisting roles"),
        choices=Role.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Category
        fields = [
            "code",
            "name",
            "parent",
            "default_risk",
            "default_handling_level",
            "lead_role",
            "lead_department",
            "assisting_roles",
            "sort_order",
            "is_active",
        ]

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        if parent is not None and parent.parent_id is not None:
            self.add_error("parent", _("Categories have two levels: choose a first-level type."))
        if parent is not None and self.instance.pk and self.instance.children.exists():
            self.add_error("parent", _("A type with sub-types cannot itself be a sub-type."))
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = [
        "name",
        "code",
        "parent",
        "default_risk",
        "default_handling_level",
        "lead_department",
        "is_active",
    ]
    list_filter = ["parent", "default_risk", "default_handling_level", "is_active"]
    search_fields = ["name", "=code"]
    list_select_related = ["parent", "lead_department"]
    autocomplete_fields = ["lead_department"]
    inlines = [LawInline, TypicalCaseInline]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "from_status", "to_status", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Read-only: cases change only through the workflow (services), never by editing rows."""

    list_display = [
        "number",
        "cause",
        "status",
        "risk_level",
        "category",
        "handling_area",
        "filed_at",
    ]
    list_filter = ["status", "risk_level", "channel", "handling_level"]
    search_fields = ["=number", "cause", "address"]
    list_select_related = ["category", "handling_area"]
    date_hierarchy = "filed_at"
    show_full_result_count = False
    inlines = [CaseEventInline]


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    """Deadlines outside a case's SLA steps, for operators: what is due and what fired.
    Read-only: the services arm and disarm them."""

    list_display = ["kind", "object_id", "case", "due_at", "fired_at"]
    list_filter = ["kind"]
    search_fields = ["=object_id", "=case__number"]
    raw_id_fields = ["case"]
    show_full_result_count = False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Saving a policy that cases already use creates a new version: those cases keep the
    rules they started under, new cases get the new ones."""

    list_display = [
        "name",
        "code",
        "version",
        "category",
        "risk_level",
        "assign_within_hours",
        "first_update_within_hours",
        "close_within_days",
        "warn_at_percent",
        "warn_hours_before",
        "progress_every_days",
        "time_basis",
        "is_active",
    ]
    list_filter = ["is_active", "time_basis", "risk_level"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["category"]
    readonly_fields = ["version"]

    def save_model(self, request, obj, form, change):
        if change and obj.cases.exists():
            SlaPolicy.objects.filter(pk=obj.pk).update(is_active=False)
            latest = SlaPolicy.objects.filter(code=obj.code).order_by("-version").first()
            obj.pk = None
            obj._state.adding = True
            obj.version = latest.version + 1
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.cases.exists()


@admin.register(PartyDisclosure)
class PartyDisclosureAdmin(ReadOnlyAdmin):
    """Who saw which case's party phone and ID numbers in full, and when: for review
    (PIPL). Read-only: a record of access is never edited or removed here."""

    list_display = ["at", "user", "case", "channel"]
    list_filter = ["channel", ("at", admin.DateFieldListFilter)]
    list_select_related = ["user", "case"]
    search_fields = ["=case__number", "user__username", "user__real_name"]
    date_hierarchy = "at"


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ["case", "days", "status", "requested_by", "decided_by", "created_at"]
    list_filter = ["status"]
    list_select_related = ["case", "requested_by", "decided_by"]
    search_fields = ["=case__number"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["channel", "address", "status", "not_before", "attempts", "sent_at"]
    list_filter = ["status", "channel"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient"]
    search_fields = ["title"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
