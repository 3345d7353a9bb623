"""The mediation pages of a case: its overview, sessions (schedule, record on the spot) and
the agreement (fill in, new version). Papers, signing and performance: paper_views.py."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import selectors, services
from .forms import AgreementForm, ObligationFormSet, RecordForm, SessionForm
from .models import Agreement, AgreementTemplate, MediationSession
from .pages import base_context, case_or_404, run
from .permissions import may_mediate
from .services.agreements import AgreementFrozen, template_for
from .services.signing import required_signers, signer_key


def _require_mediator(user, case):
    if not may_mediate(user, case):
        raise PermissionDenied


def overview_url(case) -> str:
    return reverse("mediation:overview", args=[case.pk])


@login_required
def overview(request, case_id):
    """Everything of a case's mediation on one page, readable by whoever sees the case."""
    case = case_or_404(request.user, case_id)
    agreement = selectors.current_agreement(case)
    documents = selectors.documents_of(case)
    context = base_context(request, case) | {
        "sessions": selectors.sessions_of(case),
        "agreement": agreement,
        "documents": selectors.latest_documents(documents),
        "notice": next((d for d in documents if d.kind == "notice"), None),
    }
    if agreement is not None:
        context |= signing_state(agreement)
    return render(request, "mediation/overview.html", context)


def signing_state(agreement) -> dict:
    signed = {signer_key(s): s for s in agreement.signatures.all()}
    names = {f"party:{p.pk}": p.name for p in agreement.case.parties.all()}
    names["mediator"] = agreement.mediator.display_name
    return {
        "signers": [
            {"key": key, "name": names[key], "signature": signed.get(key)}
            for key in required_signers(agreement)
        ],
    }


@login_required
def session_new(request, case_id):
    case = case_or_404(request.user, case_id)
    _require_mediator(request.user, case)
    people = {
        "mediators": selectors.mediator_choices(case),
        "officers": selectors.officer_choices(case),
    }
    initial = {"mediators": [case.mediator_id or request.user.pk]}
    form = SessionForm(request.POST or None, initial=initial, **people)
    context = base_context(request, case) | {"form": form}
    if request.method != "POST":
        return render(request, "mediation/session_form.html", context)
    if not form.is_valid():
        return render(request, "mediation/session_form.html", context, status=400)
    data = form.cleaned_data
    return run(
        request,
        lambda: services.session_schedule(
            case=case,
            actor=request.user,
            starts_at=data["starts_at"],
            place=data["place"],
            online=data["online"],
            online_link=data["online_link"],
            mediators=list(data["mediators"]),
            invited=list(data["invited"]),
        ),
        form=form,
        template="mediation/session_form.html",
        context=context,
        done=lambda session: reverse("mediation:session", args=[case.pk, session.pk]),
    )


@login_required
def session_detail(request, case_id, pk):
    """The session, and its record typed on the spot (a phone on the table, or a PC)."""
    case = case_or_404(request.user, case_id)
    try:
        session = selectors.session_of(case, pk)
    except MediationSession.DoesNotExist as exc:
        raise Http404 from exc
    initial = {
        "record": session.record,
        "version": session.version,
        "present": [str(a.pk) for a in session.attendance.all() if a.present],
    }
    form = RecordForm(request.POST or None, initial=initial, session=session)
    documents = selectors.latest_documents(selectors.documents_of(case))
    context = base_context(request, case) | {
        "session": session,
        "form": form,
        "record_document": documents.get(("record", session.pk, False)),
    }
    if request.method != "POST":
        return render(request, "mediation/session.html", context)
    _require_mediator(request.user, case)
    if not form.is_valid():
        return render(request, "mediation/session.html", context, status=400)
    data = form.cleaned_data
    return run(
        request,
        lambda: services.session_record(
            session=session,
            actor=request.user,
            record_text=data["record"],
            present={int(p) for p in data["present"]},
            version=data["version"],
        ),
        form=form,
        template="mediation/session.html",
        context=context,
        done=lambda s: reverse("mediation:session", args=[case.pk, s.pk]),
    )


def _obligation_rows(formset) -> list[dict]:
    return [
        f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
    ]


@login_required
def agreement_edit(request, case_id):
    """Fill in the agreement (a new one from the type's template, or the current draft)."""
    case = case_or_404(request.user, case_id)
    _require_mediator(request.user, case)
    agreement = selectors.current_agreement(case)
    if agreement is not None and agreement.frozen:
        error = AgreementFrozen().message
        return render(
            request,
            "mediation/error.html",
            base_context(request, case) | {"error": error},
            status=409,
        )
    parties = list(case.parties.all())
    if agreement is not None:
        initial = {
            "facts": agreement.facts,
            "disputed_items": agreement.disputed_items,
            "clauses": agreement.clauses,
            "revision": agreement.revision,
        }
        rows = [
            {
                "party": o.party_id,
                "description": o.description,
                "amount": o.amount,
                "due_on": o.due_on,
                "manner": o.manner,
            }
            for o in agreement.obligations.all()
        ]
    else:
        template = template_for(case.category) or AgreementTemplate(clauses="")
        initial = {
            "facts": template.facts_hint or case.description or case.cause,
            "disputed_items": template.items_hint,
            "clauses": template.clauses,
        }
        rows = [{}]
    form = AgreementForm(request.POST or None, initial=initial)
    formset = ObligationFormSet(
        request.POST or None,
        initial=None if request.POST else rows,
        prefix="ob",
        form_kwargs={"parties": parties},
    )
    context = base_context(request, case) | {
        "form": form,
        "formset": formset,
        "agreement": agreement,
    }
    if request.method != "POST":
        return render(request, "mediation/agreement_form.html", context)
    if not (form.is_valid() and formset.is_valid()):
        return render(request, "mediation/agreement_form.html", context, status=400)
    data = form.cleaned_data
    obligations = _obligation_rows(formset)
    if agreement is None:
        call = lambda: services.agreement_create(  # noqa: E731
            case=case,
            actor=request.user,
            facts=data["facts"],
            disputed_items=data["disputed_items"],
            clauses=data["clauses"],
            obligations=obligations,
        )
    else:
        call = lambda: services.agreement_update(  # noqa: E731
            agreement=agreement,
            actor=request.user,
            facts=data["facts"],
            disputed_items=data["disputed_items"],
            clauses=data["clauses"],
            obligations=obligations,
            revision=data["revision"] or 0,
        )
    return run(
        request,
        call,
        form=form,
        template="mediation/agreement_form.html",
        context=context,
        done=lambda a: overview_url(case) + "#agreement",
    )


@login_required
@require_POST
def agreement_new_version(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    try:
        agreement = selectors.agreement_of(case, pk)
    except Agreement.DoesNotExist as exc:
        raise Http404 from exc
    return run(
        request,
        lambda: services.agreement_new_version(agreement=agreement, actor=request.user),
        form=None,
        template="mediation/error.html",
        context=base_context(request, case),
        done=lambda a: reverse("mediation:agreement_edit", args=[case.pk]),
    )


@login_required
@require_POST
def session_cancel(request, case_id, pk):
    case = case_or_404(request.user, case_id)
    try:
        session = selectors.session_of(case, pk)
    except MediationSession.DoesNotExist as exc:
        raise Http404 from exc
    return run(
        request,
        lambda: services.session_cancel(
            session=session, actor=request.user, reason=request.POST.get("reason", "")
        ),
        form=None,
        template="mediation/error.html",
        context=base_context(request, case),
        done=lambda s: reverse("mediation:session", args=[case.pk, s.pk]),
    )
