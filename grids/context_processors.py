from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from .models import Role
from .selectors import user_scope

# (url name, label, roles that see it; empty = everyone signed in). Later features add
# their entries here so the navigation stays in one place.
FILERS = (Role.GRID_WORKER, Role.MICRO_GRID_HEAD, Role.MEDIATOR, Role.COMMUNITY_SECRETARY,
          Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF)  # fmt: skip
NAV_ITEMS = [
    ("home", _("Home"), ()),
    ("disputes:file", _("File a dispute"), FILERS),
    ("disputes:mine", _("My cases"), ()),
    ("disputes:list", _("All cases"), ()),
]


def _items(user):
    scope = user_scope(user)
    items = []
    for name, label, roles in NAV_ITEMS:
        if roles and not (scope.sees_everything or scope.roles & set(roles)):
            continue
        try:
            items.append({"url": reverse(name), "label": label, "name": name})
        except NoReverseMatch:
            continue
    if user.is_staff:
        items.append({"url": reverse("admin:index"), "label": _("Admin"), "name": "admin"})
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": SimpleLazyObject(lambda: _items(user)),
        "user_roles": SimpleLazyObject(
            lambda: sorted({Role(r).label for r in user_scope(user).roles}, key=str)
        ),
    }
