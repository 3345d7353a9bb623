"""`{% per_language %}…{% end_per_language %}` (template library `chrome`, loaded by
base.html): the parts of every page that depend on nothing but the language and the
site's configuration (the static files' and fixed routes' addresses, translated labels),
rendered once per language and process instead of on each request.

Every page extends base.html: its head, header, the texts the offline outbox and live
updates show, and the footer came to ~1.5 ms of each page's CPU on a 2-core machine, more
than a page's own small queries (issue 12), for output that never changes.

Safe by construction: the block is rendered with an empty context, so it cannot show (and
then serve to someone else) anything of the request or the user: a variable from outside
renders empty, and `{% csrf_token %}` inside is refused when the template is loaded. What
it shows changes only with the language, the script prefix and the settings (a test's
override_settings), which are its key or clear it."""

import weakref

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.defaulttags import CsrfTokenNode
from django.urls import get_script_prefix
from django.utils.translation import get_language

register = template.Library()

_blocks: "weakref.WeakSet[PerLanguageNode]" = weakref.WeakSet()


class PerLanguageNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist
        self.rendered: dict[tuple, str] = {}
        _blocks.add(self)

    def render(self, context):
        key = (get_language(), get_script_prefix(), context.autoescape)
        html = self.rendered.get(key)
        if html is None:
            fresh = template.Context(autoescape=context.autoescape)
            fresh.template = context.template  # (its engine's settings: string_if_invalid)
            html = self.rendered[key] = self.nodelist.render(fresh)
        return html


@register.tag
def per_language(parser, token):
    nodelist = parser.parse(("end_per_language",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(CsrfTokenNode):
        raise template.TemplateSyntaxError(
            "{% csrf_token %} differs per request: keep it outside {% per_language %}"
        )
    return PerLanguageNode(nodelist)


@receiver(setting_changed)
def _forget(**kwargs):
    """A setting changed (tests): static files' addresses, routes or languages may differ."""
    for block in list(_blocks):
        block.rendered.clear()
