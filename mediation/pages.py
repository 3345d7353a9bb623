"""What every mediation page does: find the case in the user's scope (404 outside it), and
run a service so that a forbidden actor gets 403, a state that does not allow it 409, and bad
input the form again with its errors (400)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from common.errors import attempt
from disputes.models import Case

from . import selectors
from .permissions import may_mediate


def case_or_404(user, case_id: int):
    try:
        return selectors.case_for_mediation(user=user, pk=case_id)
    except Case.DoesNotExist as exc:
        raise Http404(_("No such case.")) from exc


def run(request, call, *, form, template: str, context: dict, done):
    """`done(result)` gives the URL to go to after success."""
    outcome = attempt(call, form=form)
    if outcome.ok:
        messages.success(request, _("Saved."))
        return redirect(done(outcome.result))
    context = {**context, "error": outcome.error}
    return render(request, template, context, status=outcome.status)


def base_context(request, case) -> dict:
    return {"case": case, "may_mediate": may_mediate(request.user, case)}
