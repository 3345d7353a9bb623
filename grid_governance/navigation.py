import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dashboards.health import may_see_health
from grids.models import THREE_OFFICERS_AND_A_LAWYER, Role
from grids.selectors import user_scope
from instructions.scope import SENDER_ROLES
from notifications.services import unread_count

# (url name, label, roles that see it; empty = everyone signed in). Later features add
# their entries here so the navigation stays in one place.
FILERS = (
    Role.GRID_WORKER,
    Role.MICRO_GRID_HEAD,
    Role.MEDIATOR,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
)
# Those who staff or organise reception days; grid workers have no sessions of their own.
RECEPTION_DAY_STAFF = (
    *THREE_OFFICERS_AND_A_LAWYER,
    Role.MEDIATOR,
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
)
# Who triages on the dashboard (dashboards.periods.DASHBOARD_ROLES).
DASHBOARD_STAFF = (
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
    Role.ADMIN,
)
# 考核 (assessment.selectors.ASSESSMENT_ROLES): community, street and district staff.
ASSESSMENT_STAFF = (
    Role.COMMUNITY_SECRETARY,
    Role.STREET_STAFF,
    Role.STREET_LEADER,
    Role.DISTRICT_STAFF,
)
# Who was responsible when (grids.responsibility.SUPERVISOR_ROLES).
SUPERVISORS = (Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF)
# 回访 (residents app): street centres call back a sample of closed cases every month.
CALLBACK_STAFF = (Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF)
# Who puts the residents' QR code posters up in the compounds.
POSTER_STAFF = (Role.GRID_WORKER, Role.MICRO_GRID_HEAD, Role.COMMUNITY_SECRETARY, Role.STREET_STAFF)
NAV_ITEMS = [
    ("home", _("Home"), ()),
    ("disputes:file", _("File a dispute"), FILERS),
    ("disputes:mine", _("My cases"), ()),
    ("disputes:list", _("All cases"), ()),
    ("disputes:department_queue", _("Department queue"), (Role.DEPARTMENT_LIAISON,)),
    (
        "disputes:supervision",
        _("Supervision cards"),
        (
            Role.COMMUNITY_SECRETARY,
            Role.MEDIATOR,
            Role.STREET_STAFF,
            Role.STREET_LEADER,
            Role.DISTRICT_STAFF,
        ),
    ),
    ("dashboard:index", _("Workbench"), DASHBOARD_STAFF),
    # 联动调解: who records and follows cases to and from the linked bodies.
    ("referrals:list", _("Linkage referrals"), (Role.MEDIATOR, *DASHBOARD_STAFF)),
    ("assessment:ranking", _("Monthly assessment"), ASSESSMENT_STAFF),
    ("grids:responsibility", _("Who was responsible"), SUPERVISORS),
    ("inbox:list", _("Messages"), ()),
    (
        "instructions:list",
        pgettext_lazy("leaders' instructions", "Instructions"),
        tuple(SENDER_ROLES),
    ),
    ("reception_days:mine", _("My reception days"), THREE_OFFICERS_AND_A_LAWYER),
    ("reception_days:list", _("Reception days"), RECEPTION_DAY_STAFF),
    ("reception_days:report_card", _("Reception-day report card"), RECEPTION_DAY_STAFF),
    ("residents:callbacks", _("Callbacks"), CALLBACK_STAFF),
    ("residents:posters", _("QR code posters"), POSTER_STAFF),
]


def _items(user):
    scope = user_scope(user)
    return _entries(
        get_urlconf(),
        get_script_prefix(),
        scope.sees_everything,
        scope.roles,
        may_see_health(user),
        user.is_staff,
    )


@functools.lru_cache(maxsize=256)
def _entries(urlconf, prefix, sees_everything, roles, health, staff) -> tuple:
    """The menu for one combination of roles: the same for everyone holding them, so its
    addresses are worked out once per process, not on each page (20-odd `reverse` calls,
    ~0.5 ms). `urlconf` and `prefix` are what `reverse` depends on besides the name: part of
    the key. Cleared when the settings change (tests' urlconfs). Labels stay lazy: each page
    shows them in its own language."""
    items = []
    for name, label, needs in NAV_ITEMS:
        if needs and not (sees_everything or roles & set(needs)):
            continue
        try:
            items.append({"url": reverse(name, urlconf), "label": label, "name": name})
        except NoReverseMatch:
            continue
    if health:
        items.append(
            {"url": reverse("sla_health", urlconf), "label": _("SLA health"), "name": "sla_health"}
        )
    if staff:
        items.append({"url": reverse("admin:index", urlconf), "label": _("Admin"), "name": "admin"})
    return tuple(items)


@receiver(setting_changed)
def _forget(**kwargs):
    _entries.cache_clear()


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_items": SimpleLazyObject(lambda: _items(user)),
        "user_roles": SimpleLazyObject(
            lambda: sorted({Role(r).label for r in user_scope(user).roles}, key=str)
        ),
        # The header's badge: one indexed COUNT, only on pages that render the header.
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
