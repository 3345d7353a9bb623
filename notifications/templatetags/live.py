"""`{% live_attrs %}` on the page's <body>: where the socket is, the signed list of groups
the page follows (the user's own, plus `live_groups` from the view's context, which the
view has checked) and (about) when its data was read. static/js/live.js reads them."""

from django import template
from django.conf import settings
from django.utils.html import format_html

from .. import live

register = template.Library()

# The page's figures were read a little before it is rendered: anything published in this
# window before rendering makes the page fetch its parts once more on connecting.
READ_MARGIN_MS = 2000


@register.simple_tag(takes_context=True)
def live_attrs(context):
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return ""
    token = live.sign(user, context.get("live_groups", ()))
    return format_html(
        ' data-live-url="{}" data-live-token="{}" data-live-at="{}" data-live-poll="{}"',
        settings.LIVE_URL,
        token,
        live.clock.now() - READ_MARGIN_MS,
        settings.LIVE_POLL_SECONDS,
    )
