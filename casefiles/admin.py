from django.contrib import admin

from .models import CaseFileArchive


@admin.register(CaseFileArchive)
class CaseFileArchiveAdmin(admin.ModelAdmin):
    """Read-only: an archived file is frozen; archiving again makes a new version."""

    list_display = ("number", "version", "case", "status", "pages", "built_at")
    list_filter = ("status", "reason", "year")
    search_fields = ("number", "case__number", "sha256")
    raw_id_fields = ("case", "unit", "requested_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
