from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record written only by the services (cases, visits, residents' reports, access
    logs): admins read and search it, never add, edit or delete a row by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
