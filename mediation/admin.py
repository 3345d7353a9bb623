from django.contrib import admin

from .models import Agreement, AgreementTemplate, JudicialConfirmation, MediationSession


@admin.register(AgreementTemplate)
class AgreementTemplateAdmin(admin.ModelAdmin):
    """The wording per dispute type, edited by the admins (the rest is read-only here:
    agreements and sessions change through their services, which keep the timeline)."""

    list_display = ("title", "category")
    list_select_related = ("category", "category__parent")
    autocomplete_fields = ()


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(ReadOnly):
    list_display = ("number", "version", "case", "status", "signed_at", "sha256")
    list_select_related = ("case",)
    search_fields = ("number", "case__number")


@admin.register(MediationSession)
class SessionAdmin(ReadOnly):
    list_display = ("case", "number", "starts_at", "status")
    list_select_related = ("case",)


@admin.register(JudicialConfirmation)
class ConfirmationAdmin(ReadOnly):
    list_display = ("agreement", "court", "applied_on", "status", "ruling_number")
    list_select_related = ("agreement",)
