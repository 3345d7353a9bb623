"""The 调解 section of the case page (disputes/case_sections.py): the sessions, the current
agreement with its signatures and obligations, the judicial confirmation, and links to the
mediation pages. Two queries; the page has already checked the user may see the case."""

from django.template.loader import render_to_string

from . import selectors
from .permissions import may_mediate


def render(request, case) -> str:
    sessions = selectors.session_rows(case)
    agreement = selectors.agreement_summary(case)
    mediates = may_mediate(request.user, case)
    if not sessions and agreement is None and not mediates:
        return ""
    return render_to_string(
        "mediation/_case_section.html",
        {"case": case, "sessions": sessions, "agreement": agreement, "may_mediate": mediates},
        request=request,
    )
