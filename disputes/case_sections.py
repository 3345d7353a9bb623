"""Sections that apps above `disputes` add to the case page (mediation sessions and
documents, linkage referrals, the archived file).

`disputes` may not import those apps (they sit above it), so each registers a renderer here
from its `AppConfig.ready()`. A renderer gets the request and the case, which the page has
already checked the user may see, and returns HTML (usually `render_to_string` of its own
template) or "" to show nothing. Sections appear in registration order, below the case panel.
"""

from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

Section = Callable[[object, object], str]
_sections: list[Section] = []


def register(section: Section) -> Section:
    if section not in _sections:
        _sections.append(section)
    return section


def render_all(request, case) -> list[SafeString]:
    # Each renderer returns template output (already escaped by the template engine).
    return [mark_safe(html) for section in _sections if (html := section(request, case))]
