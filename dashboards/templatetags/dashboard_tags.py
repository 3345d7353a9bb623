from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.9856 → "98.6%"; None (nothing to divide by) → "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}%"
