import csv

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.errors import attempt, errors_to_form
from grids.models import Area, AreaLevel
from grids.selectors import user_scope

from . import permissions, selectors, services
from .forms import (
    CancelForm,
    ConvertForm,
    HoldForm,
    ReplyForm,
    ReportCardForm,
    SessionFilterForm,
    SessionForm,
    StaffForm,
    VisitForm,
)
from .models import ReceptionSession, SessionStatus, Visit

PAGE_SIZE = 20


def _session_or_404(user, pk) -> ReceptionSession:
    try:
        return selectors.session_detail(user=user, pk=pk)
    except ReceptionSession.DoesNotExist as exc:
        raise Http404(_("No such session.")) from exc


# --- lists ---------------------------------------------------------------------------------


@login_required
def my_sessions(request):
    context = selectors.my_sessions(user=request.user) | {"today": timezone.localdate()}
    return render(request, "reception_days/mine.html", context)


@login_required
def session_list(request):
    form = SessionFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.session_list(user=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_create": permissions.can_organise_somewhere(request.user),
        "today": timezone.localdate(),
    }
    return render(request, "reception_days/list.html", context)


def _organised_communities(user):
    scope = user_scope(user)
    communities = Area.objects.visible_to(user).filter(level=AreaLevel.COMMUNITY)
    if scope.sees_everything:
        return communities
    paths = [
        a.area.path
        for a in scope.assignments
        if a.area_id and a.role in permissions.ORGANISER_ROLES
    ]
    if not paths:
        return communities.none()
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return communities.filter(condition)


