"""Pages. The public ones (report, tracking, QR images) need no login and show nothing but
the resident's own report; the staff ones (posters, public notes, reopen requests,
callbacks) are login-only and scoped like every other staff page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_POST

from common.errors import attempt
from disputes import selectors as case_selectors
from disputes import services as case_services
from disputes.models import Case, CaseEvent
from grids.models import Area
from grids.selectors import area_breadcrumbs

from . import permissions, qr, ratelimit, selectors, services
from .callbacks import callback_record
from .forms import (
    HONEYPOT,
    CallbackForm,
    PublicNoteForm,
    RatingForm,
    ReopenDecisionForm,
    ReportForm,
    TrackForm,
)
from .models import REPORT_LEVELS, CallbackTask, PublicUpdate, ReopenRequest

REFUSED = gettext_lazy(
    "Your report could not be sent. Please reload the page and try again, or call your community."
)
TOO_MANY_FROM_NETWORK = gettext_lazy(
    "Too many reports have been sent from this network. Please try again in an hour, or call "
    "your community."
)
TOO_MANY_FROM_PHONE = gettext_lazy(
    "Too many reports have been sent with this phone number today. Please try again "
    "tomorrow, or call your community."
)
NO_MATCH = gettext_lazy(
    "No report matches this code and these digits. Please check both and try again."
)
TOO_MANY_TRIES = gettext_lazy("Too many attempts. Please try again later.")
KEY_NEEDED = gettext_lazy(
    "Enter the 12-character tracking key (or, for an older report, 4 digits)."
)
SESSION_TRACKED = "residents_tracked"
SESSION_LAST = "residents_last_report"
PAGE_SIZE = 50


def _noindex(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response


def _remember(request, report):
    """The browser that filed or verified a report may open its tracking page again."""
    tracked = [pk for pk in request.session.get(SESSION_TRACKED, []) if pk != report.pk]
    request.session[SESSION_TRACKED] = [*tracked[-19:], report.pk]


def _area_or_404(area_code: str) -> Area:
    area = selectors.report_area(area_code)
    if area is None:
        raise Http404(_("No such area."))
    return area


# --- public: report --------------------------------------------------------------------------


@never_cache
def report(request, area_code):
    area = _area_or_404(area_code)
    refusal, status = "", 200
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES, area=area)
        ip = ratelimit.client_ip(request)
        # Every attempt counts, refused ones too: only valid reports used to, so invalid
        # posts (oversized photos, bad fields) could be sent without end.
        within_limit = ratelimit.hit("report_ip", ip)
        if request.POST.get(HONEYPOT):
            refusal, status = REFUSED, 400
        elif not within_limit:
            refusal, status = TOO_MANY_FROM_NETWORK, 429
        elif form.is_valid():
            data = form.cleaned_data
            if not ratelimit.hit("report_phone", data["phone"]):
                refusal, status = TOO_MANY_FROM_PHONE, 429
            else:
                try:
                    filed, key = services.report_submit(
                        area=area,
                        topic=data["topic"],
                        text=data["text"],
                        address=data["address"],
                        name=data["name"],
                        phone=data["phone"],
                        photos=data["photos"],
                        ip=ip or None,
                    )
                except ValidationError as exc:
                    for field, errors in exc.message_dict.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
                else:
                    _remember(request, filed)
                    # The key is shown on the next page only, in this browser's session.
                    request.session[SESSION_LAST] = {"id": filed.pk, "key": key}
                    return redirect("resident_public:done")
        if request.FILES and (refusal or form.errors):
            form.photos_lost = True
    else:
        form = ReportForm(area=area)
    context = {
        "area": area,
        "place": area_breadcrumbs([area])[area.pk],
        "form": form,
        "refusal": refusal,
    }
    return _noindex(render(request, "residents/report.html", context, status=status))


@never_cache
def report_done(request):
    last = request.session.get(SESSION_LAST)
    found = selectors.tracked_report(last["id"]) if last else None
    if found is None:
        return redirect("resident_public:track")
    key = last.get("key", "")
    context = {"report": found, "key": services.format_key(key) if key else ""}
    return _noindex(render(request, "residents/report_done.html", context))


@cache_control(public=True, max_age=24 * 60 * 60)
def qr_image(request, area_code, kind):
    area = _area_or_404(area_code)
    url = qr.report_url(request, area.code)
    if kind == "png":
        return HttpResponse(qr.png(url), content_type="image/png")
    response = HttpResponse(qr.svg(url), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="{area.code}.svg"'
    return response


# --- public: tracking and rating ------------------------------------------------------------


@never_cache
def track(request):
    error, status = "", 200
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            ip = ratelimit.client_ip(request)
            code = services.normalise_code(form.cleaned_data["code"])
            # Keyed reports cannot be guessed, so only the guesser's network and its tries at
            # this code are limited: nobody can lock a reporter out of their own report.
            legacy = selectors.is_legacy(selectors.report_by_code(code))
            if (
                ratelimit.exhausted("track_ip", ip)
                or ratelimit.exhausted("track_pair", f"{ip}|{code}")
                or (legacy and ratelimit.exhausted("track_code", code))
            ):
                error, status = TOO_MANY_TRIES, 429
            elif not form.cleaned_data["secret"] and selectors.case_for_tracking(code):
                # A code from an SMS (a case filed by staff) opens by itself.
                return redirect("resident_public:case", code=code)
            elif not form.cleaned_data["secret"] and selectors.report_by_code(code):
                form.add_error("secret", KEY_NEEDED)
            else:
                found = selectors.report_for_tracking(code, form.cleaned_data["secret"])
                if found is not None:
                    _remember(request, found)
                    return redirect("resident_public:case", code=found.tracking_code)
                ratelimit.hit("track_ip", ip)
                ratelimit.hit("track_pair", f"{ip}|{code}")
                if legacy:
                    ratelimit.hit("track_code", code)
                error = NO_MATCH
                # Keep the code for a second try, never echo the secret back.
                form = TrackForm(initial={"code": form.cleaned_data["code"]})
    else:
        form = TrackForm(initial={"code": request.GET.get("code", "")[:20]})
    context = {"form": form, "error": error}
    return _noindex(render(request, "residents/track.html", context, status=status))


def _tracked_or_none(request, code):
    found = selectors.report_by_code(code)
    if found is None or found.pk not in request.session.get(SESSION_TRACKED, []):
        return None
    return found


def _to_lookup(code):
    return redirect(f"{reverse('resident_public:track')}?code={services.normalise_code(code)}")


@never_cache
def track_case(request, code):
    """A resident's own report (opened in this browser with its key), or a case filed by
    staff, whose code (sent to the applicant by SMS) opens it by itself."""
    if selectors.report_by_code(code) is None:
        tracking = _case_tracking_or_none(request, code)
        if tracking is None:
            return _to_lookup(code)
        context = selectors.code_tracking(tracking)
        return _noindex(render(request, "residents/track_code.html", context))
    found = _tracked_or_none(request, code)
    if found is None:
        return _to_lookup(code)
    return _render_tracking(request, found, RatingForm())


def _case_tracking_or_none(request, code):
    """The staff-filed case of a code; a wrong code counts against the network's lookups
    (as on the lookup form), so codes cannot be tried here without limit either."""
    ip = ratelimit.client_ip(request)
    if ratelimit.exhausted("track_ip", ip):
        return None
    tracking = selectors.case_for_tracking(code)
    if tracking is None:
        ratelimit.hit("track_ip", ip)
    return tracking


@never_cache
@require_POST
def sms_off(request, code):
    """The applicant of a staff-filed case turns its SMS off ("no more SMS")."""
    tracking = _case_tracking_or_none(request, code)
    if tracking is None:
        return _to_lookup(code)
    case_services.tracking_sms_stop(tracking=tracking)
    messages.success(request, _("You will get no more SMS about this case."))
    return redirect("resident_public:case", code=tracking.code)


def _render_tracking(request, found, rating_form, error: str = "", status: int = 200):
    context = {**selectors.tracking(found), "rating_form": rating_form, "error": error}
    return _noindex(render(request, "residents/track_case.html", context, status=status))


@never_cache
@require_POST
def rate(request, code):
    found = _tracked_or_none(request, code)
    if found is None:
        return _to_lookup(code)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.rating_submit(
                report=found,
                satisfaction=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["comment"],
            )
        except services.Conflict as exc:
            return _render_tracking(request, found, RatingForm(), exc.message, 409)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Thank you for your rating."))
            return redirect("resident_public:case", code=found.tracking_code)
    found.refresh_from_db()
    return _render_tracking(request, found, form)


# --- staff: posters -------------------------------------------------------------------------


@login_required
def posters(request):
    text = request.GET.get("q", "").strip()[:50]
    page = Paginator(selectors.poster_areas(user=request.user, text=text), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    crumbs = area_breadcrumbs(list(page.object_list))
    rows = [{"area": a, "place": crumbs[a.pk]} for a in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "q": text,
        "query": urlencode({"q": text}) if text else "",
    }
    return render(request, "residents/posters.html", context)


@login_required
def poster(request, area_code):
    area = get_object_or_404(
        Area.objects.visible_to(request.user), code=area_code, level__in=REPORT_LEVELS
    )
    url = qr.report_url(request, area.code)
    context = {
        "area": area,
        "place": area_breadcrumbs([area])[area.pk],
        "url": url,
        "svg": qr.svg_inline(url),
    }
    return render(request, "residents/poster.html", context)


# --- staff: the resident section of a case page -------------------------------------------------


def _case_or_404(user, pk) -> Case:
    try:
        return case_selectors.case_detail(user=user, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


def _back(request, case_pk: int):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect("disputes:detail", pk=case_pk)


def _panel_action(request, case: Case, action, form=None):
    """Run a case-page action. Success: back to the case page; with htmx the browser follows
    the redirect and swaps the whole case panel (status and timeline change too). Failure:
    only the resident section is swapped, carrying the error."""
    error = ""
    if form is None or form.is_valid():
        outcome = attempt(action, form=form)
        if outcome.ok:
            if not request.htmx:
                messages.success(request, _("Saved."))
            return _back(request, case.pk)
        error = outcome.error or " ".join(m for errs in form.errors.values() for m in errs)
    elif not isinstance(form, PublicNoteForm):
        # The small forms in the panel (decisions) show their messages in one line.
        error = " ".join(m for errors in form.errors.values() for m in errors)
    if isinstance(form, PublicNoteForm) and form.errors:
        error = ""  # shown under the field itself
    if not request.htmx:
        messages.error(request, error or _("Please correct the errors below."))
        return _back(request, case.pk)
    case = _case_or_404(request.user, case.pk)
    context = {"case": case, "panel_error": error}
    if isinstance(form, PublicNoteForm):
        context["note_form"] = form
    response = render(request, "residents/_public_update.html", context)
    response["HX-Retarget"] = "#resident-panel"
    response["HX-Reselect"] = "#resident-panel"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def public_note(request, pk):
    case = _case_or_404(request.user, pk)
    form = PublicNoteForm(request.POST)

    def action():
        services.public_note_add(case=case, actor=request.user, note=form.cleaned_data["note"])

    return _panel_action(request, case, action, form)


@login_required
@require_POST
def public_publish(request, pk, event_id):
    case = _case_or_404(request.user, pk)
    event = get_object_or_404(CaseEvent, pk=event_id, case=case)
    return _panel_action(
        request, case, lambda: services.public_update_publish(event=event, actor=request.user)
    )


@login_required
@require_POST
def public_withdraw(request, pk, update_id):
    case = _case_or_404(request.user, pk)
    update = get_object_or_404(PublicUpdate, pk=update_id, case=case)
    return _panel_action(
        request, case, lambda: services.public_update_withdraw(update=update, actor=request.user)
    )


@login_required
@require_POST
def reopen_decide(request, pk):
    visible = Case.objects.visible_to(request.user).values("pk")
    reopen = get_object_or_404(ReopenRequest, pk=pk, case_id__in=visible)
    case = _case_or_404(request.user, reopen.case_id)
    form = ReopenDecisionForm(request.POST)

    def action():
        services.reopen_decide(
            request=reopen,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        )

    return _panel_action(request, case, action, form)


# --- staff: reopen requests and callbacks -----------------------------------------------------


@login_required
def reopen_requests(request):
    status = request.GET.get("status", ReopenRequest.Status.PENDING)
    if status not in (*ReopenRequest.Status.values, "all"):
        status = ReopenRequest.Status.PENDING
    qs = selectors.reopen_requests(user=request.user, status=None if status == "all" else status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    pending = ReopenRequest.Status.PENDING
    rows = [
        {
            "request": r,
            "can_decide": r.status == pending and permissions.supervises(request.user, r.case),
        }
        for r in page.object_list
    ]
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": [*ReopenRequest.Status.choices, ("all", _("All"))],
        "query": urlencode({"status": status}),
    }
    return render(request, "residents/reopen_requests.html", context)


OPEN_TASKS = "open"


@login_required
def callbacks(request):
    if permissions.callback_paths(request.user) == ():
        raise PermissionDenied
    status = request.GET.get("status", OPEN_TASKS)
    qs = selectors.callback_tasks(user=request.user)
    if status == OPEN_TASKS:
        qs = qs.exclude(status=CallbackTask.Status.DONE)
    elif status in CallbackTask.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    filters = [(OPEN_TASKS, _("To do")), *CallbackTask.Status.choices, ("all", _("All"))]
    context = {
        "page": page,
        "status": status,
        "statuses": filters,
        "query": urlencode({"status": status}),
    }
    return render(request, "residents/callbacks.html", context)


@login_required
def callback(request, pk):
    try:
        task = selectors.callback_task(user=request.user, pk=pk)
    except CallbackTask.DoesNotExist as exc:
        raise Http404 from exc
    error, status = "", 200
    if request.method == "POST":
        form = CallbackForm(request.POST)
        if form.is_valid():
            outcome = attempt(
                lambda: callback_record(task=task, actor=request.user, **form.service_kwargs()),
                form=form,
            )
            if outcome.ok:
                messages.success(request, _("Callback recorded."))
                return redirect("residents:callbacks")
            if outcome.error:
                error, status = outcome.error, outcome.status
    else:
        form = CallbackForm()
    applicants = [p for p in task.case.parties.all() if p.side == "applicant"]
    context = {"task": task, "form": form, "error": error, "applicants": applicants}
    return render(request, "residents/callback.html", context, status=status)
