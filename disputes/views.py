import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.errors import attempt, errors_to_form
from grids.models import Role
from grids.selectors import user_scope
from grids.workdays import uncovered_years
from notifications import live
from sla import clock
from sla.models import TimeBasis

from . import actions, case_sections, disclosure, permissions, selectors, services, upload_stash
from .forms import CaseFileForm, CaseFilterForm, PartyFormSet, list_filter_areas
from .listing import CaseListPaginator
from .models import Attachment, Case, Channel
from .services.departments import reported_task

PAGE_SIZE = 20


def _visible_case_or_404(user, pk) -> Case:
    try:
        return selectors.case_detail(user=user, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


@login_required
def case_file(request):
    if not permissions.can_file(request.user):
        raise PermissionDenied
    filing_areas = permissions.filing_areas_q(request.user)
    # The area select holds the filer's own grids; any other is found by typing (the picker).
    pick = {"filing_areas": filing_areas, "own_area_ids": user_scope(request.user).area_ids}
    kept_photos: list[dict] = []
    if request.method == "POST":
        form = CaseFileForm(request.POST, request.FILES, **pick)
        parties = PartyFormSet(request.POST, prefix="parties")
        tokens = request.POST.getlist("kept_photos")
        earlier_photos, kept_photos = upload_stash.restore(request, tokens)
        if form.is_valid() and parties.is_valid():
            data = form.cleaned_data
            try:
                case, first_time = services.case_file_once(
                    key=data["filing_key"],
                    actor=request.user,
                    area=data["area"],
                    category=data["category"],
                    cause=data["cause"],
                    address=data["address"],
                    description=data["description"],
                    occurred_at=data["occurred_at"],
                    risk_level=data["risk_level"] or None,
                    channel=data["channel"],
                    people_involved=data["people_involved"],
                    amount_involved=data["amount_involved"],
                    # Untouched extra rows drop out; a half-filled one was refused above.
                    parties=[f.cleaned_data for f in parties.forms if f.has_input()],
                    photos=[*earlier_photos, *data["photos"]],
                    resolved_on_spot=data["resolved_on_spot"],
                    outcome_note=data["outcome_note"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    notify_applicant=data["notify_applicant"],
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            except services.FilingKeyReused as exc:
                # This form was filed already (the back button, then edited): say so, and
                # give it a new key so that submitting again files the new dispute.
                form.add_error(None, exc.message)
                form.data = form.data.copy()
                form.data["filing_key"] = uuid.uuid4().hex
            else:
                upload_stash.clear(request, tokens)
                # A filing kept offline is sent in the background by offline.js, which
                # lists it as uploaded itself; a message would pop up on some later page.
                if not request.headers.get("X-Offline-Queue"):
                    if first_time:
                        text = _("Dispute %(number)s filed.")
                    else:
                        text = _("Dispute %(number)s was already filed; nothing was filed twice.")
                    messages.success(request, text % {"number": case.number})
                if request.headers.get("X-Requested-With") == "XMLHttpRequest":
                    # filing.js sent it: a redirect would be followed inside the request
                    # (and eat the message); the page goes there itself.
                    response = HttpResponse(status=204)
                    response["X-Filed-Location"] = reverse("disputes:detail", args=[case.pk])
                    response["X-Filed-Number"] = case.number
                    return response
                return redirect("disputes:detail", pk=case.pk)
        # Photos already taken survive the error: they come back with the form.
        kept_photos += upload_stash.stash(
            request, request.FILES.getlist("photos"), keep=[k["token"] for k in kept_photos]
        )
    else:
        form = CaseFileForm(initial=_filing_initial(request.user), **pick)
        parties = PartyFormSet(
            prefix="parties", initial=[{"side": "applicant"}, {"side": "respondent"}]
        )
    context = {"form": form, "parties": parties, "kept_photos": kept_photos}
    return render(request, "disputes/file.html", context)


def _filing_initial(user) -> dict:
    scope = user_scope(user)
    area = next(
        (
            a.area
            for a in scope.assignments
            if a.area_id and a.role in (Role.GRID_WORKER, Role.MICRO_GRID_HEAD)
        ),
        None,
    )
    channel = Channel.GRID_WORKER if area else Channel.HOTLINE
    return {"area": area, "channel": channel, "people_involved": 2}


def _paginate(request, qs):
    page = CaseListPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def sla_labels(reasons) -> list[str]:
    return [clock.REASONS[r] for r in reasons]


def _rows(page, now=None):
    now = now or timezone.now()
    rows = []
    for case in page.object_list:
        colour, reasons = clock.evaluate(case, now)
        soon = [clock.WARNINGS[reason] for reason in clock.due_soon(case, now)]
        rows.append(
            {"case": case, "sla": (colour, reasons), "labels": sla_labels(reasons), "soon": soon}
        )
    return rows


@login_required
def case_list(request):
    form = CaseFilterForm(request.GET or None, user=request.user)
    now = timezone.now()
    # One clock for the filter and the badges, so a row never contradicts the filter.
    filters = {**form.cleaned_data, "now": now} if form.is_valid() else {}
    page, query = _paginate(
        request,
        selectors.case_list(user=request.user, filters=filters, related=selectors.PAGE_RELATED),
    )
    context = {
        "form": form,
        "page": page,
        "rows": _rows(page, now),
        "query": query,
        "title": _("Cases"),
    }
    return render(request, "disputes/list.html", context)


@login_required
def my_cases(request):
    page, query = _paginate(
        request, selectors.my_cases(user=request.user, related=selectors.PAGE_RELATED)
    )
    context = {"page": page, "rows": _rows(page), "query": query, "title": _("My cases")}
    return render(request, "disputes/list.html", context)


def _detail_context(request, case: Case, forms=None, error: str = "", revealed=False) -> dict:
    forms = forms or {}
    now = timezone.now()
    colour, reasons = clock.evaluate(case, now)
    return {
        "case": case,
        "sla": (colour, reasons),
        "sla_labels": sla_labels(reasons),
        "due_soon": [clock.WARNINGS[reason] for reason in clock.due_soon(case, now)],
        "progress_due_at": clock.pending_progress(case),
        "extensions": case.extensions.all(),
        # Party phone and ID numbers are masked until an allowed reader asks (recorded).
        "can_reveal": permissions.sees_party_details(request.user, case),
        "revealed": revealed,
        "actions": [
            (a.name, forms.get(a.name) or _form_in_panel(a, case), a.label)
            for a in actions.available(request.user, case)
        ],
        "action_error": error,
        "report_to_verify": reported_task(case),
        "estimated_years": _estimated_years(case),
        "laws": case.category.laws.all(),
        "typical_cases": case.category.typical_cases.all(),
        # Visible to this user (checked by the caller): the page may follow its changes.
        "live_groups": [live.case_group(case.pk)],
        "sections": case_sections.render_all(request, case),
    }


@dataclass(frozen=True)
class PageLink:
    """In the case page's list of actions, the place of a form that has a page of its own
    (the panel links there)."""

    page_url: str


def _form_in_panel(action: actions.Action, case: Case):
    if action.page:
        return PageLink(reverse(action.page, args=[case.pk]))
    return action.build_form(case=case)


def _estimated_years(case: Case) -> list[int]:
    """Years of the case's working-day deadlines that the holiday calendar does not cover
    yet: those deadlines assume Monday to Friday until an admin imports the notice."""
    policy = case.sla_policy if case.sla_policy_id else None
    if policy is None or policy.time_basis != TimeBasis.WORKDAYS:
        return []
    due = (case.assign_due_at, case.first_update_due_at, case.close_due_at)
    return sorted(uncovered_years({d.year for d in due if d is not None}))


@login_required
def case_detail(request, pk):
    case = _visible_case_or_404(request.user, pk)
    return render(request, "disputes/detail.html", _detail_context(request, case))


@login_required
@require_POST
def reveal_parties(request, pk):
    """Show the parties' phone and ID numbers in full, and record that this person saw
    them (disclosure.py). With htmx only the parties section is swapped."""
    case = _visible_case_or_404(request.user, pk)
    disclosure.reveal_parties(case=case, actor=request.user, channel="page")
    context = _detail_context(request, case, revealed=True)
    template = "disputes/_parties.html" if request.htmx else "disputes/detail.html"
    return render(request, template, context)


@login_required
@require_POST
def case_action(request, pk, action):
    """One endpoint per workflow action. With htmx the case panel is swapped in place;
    without JavaScript the browser is redirected back to the case page."""
    declared = actions.ACTIONS.get(action)
    if declared is None:
        raise Http404
    case = _visible_case_or_404(request.user, pk)
    if declared.page:  # its form lives on that page
        return redirect(declared.page, pk=pk)
    form = declared.build_form(request.POST, request.FILES, case=case)
    outcome = None
    if form.is_valid():
        outcome = attempt(
            lambda: declared.perform(case, request.user, form.cleaned_data), form=form
        )
        if outcome.ok:
            if not request.htmx:
                messages.success(request, _("Saved."))
                return redirect("disputes:detail", pk=pk)
            case = _visible_case_or_404(request.user, pk)
            response = render(request, "disputes/_case_panel.html", _detail_context(request, case))
            # How a note sent from the offline queue (offline.js) knows it was taken.
            response["X-Action-Done"] = action
            return response
    error = outcome.error if outcome else ""
    status = outcome.status if outcome and error else 200
    if not request.htmx:
        messages.error(request, error or _("Please correct the errors below."))
        if status != 200:
            return redirect("disputes:detail", pk=pk)
    case = _visible_case_or_404(request.user, pk)
    context = _detail_context(request, case, forms={} if error else {action: form}, error=error)
    context["open_action"] = action
    if request.htmx:
        # htmx does not swap 4xx bodies by default; the panel carries the error itself.
        return render(request, "disputes/_case_panel.html", context)
    return render(request, "disputes/detail.html", context)


def _visible_attachment_or_404(user, case_id, pk, *, photo=False) -> Attachment:
    try:
        return selectors.case_attachment(user=user, case_id=case_id, pk=pk, photo=photo)
    except Attachment.DoesNotExist as exc:
        raise Http404(_("No such file.")) from exc


def _served(field_file, *, content_type, filename, as_attachment=False) -> FileResponse:
    response = FileResponse(
        field_file.open("rb"),
        content_type=content_type,
        filename=filename,
        as_attachment=as_attachment,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def attachment_download(request, pk, attachment_id):
    """Served by Django, never from MEDIA_URL: only people who may see the case get it."""
    attachment = _visible_attachment_or_404(request.user, pk, attachment_id)
    return _served(
        attachment.file,
        content_type=attachment.content_type,
        filename=attachment.original_name,
        as_attachment=attachment.kind == Attachment.Kind.PDF and "download" in request.GET,
    )


@login_required
def attachment_thumbnail(request, pk, attachment_id):
    """A photo's small preview, to the same people; the photo itself for one stored before
    thumbnails were made (`manage.py make_thumbnails` fills those in)."""
    attachment = _visible_attachment_or_404(request.user, pk, attachment_id, photo=True)
    if not attachment.thumbnail:
        return _served(
            attachment.file,
            content_type=attachment.content_type,
            filename=attachment.original_name,
        )
    return _served(attachment.thumbnail, content_type="image/jpeg", filename="thumbnail.jpg")


@login_required
def nearest_area(request):
    """For "use my location" on the filing page: the nearest area the user may file in."""
    if not permissions.can_file(request.user):
        raise PermissionDenied
    try:
        latitude = float(request.GET["lat"])
        longitude = float(request.GET["lon"])
    except (KeyError, ValueError):
        return JsonResponse({"error": _("Give lat and lon as numbers.")}, status=400)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return JsonResponse({"error": _("This is not a position on Earth.")}, status=400)
    area = selectors.nearest_filing_area(user=request.user, latitude=latitude, longitude=longitude)
    if area is None:
        return JsonResponse({"area": None})
    return JsonResponse({"area": {"id": area.pk, "name": area.name, "code": area.code}})


@login_required
def area_suggestions(request):
    """The area pickers (htmx): areas whose name contains, or whose code starts with, what
    was typed; the user's own first. On the filing page, those they may file in; with
    `for=list`, the streets and communities the case list can be narrowed to."""
    text = request.GET.get("area_search", "")[:50]
    if request.GET.get("for") == "list":
        areas = list_filter_areas(request.user)
    elif permissions.can_file(request.user):
        areas = None
    else:
        raise PermissionDenied
    areas = selectors.area_suggestions(user=request.user, text=text, areas=areas)
    return render(request, "disputes/_area_suggestions.html", {"areas": areas, "text": text})