@login_required
def session_create(request):
    if not permissions.can_organise_somewhere(request.user):
        raise PermissionDenied
    communities = _organised_communities(request.user)
    form = SessionForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_create(actor=request.user, **data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Session created."))
            return redirect("reception_days:detail", pk=session.pk)
    return render(request, "reception_days/session_form.html", {"form": form})


# --- one session ---------------------------------------------------------------------------


def _visit_forms(session, visits, can_record: bool):
    """Convert and reply forms for each visit. The dispute types and the grids are read once
    and shared, so a session with many visits still renders in a fixed number of queries."""
    if not can_record:
        return
    category_choices = grid_choices = None
    for visit in visits:
        visit.session = session
        if visit.case_id is None and not hasattr(visit, "convert_form"):
            visit.convert_form = ConvertForm(visit=visit)
            if category_choices is None:
                category_choices = list(visit.convert_form.fields["category"].choices)
                grid_choices = list(visit.convert_form.fields["grid"].choices)
            visit.convert_form.fields["category"].widget.choices = category_choices
            visit.convert_form.fields["grid"].widget.choices = grid_choices
        if not hasattr(visit, "reply_form"):
            visit.reply_form = ReplyForm(visit=visit)


def _detail_context(request, session, **forms) -> dict:
    can_record = permissions.can_record(request.user, session)
    visits = list(session.visits.all())
    _visit_forms(session, visits, can_record)
    open_for_visits = session.status != SessionStatus.CANCELLED and (
        session.date <= timezone.localdate()
    )
    return {
        "session": session,
        "staff": list(session.staff.all()),
        "visits": visits,
        "can_record": can_record,
        "scheduled": permissions.is_scheduled(request.user, session),
        "open_for_visits": open_for_visits,
        "visit_form": forms.get("visit_form") or VisitForm(),
        "hold_form": forms.get("hold_form") or HoldForm(session=session, viewer=request.user),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "staff_form": forms.get("staff_form") or StaffForm(),
        "today": timezone.localdate(),
    }


@login_required
def session_detail(request, pk):
    session = _session_or_404(request.user, pk)
    return render(request, "reception_days/detail.html", _detail_context(request, session))


@login_required
@require_POST
def visit_add(request, pk):
    """htmx: answers with a fresh form plus the new visit prepended to the list (out of
    band), so the next resident can be entered at once. Without JavaScript: redirect."""
    session = _session_or_404(request.user, pk)
    if not permissions.can_record(request.user, session):
        raise PermissionDenied
    form = VisitForm(request.POST)
    error = ""
    visit = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit = services.visit_record(
                session=session,
                actor=request.user,
                resident_name=data["resident_name"],
                resident_phone=data["resident_phone"],
                people=data["people"],
                issue=data["issue"],
                services=data["services"],
                is_dispute=data["is_dispute"],
                outcome=data["outcome"],
                advice=data["advice"],
                department=data["department"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        except services.SessionStateError as exc:
            error = exc.message
    if not request.htmx:
        if visit is not None:
            messages.success(request, _("Visit recorded."))
            return redirect("reception_days:detail", pk=pk)
        if error:
            messages.error(request, error)
            return redirect("reception_days:detail", pk=pk)
        context = _detail_context(request, session, visit_form=form)
        return render(request, "reception_days/detail.html", context, status=400)
    context = {"session": session, "visit_form": form, "visit_error": error, "can_record": True}
    if visit is not None:
        session = _session_or_404(request.user, pk)
        visit = next(v for v in session.visits.all() if v.pk == visit.pk)
        _visit_forms(session, [visit], True)
        fresh = VisitForm()
        # The next resident is usually waiting: the cursor goes back to the name.
        fresh.fields["resident_name"].widget.attrs["autofocus"] = True
        context |= {
            "session": session,
            "visit_form": fresh,
            "new_visit": visit,
            "visit_count": len(session.visits.all()),
        }
    return render(request, "reception_days/_visit_added.html", context)


def _visit_or_404(session, visit_id) -> Visit:
    try:
        return selectors.visit_for_update(session=session, pk=visit_id)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc


def _visit_row(request, session, visit_id, *, error="", status=200, **forms):
    visit = _visit_or_404(session, visit_id)
    for name, form in forms.items():
        setattr(visit, name, form)
    _visit_forms(session, [visit], permissions.can_record(request.user, session))
    context = {
        "visit": visit,
        "session": session,
        "can_record": permissions.can_record(request.user, session),
        "visit_error": error,
        "open_action": next(iter(forms), "").removesuffix("_form"),
    }
    return render(request, "reception_days/_visit.html", context, status=status)


def _visit_action(request, pk, visit_id, *, form_class, form_name, act):
    """Shared shape of the per-visit actions: validate, call the service, answer with the
    visit's row (htmx) or go back to the session page."""
    session = _session_or_404(request.user, pk)
    if not permissions.can_record(request.user, session):
        raise PermissionDenied
    visit = _visit_or_404(session, visit_id)
    visit.session = session
    form = form_class(request.POST, visit=visit)
    error = ""
    if form.is_valid():
        outcome = attempt(
            lambda: act(visit, form.cleaned_data),
            form=form,
            forbidden=_("You may not do this at this session."),
        )
        error = outcome.error
        if outcome.ok:
            if not request.htmx:
                messages.success(request, _("Saved."))
                return redirect("reception_days:detail", pk=pk)
            return _visit_row(request, session, visit_id)
    if not request.htmx:
        messages.error(request, error or _("Please correct the errors below."))
        return redirect("reception_days:detail", pk=pk)
    forms = {} if error else {form_name: form}
    # htmx swaps only 2xx answers by default; the row carries the error itself.
    return _visit_row(request, session, visit_id, error=error, **forms)


@login_required
@require_POST
def visit_convert(request, pk, visit_id):
    def act(visit, data):
        services.visit_convert(visit=visit, actor=request.user, **data)

    return _visit_action(
        request, pk, visit_id, form_class=ConvertForm, form_name="convert_form", act=act
    )


@login_required
@require_POST
def visit_reply(request, pk, visit_id):
    def act(visit, data):
        services.visit_reply(visit=visit, actor=request.user, reply=data["reply"])

    return _visit_action(
        request, pk, visit_id, form_class=ReplyForm, form_name="reply_form", act=act
    )


def _session_action(request, pk, form, act, form_name):
    """Hold, cancel, add staff: ordinary posts that come back to the session page."""
    session = _session_or_404(request.user, pk)
    if not permissions.can_record(request.user, session):
        raise PermissionDenied
    if form.is_valid():
        outcome = attempt(lambda: act(session, form.cleaned_data), form=form)
        if outcome.ok:
            messages.success(request, _("Saved."))
            return redirect("reception_days:detail", pk=pk)
        if outcome.error:
            messages.error(request, outcome.error)
            return redirect("reception_days:detail", pk=pk)
    context = _detail_context(request, session, **{form_name: form})
    context["open_action"] = form_name.removesuffix("_form")
    return render(request, "reception_days/detail.html", context, status=400)


@login_required
@require_POST
def session_hold(request, pk):
    session = _session_or_404(request.user, pk)
    form = HoldForm(request.POST, session=session)
    return _session_action(
        request,
        pk,
        form,
        lambda s, d: services.session_hold(session=s, actor=request.user, attended=d["attended"]),
        "hold_form",
    )


@login_required
@require_POST
def session_cancel(request, pk):
    return _session_action(
        request,
        pk,
        CancelForm(request.POST),
        lambda s, d: services.session_cancel(session=s, actor=request.user, reason=d["reason"]),
        "cancel_form",
    )


@login_required
@require_POST
def session_add_staff(request, pk):
    return _session_action(
        request,
        pk,
        StaffForm(request.POST),
        lambda s, d: services.session_add_staff(
            session=s, actor=request.user, name=d["name"], duty=d["duty"]
        ),
        "staff_form",
    )


# --- the public notice -------------------------------------------------------------------------


def public_sessions(request, code):
    """No login: the community's next sessions, printed and posted in its compounds. Names
    and roles of the officers only; no phone numbers."""
    community = selectors.community_by_code(code)
    if community is None:
        raise Http404
    url = request.build_absolute_uri()
    context = {
        "community": community,
        **selectors.public_sessions(community=community),
        "qr": segno.make(url, error="m").svg_data_uri(scale=4, border=2),
        "url": url,
    }
    return render(request, "reception_days/public.html", context)


# --- the report card -------------------------------------------------------------------------


def report_card_for(request):
    """(form, card): the card is None when the query string is bad; Http404 when the area is
    outside the user's scope (or does not exist: the two are not told apart)."""
    areas = selectors.report_areas(user=request.user)
    form = ReportCardForm(request.GET or None, areas=areas)
    if request.GET and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    area_id = data.get("area")
    if area_id is None:
        area = selectors.default_report_area(request.user)
        if area is None:
            raise Http404(_("You have no area to report on."))
    else:
        area = areas.filter(pk=area_id).first()
        if area is None:
            raise Http404(_("No such area."))
    card = selectors.report_card(
        area=area,
        date_from=data.get("date_from") or form.default_from,
        date_to=data.get("date_to") or form.default_to,
    )
    if not form.is_bound:
        form = ReportCardForm(
            {"area": area.pk, "date_from": card.date_from, "date_to": card.date_to}, areas=areas
        )
        form.is_valid()
    return form, card


@login_required
def report_card(request):
    form, card = report_card_for(request)
    status = 200 if card is not None else 400
    query = ""
    if card is not None:
        query = f"area={card.area.pk}&date_from={card.date_from}&date_to={card.date_to}"
    return render(
        request,
        "reception_days/report_card.html",
        {"form": form, "card": card, "query": query},
        status=status,
    )


def _rate(value) -> str:
    return "" if value is None else f"{value:.2f}%"


CSV_COLUMNS = [
    ("area", lambda r: r.area.name if r.area else ""),
    ("sessions_held", lambda r: r.sessions_held),
    ("attendances", lambda r: r.attendances),
    ("residents_received", lambda r: r.residents_received),
    ("issues_raised", lambda r: r.issues_raised),
    ("disputes_screened", lambda r: r.disputes_screened),
    ("converted", lambda r: r.converted),
    ("resolved", lambda r: r.resolved),
    ("closed", lambda r: r.closed),
    ("resolution_rate", lambda r: _rate(r.resolution_rate)),
    ("closing_rate", lambda r: _rate(r.closing_rate)),
]


def csv_headers() -> list[str]:
    return [
        _("Area"),
        _("Sessions held"),
        _("Officer attendances"),
        _("Residents received"),
        _("Issues raised"),
        _("Disputes screened"),
        _("Converted into cases"),
        _("Resolved"),
        _("Closed"),
        _("Resolution rate"),
        _("Closing rate"),
    ]


@login_required
def report_card_csv(request):
    """UTF-8 with a byte-order mark: without it Excel on Windows reads the Chinese as GBK."""
    form, card = report_card_for(request)
    if card is None:
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{card.area.name}-{card.date_from}-{card.date_to}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(csv_headers())
    for row in card.rows:
        writer.writerow([value(row) for _name, value in CSV_COLUMNS])
    total = [value(card.total) for _name, value in CSV_COLUMNS]
    total[0] = _("Total: %(area)s") % {"area": card.area.name}
    writer.writerow(total)
    writer.writerow([])
    writer.writerow([_("Period"), f"{card.date_from} – {card.date_to}"])
    return response
