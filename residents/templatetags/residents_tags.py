from django import template

from residents import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def resident_panel(context, case):
    """The resident section's data for a case page (queried only for QR cases)."""
    return selectors.case_panel(user=context["request"].user, case=case)
