"""Instruction pages: send, follow the progress (counts refreshed by htmx every 5 s from
`progress`, a partial that a live push could later send as is), remind; and for recipients
their list, one instruction (opening it marks it read) and 已签收 (in place, with htmx)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.errors import attempt

from . import selectors, services
from .forms import SendForm
from .models import Instruction, InstructionEvent, InstructionRecipient
from .scope import may_send

PAGE_SIZE = 20


def _followed_or_404(user, pk) -> Instruction:
    try:
        return selectors.instruction_detail(user=user, pk=pk)
    except Instruction.DoesNotExist as exc:
        raise Http404(_("No such instruction.")) from exc


def _receipt_or_404(user, pk) -> InstructionRecipient:
    try:
        return selectors.receipt_for(user=user, instruction_pk=pk)
    except InstructionRecipient.DoesNotExist as exc:
        raise Http404(_("No such instruction.")) from exc


# --- senders -------------------------------------------------------------------------------


@login_required
def sent_list(request):
    page = Paginator(selectors.sent_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    progress = selectors.progress_of(page.object_list)
    rows = [(i, progress.get(i.pk, selectors.Progress())) for i in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "can_send": may_send(request.user),
        "now": timezone.now(),
    }
    return render(request, "instructions/sent_list.html", context)


@login_required
def send(request):
    if not may_send(request.user):
        raise PermissionDenied
    form = SendForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = attempt(
                lambda: services.instruction_send(actor=request.user, **form.cleaned_data),
                form=form,
                forbidden=_("You may not send instructions to this area."),
            )
            if outcome.ok:
                messages.success(
                    request,
                    _("Sent to %(n)d people.") % {"n": outcome.result.recipient_count},
                )
                return redirect("instructions:detail", pk=outcome.result.pk)
            status = outcome.status
            if outcome.error:
                form.add_error(None, outcome.error)
    return render(request, "instructions/send.html", {"form": form}, status=status)


def _progress_context(instruction: Instruction) -> dict:
    report = selectors.progress_report(instruction)
    return {"instruction": instruction, "report": report, "now": timezone.now()}


def _branch(value: str) -> int | None:
    """?branch=: a child area's id, 0 for the instruction's area itself; else all."""
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= selectors.MAX_ID else None


@login_required
def detail(request, pk):
    instruction = _followed_or_404(request.user, pk)
    branch = _branch(request.GET.get("branch", ""))
    laggards = selectors.laggard_list(instruction=instruction, branch=branch)
    page = Paginator(laggards, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _progress_context(instruction) | {
        "page": page,
        "query": f"branch={branch}" if branch else "",
        "branch": branch,
        "events": list(instruction.events.select_related("actor")),
        "can_remind": services.may_remind(request.user, instruction),
        "remind_every_minutes": int(services.REMIND_EVERY.total_seconds() // 60),
        "event_kinds": InstructionEvent.Kind,
    }
    return render(request, "instructions/detail.html", context)


@login_required
def progress(request, pk):
    """The counts alone, for the page's polling (and, later, a live push)."""
    instruction = _followed_or_404(request.user, pk)
    context = _progress_context(instruction)
    response = render(request, "instructions/_progress.html", context)
    if request.GET.get("seen") != context["report"].seen:
        # Someone read or acknowledged since the page's last look: its list reloads too.
        response["HX-Trigger"] = "instruction-progress-changed"
    return response


@login_required
@require_POST
def remind(request, pk):
    instruction = _followed_or_404(request.user, pk)
    outcome = attempt(
        lambda: services.instruction_remind(instruction=instruction, actor=request.user),
        forbidden=_("You may not remind the recipients of this instruction."),
    )
    if outcome.ok:
        text = (
            _("Reminded %(n)d people by text message.") % {"n": outcome.result}
            if outcome.result
            else _("Everyone who has not acknowledged was reminded within the last hour.")
        )
        level = "success" if outcome.result else "info"
    else:
        text, level = outcome.error, "danger"
    if request.htmx:
        context = {"text": text, "level": level}
        return render(request, "instructions/_remind_result.html", context, status=outcome.status)
    getattr(messages, "error" if level == "danger" else level)(request, text)
    return redirect("instructions:detail", pk=pk)


# --- recipients ----------------------------------------------------------------------------


@login_required
def received(request):
    page = Paginator(selectors.received_list(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "instructions/received.html", {"page": page, "now": timezone.now()})


@login_required
def view(request, pk):
    receipt = _receipt_or_404(request.user, pk)
    # Opening it is reading it (kept at the first opening).
    receipt = services.instruction_open(
        instruction=receipt.instruction, actor=request.user, receipt=receipt
    )
    context = {"receipt": receipt, "instruction": receipt.instruction, "now": timezone.now()}
    return render(request, "instructions/view.html", context)


@login_required
@require_POST
def ack(request, pk):
    receipt = _receipt_or_404(request.user, pk)
    receipt = services.instruction_ack(
        instruction=receipt.instruction, actor=request.user, receipt=receipt
    )
    if request.htmx:
        template = (
            "instructions/_banner_acked.html"
            if request.POST.get("from") == "banner"
            else "instructions/_ack_panel.html"
        )
        context = {"receipt": receipt, "instruction": receipt.instruction, "oob": True}
        return render(request, template, context)
    messages.success(request, _("Acknowledged."))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("instructions:view", pk=pk)
