"""Is the SLA engine keeping up? The operators' page: sweep lag, recent breaches, the
outbox backlog and open cases by colour."""

from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from disputes.models import OPEN_STATUSES, Case, CaseEvent
from grids.models import Role
from grids.selectors import user_scope
from grids.workdays import calendar_coverage
from notifications.delivery import outbox_backlog
from sla import clock
from sla.models import SlaCheck, SweepRun

# The street and district centres answer for the time limits; admins run the engine.
HEALTH_ROLES = frozenset({Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF, Role.ADMIN})

# No finished tick for this long (beat runs it every minute): the engine is down.
SWEEP_STALE_AFTER = timedelta(minutes=3)


def health_figures(now: datetime | None = None) -> dict:
    """What an operator needs to trust the SLA engine, in five queries:

    - sweep lag: how long the oldest due check has waited (0 when the sweep is keeping up);
    - breaches recorded in the last hour (CaseEvent index kind + recorded_at);
    - the email/SMS outbox backlog (due and not yet sent);
    - open cases by colour, computed from the clock like every page does."""
    now = now or timezone.now()
    oldest = SlaCheck.objects.filter(next_check_at__lte=now).aggregate(oldest=Min("next_check_at"))[
        "oldest"
    ]
    breaches = CaseEvent.objects.filter(
        kind=CaseEvent.Kind.SLA_BREACH,
        recorded_at__gte=now - timedelta(hours=1),
        recorded_at__lte=now,
    ).count()
    rows = (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .annotate_sla(now)
        .order_by()
        .values("sla_colour")
        .annotate(n=Count("id"))
    )
    by_colour = {clock.GREEN: 0, clock.ORANGE: 0, clock.RED: 0} | {
        row["sla_colour"]: row["n"] for row in rows
    }
    last = SweepRun.objects.filter(pk=1).first()
    calendar = calendar_coverage(timezone.localdate(now))
    return {
        "now": now,
        "last_sweep": last,
        "sweep_stale": last is None or now - last.finished_at > SWEEP_STALE_AFTER,
        # Working-day deadlines in a year with no holiday schedule are Monday–Friday guesses.
        "calendar": calendar,
        "oldest_due_at": oldest,
        "sweep_lag": max(now - oldest, timedelta(0)) if oldest else timedelta(0),
        "breaches_last_hour": breaches,
        "outbox_backlog": outbox_backlog(now),
        "open_by_colour": by_colour,
        "open_total": sum(by_colour.values()),
    }


def may_see_health(user) -> bool:
    scope = user_scope(user)
    return user.is_staff or scope.sees_everything or bool(scope.roles & HEALTH_ROLES)


@login_required
def sla_health(request):
    """For operators and the centres that rely on the time limits: is the sweep keeping up,
    are messages leaving? Admin staff and street and district centre staff."""
    if not may_see_health(request.user):
        raise PermissionDenied(_("The SLA health page is for centre staff and administrators."))
    health = health_figures()
    health["sweep_lag_text"] = duration_text(health["sweep_lag"])
    health["colours"] = [
        (colour, clock.COLOUR_LABELS[colour], health["open_by_colour"][colour])
        for colour in (clock.RED, clock.ORANGE, clock.GREEN)
    ]
    return render(request, "dashboards/sla_health.html", {"health": health})


def duration_text(delta) -> str:
    """3 h 5 min / 4 min 20 s / 0 s: precise enough to judge a lag at a glance."""
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds}
    return _("%(s)d s") % {"s": seconds}
