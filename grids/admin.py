from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .import_jobs import import_job_progress
from .models import (
    ALLOWED_PARENT_LEVELS,
    Area,
    AreaLevel,
    Assignment,
    Department,
    ImportJob,
    User,
)
from .selectors import area_breadcrumbs
from .services_imports import import_job_start

admin.site.site_header = _("Grid governance administration")
admin.site.site_title = _("Grid governance")
admin.site.index_title = _("Administration")


class BreadcrumbChangeList(ChangeList):
    """Fetches the ancestor names of the current page in one query instead of one per row."""

    def get_results(self, request):
        super().get_results(request)
        crumbs = area_breadcrumbs(list(self.result_list))
        for area in self.result_list:
            area.breadcrumb = crumbs.get(area.pk, area.name)


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = [
            "code",
            "name",
            "level",
            "dedicated_kind",
            "parent",
            "households",
            "latitude",
            "longitude",
        ]

    def clean(self):
        # The level/parent rule is Area.clean(), which the model validation after this runs.
        # Checking it here as well showed the message twice, plus a wrong "must have a
        # parent area" because add_error() had dropped the parent from cleaned_data.
        cleaned = super().clean()
        parent = cleaned.get("parent")
        if parent and self.instance.pk and parent.path.startswith(self.instance.path):
            self.add_error("parent", _("An area cannot be moved under itself."))
        return cleaned


PARENT_LEVELS = sorted({p for ps in ALLOWED_PARENT_LEVELS.values() for p in ps if p})


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    form = AreaForm
    list_display = ["name", "code", "level", "path_display", "households", "numchild"]
    list_filter = ["level"]
    search_fields = ["name", "=code"]
    autocomplete_fields = ["parent"]
    list_per_page = 50
    show_full_result_count = False  # COUNT(*) over 137,000 rows on every page view is waste
    actions = ["move_to_parent"]
    readonly_fields = ["path_display", "path", "depth"]

    def get_changelist(self, request, **kwargs):
        return BreadcrumbChangeList

    @admin.display(description=_("path"))
    def path_display(self, obj):
        if hasattr(obj, "breadcrumb"):
            return obj.breadcrumb
        if not obj.pk:
            return "—"
        return area_breadcrumbs([obj])[obj.pk]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Autocomplete for a parent only offers levels that can have children.
        if request.path.endswith("/autocomplete/") and request.GET.get("field_name") == "parent":
            queryset = queryset.filter(level__in=PARENT_LEVELS)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # Not `form.Meta.fields`: the admin's generated form class also lists the read-only
        # fields (path, depth …), which are not service arguments.
        data = {f: form.cleaned_data.get(f) for f in AreaForm.Meta.fields}
        if change:
            # The form has already copied its data onto `obj`; the service compares against
            # the stored row to know what changed and whether the subtree must move.
            services.area_update(area=Area.objects.get(pk=obj.pk), actor=request.user, **data)
        else:
            obj.pk = services.area_create(actor=request.user, **data).pk

    def has_delete_permission(self, request, obj=None):
        # Deleting a node would orphan its subtree and the cases filed in it.
        return request.user.is_superuser and (obj is None or obj.numchild == 0)

    @admin.action(description=_("Move selected areas under another parent"))
    def move_to_parent(self, request, queryset):
        form = MoveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                moved = services.areas_move(
                    areas=list(queryset),
                    new_parent=form.cleaned_data["new_parent"],
                    actor=request.user,
                )
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return None
            self.message_user(request, _("%(n)d area(s) moved with their subtrees.") % {"n": moved})
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Move areas"),
            "areas": queryset,
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/grids/area/move.html", context)


class MoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(
        queryset=Area.objects.exclude(level=AreaLevel.MICRO_GRID),
        label=_("New parent"),
        widget=AutocompleteSelect(Area._meta.get_field("parent"), admin.site),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "district", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "=code"]
    autocomplete_fields = ["district"]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    fields = ["role", "area", "department", "started_at", "ended_at", "note"]
    autocomplete_fields = ["area", "department"]
    can_delete = False  # end an assignment instead: the record must stay
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "department")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [AssignmentInline]
    list_display = ["username", "real_name", "masked_phone", "roles", "is_active", "is_staff"]
    search_fields = ["username", "real_name", "phone"]
    readonly_fields = ["assignment_history"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("real_name", "phone", "email")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups"),
                "classes": ["collapse"],
            },
        ),
        (_("Assignment history"), {"fields": ("assignment_history",)}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "real_name",
                    "phone",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assignments")

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return obj.masked_phone

    @admin.display(description=_("active roles"))
    def roles(self, obj):
        labels = sorted({a.get_role_display() for a in obj.assignments.all() if a.is_active})
        return "、".join(labels) or "—"

    @admin.display(description=_("Assignment history"))
    def assignment_history(self, obj):
        if not obj.pk:
            return "—"
        records = (
            Assignment.history.filter(user_id=obj.pk)
            .select_related("area", "department", "history_user")
            .order_by("-history_date")[:50]
        )
        kinds = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    r.history_date.astimezone().strftime("%Y-%m-%d %H:%M"),
                    kinds.get(r.history_type, r.history_type),
                    r.get_role_display(),
                    r.area or r.department or "—",
                    r.started_at.astimezone().strftime("%Y-%m-%d"),
                    r.ended_at.astimezone().strftime("%Y-%m-%d") if r.ended_at else "—",
                    r.history_user or "—",
                )
                for r in records
            ),
        )
        if not rows:
            return _("No assignments yet.")
        return format_html(
            '<table class="assignment-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("when"),
            _("change"),
            _("role"),
            _("place"),
            _("from"),
            _("until"),
            _("by"),
            rows,
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Assignment:
            return super().save_formset(request, form, formset, change)
        # Inline rows go through the services so validation and history stay in one place.
        for instance in formset.save(commit=False):
            if instance.pk is None:
                services.assignment_create(
                    user=form.instance,
                    role=instance.role,
                    area=instance.area,
                    department=instance.department,
                    started_at=instance.started_at,
                    ended_at=instance.ended_at,
                    note=instance.note,
                    actor=request.user,
                )
            else:
                services.assignment_update(assignment=instance, actor=request.user)
        formset.save_m2m()
        return None

    @admin.action(description=_("End all active assignments of the selected users"))
    def end_all_assignments(self, request, queryset):
        ended = services.assignments_end(
            assignments=Assignment.objects.active().filter(user__in=queryset), actor=request.user
        )
        self.message_user(request, _("%(n)d assignment(s) ended.") % {"n": ended})

    actions = ["end_all_assignments"]


@admin.register(Assignment)
class AssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "role", "area", "department", "started_at", "ended_at", "active"]
    list_filter = ["role", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__real_name", "area__name", "=area__code"]
    autocomplete_fields = ["user", "area", "department"]
    list_select_related = ["user", "area", "department"]
    date_hierarchy = "started_at"
    actions = ["end_assignments"]
    history_list_display = ["role", "area", "department", "started_at", "ended_at"]

    @admin.display(boolean=True, description=_("active"))
    def active(self, obj):
        return obj.is_active

    def save_model(self, request, obj, form, change):
        if change:
            services.assignment_update(assignment=obj, actor=request.user)
        else:
            created = services.assignment_create(
                user=obj.user,
                role=obj.role,
                area=obj.area,
                department=obj.department,
                started_at=obj.started_at,
                ended_at=obj.ended_at,
                note=obj.note,
                actor=request.user,
            )
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("End selected assignments"))
    def end_assignments(self, request, queryset):
        ended = services.assignments_end(assignments=queryset, actor=request.user)
        self.message_user(request, _("%(n)d assignment(s) ended.") % {"n": ended})


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=ImportJob.Kind.choices)
    file = forms.FileField(
        label=_("CSV file"), help_text=_("UTF-8, with or without BOM (Excel “CSV UTF-8”).")
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if not file.name.lower().endswith(".csv"):
            raise ValidationError(_("Choose a .csv file."))
        return file


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "kind",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["created_by"]

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "upload/", self.admin_site.admin_view(self.upload_view), name="%s_%s_upload" % info
            ),
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="%s_%s_progress" % info,
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("admin:grids_importjob_upload")

    def upload_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = import_job_start(
                kind=form.cleaned_data["kind"],
                uploaded_file=form.cleaned_data["file"],
                actor=request.user,
            )
            return redirect("admin:grids_importjob_progress", pk=job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import from CSV"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/grids/importjob/upload.html", context)

    def progress_view(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        done, total = import_job_progress(job)
        percent = job.percent if job.is_finished else (round(done * 100 / total) if total else 0)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import progress"),
            "job": job,
            "done": done,
            "total": total,
            "percent": percent,
            "opts": self.model._meta,
        }
        template = "admin/grids/importjob/progress.html"
        if request.headers.get("HX-Request"):
            template = "admin/grids/importjob/_progress.html"
        return TemplateResponse(request, template, context)


# The working-day calendar's admin (days, years, importing a notice) lives beside this one.
from . import admin_calendar  # noqa: E402, F401
