"""The papers of a case's mediation: printing (request, progress, download), signing on the
phone, the signed scan, performance and judicial confirmation, and the files behind them
(signature images, proofs, court papers). Every URL is scoped to the case: 404 outside it;
a viewer who may not see the parties' numbers gets the masked PDF."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import (
    ConfirmationApplyForm,
    ConfirmationRecordForm,
    PerformForm,
    ScanForm,
    SignatureForm,
)
from .models import (
    Agreement,
    Document,
    DocumentKind,
    DocumentStatus,
    JudicialConfirmation,
    MediationSession,
    Obligation,
    Signature,
)
from .pages import base_context, case_or_404, run
from .permissions import may_mediate, sees_party_details
from .views import overview_url, signing_state


def _get(queryset, **lookup):
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def _served(field_file, *, content_type: str, filename: str):
    response = FileResponse(field_file.open("rb"), content_type=content_type, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def document_request(request, case_id):
    """Print a paper: `kind` notice / record (with `session`) / agreement (the draft)."""
    case = case_or_404(request.user, case_id)
    kind = request.POST.get("kind", "")
    if kind not in DocumentKind.values:
        context = base_context(request, case) | {"error": _("Choose a paper to print.")}
        return render(request, "mediation/error.html", context, status=400)
    session = agreement = None
    if kind == DocumentKind.RECORD:
        session = _get(
            MediationSession.objects.filter(case=case), pk=_int(request.POST.get("session"))
        )
    if kind == DocumentKind.AGREEMENT:
        agreement = _get(
            Agreement.objects.filter(case=case), pk=_int(request.POST.get("agreement"))
        )
    return run(
        request,
        lambda: services.document_request(
            case=case, actor=request.user, kind=kind, session=session, agreement=agreement
        ),
        form=None,
        template="mediation/error.html",
        context=base_context(request, case),
        done=lambda d: reverse("mediation:document", args=[case.pk, d.pk]),
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


@login_required
def document_page(request, case_id, pk):
    """The paper being prepared: a progress bar the page polls (htmx) until it is ready."""
    document = _document(request, case_id, pk)
    context = {"case": document.case, "document": document}
    if request.htmx:
        return render(request, "mediation/_document_status.html", context)
    return render(request, "mediation/document.html", context)


def _document(request, case_id, pk) -> Document:
    try:
        return selectors.document_of(user=request.user, case_id=case_id, pk=pk)
    except Document.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def document_download(request, case_id, pk):
    document = _document(request, case_id, pk)
    if document.status != DocumentStatus.READY:
        raise Http404
    full = sees_party_details(request.user, document.case)
    if not full and not document.masked_file:
        # A scanned signed paper cannot be masked.
        raise PermissionDenied(_("Only the people handling this case may open the signed scan."))
    field_file = document.file if full else document.masked_file
    return _served(field_file, content_type="application/pdf", filename=document.filename)


@login_required
def agreement_sign(request, case_id, pk):
    """The phone passed from hand to hand: each party, then the mediator, signs in the box."""
    case = case_or_404(request.user, case_id)
    agreement = _get(Agreement.objects.filter(case=case).select_related("mediator"), pk=pk)
    if not may_mediate(request.user, case):
        raise PermissionDenied
    state = signing_state(agreement)
    choices = [(s["key"], s["name"]) for s in state["signers"] if s["signature"] is None]
    form = SignatureForm(request.POST or None, signers=choices)
    context = (
        base_context(request, case)
        | state
        | {"agreement": agreement, "form": form, "scan_form": ScanForm()}
    )
    if request.method != "POST":
        return render(request, "mediation/sign.html", context)
    if not form.is_valid():
        return render(request, "mediation/sign.html", context, status=400)
    return run(
        request,
        lambda: services.signature_add(
            agreement=agreement,
            actor=request.user,
            signer=form.cleaned_data["signer"],
            image=form.cleaned_data["image"],
        ),
        form=form,
        template="mediation/sign.html",
        context=context,
        done=lambda s: reverse("mediation:sign", args=[case.pk, agreement.pk]),
    )


@login_required
@require_POST
def agreement_scan(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    agreement = _get(Agreement.objects.filter(case=case), pk=pk)
    form = ScanForm(request.POST, request.FILES)
    context = (
        base_context(request, case)
        | signing_state(agreement)
        | {
            "agreement": agreement,
            "scan_form": form,
            "form": SignatureForm(signers=[]),
        }
    )
    if not form.is_valid():
        return render(request, "mediation/sign.html", context, status=400)
    return run(
        request,
        lambda: services.signature_scan(
            agreement=agreement, actor=request.user, scan=form.cleaned_data["scan"]
        ),
        form=form,
        template="mediation/sign.html",
        context=context,
        done=lambda a: overview_url(case) + "#agreement",
    )


@login_required
def signature_image(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    signature = _get(Signature.objects.filter(agreement__case=case), pk=pk)
    return _served(signature.image, content_type="image/png", filename=f"signature-{pk}.png")


@login_required
@require_POST
def obligation_perform(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    obligation = _get(
        Obligation.objects.filter(agreement__case=case).select_related("agreement"), pk=pk
    )
    form = PerformForm(request.POST, request.FILES)
    return _submit(
        request,
        case,
        form,
        lambda data: services.obligation_perform(
            obligation=obligation, actor=request.user, note=data["note"], proof=data["proof"]
        ),
        anchor="#performance",
    )


@login_required
def obligation_proof(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    obligation = _get(Obligation.objects.filter(agreement__case=case).exclude(proof=""), pk=pk)
    return _served(
        obligation.proof,
        content_type=_sniffed(obligation.proof),
        filename=obligation.proof.name.rsplit("/", 1)[-1],
    )


def _sniffed(field_file) -> str:
    with field_file.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF"):
        return "application/pdf"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    return "image/jpeg"


@login_required
@require_POST
def confirmation_apply(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    agreement = _get(Agreement.objects.filter(case=case), pk=pk)
    form = ConfirmationApplyForm(request.POST)
    return _submit(
        request,
        case,
        form,
        lambda data: services.confirmation_apply(
            agreement=agreement,
            actor=request.user,
            court=data["court"],
            applied_on=data["applied_on"],
        ),
        anchor="#confirmation",
    )


@login_required
@require_POST
def confirmation_record(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    confirmation = _get(
        JudicialConfirmation.objects.filter(agreement__case=case).select_related("agreement"), pk=pk
    )
    form = ConfirmationRecordForm(request.POST, request.FILES)
    return _submit(
        request,
        case,
        form,
        lambda data: services.confirmation_record(
            confirmation=confirmation,
            actor=request.user,
            status=data["status"],
            decided_on=data["decided_on"],
            ruling_number=data["ruling_number"],
            ruling_date=data["ruling_date"],
            papers=data["papers"],
        ),
        anchor="#confirmation",
    )


def _submit(request, case, form, call, *, anchor: str):
    """A form posted from the overview's panels: 400 with what to correct, or the service
    (its refusals answered by `run`), then back to the panel."""
    context = base_context(request, case) | {"form": form}
    if not form.is_valid():
        return render(
            request,
            "mediation/error.html",
            context | {"error": _("Please correct the errors below.")},
            status=400,
        )
    return run(
        request,
        lambda: call(form.cleaned_data),
        form=form,
        template="mediation/error.html",
        context=context,
        done=lambda _result: overview_url(case) + anchor,
    )


@login_required
def confirmation_papers(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    confirmation = _get(
        JudicialConfirmation.objects.filter(agreement__case=case).exclude(papers=""), pk=pk
    )
    if not sees_party_details(request.user, case):
        # Court papers name the parties in full and cannot be masked.
        raise PermissionDenied
    return _served(confirmation.papers, content_type="application/pdf", filename=f"ruling-{pk}.pdf")
