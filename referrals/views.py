"""Linkage referral pages (phone first): the list, recording one from the case, its page
with the result and the extension, and the case page's section."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.errors import attempt
from disputes.models import Case

from . import selectors, services
from .forms import ExtendForm, ReferralForm, ResultForm, StatusFilter
from .models import Referral

PAGE_SIZE = 20


def _case_or_404(user, pk) -> Case:
    try:
        return Case.objects.visible_to(user).select_related("handling_area", "mediator").get(pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


def _referral_or_404(user, pk) -> Referral:
    try:
        return selectors.referral_detail(user=user, pk=pk)
    except Referral.DoesNotExist as exc:
        raise Http404(_("No such referral.")) from exc


def case_section(request, case) -> str:
    """The case page's section (registered in apps.ready); the page checked the viewer."""
    context = {
        "case": case,
        "referrals": selectors.case_referrals(case),
        "can_record": services.may_handle(request.user, case),
    }
    return render_to_string("referrals/_case_section.html", context, request=request)


@login_required
def referral_list(request):
    form = StatusFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.referral_list(user=request.user, filters=filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "referrals/list.html", context)


@login_required
def referral_new(request, case_pk):
    case = _case_or_404(request.user, case_pk)
    if not services.may_handle(request.user, case):
        raise PermissionDenied
    status = 200
    error = ""
    if request.method == "POST":
        form = ReferralForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            outcome = attempt(
                lambda: services.referral_record(case=case, actor=request.user, **data),
                form=form,
            )
            if outcome.ok:
                messages.success(request, _("Referral recorded."))
                return redirect("referrals:detail", pk=outcome.result.pk)
            error, status = outcome.error, outcome.status
        else:
            status = 400
    else:
        form = ReferralForm()
    context = {"case": case, "form": form, "error": error}
    return render(request, "referrals/new.html", context, status=status)


def _detail_context(request, referral, **forms) -> dict:
    return {
        "referral": referral,
        "case": referral.case,
        "can_act": services.may_handle(request.user, referral.case),
        "result_form": forms.get("result_form") or ResultForm(),
        "extend_form": forms.get("extend_form") or ExtendForm(),
        "open_action": forms.get("open_action", ""),
        "error": forms.get("error", ""),
    }


@login_required
def referral_detail(request, pk):
    referral = _referral_or_404(request.user, pk)
    return render(request, "referrals/detail.html", _detail_context(request, referral))


def _action(request, pk, form_class, name, call):
    referral = _referral_or_404(request.user, pk)
    if not services.may_handle(request.user, referral.case):
        raise PermissionDenied
    form = form_class(request.POST)
    status, error = 400, ""
    if form.is_valid():
        outcome = attempt(lambda: call(referral, form.cleaned_data), form=form)
        if outcome.ok:
            messages.success(request, _("Saved."))
            return redirect("referrals:detail", pk=pk)
        status, error = outcome.status, outcome.error
    referral = _referral_or_404(request.user, pk)
    context = _detail_context(
        request, referral, **{f"{name}_form": form, "open_action": name, "error": error}
    )
    return render(request, "referrals/detail.html", context, status=status)


@login_required
@require_POST
def referral_result(request, pk):
    return _action(
        request,
        pk,
        ResultForm,
        "result",
        lambda r, d: services.referral_result(referral=r, actor=request.user, **d),
    )


@login_required
@require_POST
def referral_extend(request, pk):
    return _action(
        request,
        pk,
        ExtendForm,
        "extend",
        lambda r, d: services.referral_extend(referral=r, actor=request.user, **d),
    )
