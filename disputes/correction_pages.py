"""The correction page (更正): the case's address, description, area, type and parties as they
are now, editable, with the reason. Opening it shows the parties' phone and ID numbers in
full to edit them, so each opening is recorded as a view of party details (disclosure.py).
The service decides; this page only carries the input there and the answer back."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from common.errors import attempt

from . import disclosure, selectors, services
from .correction_inputs import CorrectForm, CorrectionPartyFormSet, party_rows
from .ledger import TransitionError
from .models import Case
from .services.corrections import PARTY_FIELDS

CORRECTED_FIELDS = ("address", "description", "area", "category", "reason")


def _case_or_404(user, pk) -> Case:
    try:
        return selectors.case_for_correction(user=user, pk=pk)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


def _initial_parties(case: Case) -> list[dict]:
    return [{"id": p.pk, **{f: getattr(p, f) for f in PARTY_FIELDS}} for p in case.parties.all()]


def _fresh(request, case: Case):
    """The form with the case as it is now; its parties' details are shown, and recorded."""
    disclosure.reveal_parties(case=case, actor=request.user, channel="page")
    form = CorrectForm(case=case, user=request.user)
    parties = CorrectionPartyFormSet(prefix="parties", initial=_initial_parties(case))
    return form, parties


@login_required
def case_correct(request, pk):
    case = _case_or_404(request.user, pk)
    if not services.may_correct(request.user, case):
        raise PermissionDenied
    if not case.is_open:
        messages.error(request, TransitionError(case, _("corrected")).message)
        return redirect("disputes:detail", pk=pk)
    status, error = 200, ""
    if request.method == "POST":
        form = CorrectForm(request.POST, case=case, user=request.user)
        parties = CorrectionPartyFormSet(request.POST, prefix="parties")
        if form.is_valid() and parties.is_valid():
            data = {f: form.cleaned_data[f] for f in CORRECTED_FIELDS}
            outcome = attempt(
                lambda: services.case_correct(
                    case=case,
                    actor=request.user,
                    parties=party_rows(parties),
                    apply_new_limits=form.cleaned_data.get("apply_new_limits", False),
                    expected_updated_at=form.cleaned_data["expected_updated_at"],
                    **data,
                ),
                form=form,
            )
            if outcome.ok:
                messages.success(request, _("Record corrected."))
                return redirect("disputes:detail", pk=pk)
            # Bad input is on the form (200, as every page answers it); 403/409 say why.
            error = outcome.error
            status = outcome.status if error else 200
            if status == 409:
                # Changed meanwhile (or closed): start again from the case as it is now.
                case = _case_or_404(request.user, pk)
                if not case.is_open:
                    messages.error(request, error)
                    return redirect("disputes:detail", pk=pk)
                form, parties = _fresh(request, case)
    else:
        form, parties = _fresh(request, case)
    context = {"case": case, "form": form, "parties": parties, "error": error}
    return render(request, "disputes/correct.html", context, status=status)
