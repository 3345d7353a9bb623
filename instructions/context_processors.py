"""The banner of instructions waiting to be acknowledged, on every page that extends
base.html: one indexed query (instr_inbox), made only when the page renders the banner."""

from django.utils.functional import SimpleLazyObject

from .selectors import BANNER_ROWS, pending_for


def pending_instructions(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "pending_instructions": SimpleLazyObject(lambda: pending_for(user)),
        "banner_rows": BANNER_ROWS,
    }
