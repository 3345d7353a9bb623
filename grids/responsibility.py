"""Who was responsible when: who held a grid, mediated in a community or staffed a street
on a given day, and one person's assignments over time, read from the assignments' full
history (django-simple-history keeps every version of every Assignment row).

Why the history and not only today's rows: an assignment edited in place (its person or
its area changed instead of ending it and starting another) would otherwise rewrite the
past. Reading the versions, a change of person, role or place takes effect when it was
made: the old version held the post until then, the new one from then on. A change of the
dates alone is a correction and applies to the whole period. A deleted row (the product
never deletes one; the admin could) still shows up to its deletion, marked as deleted.

Supervisors only (street and district staff; administrators everywhere), within their own
areas."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Area, AreaLevel, Assignment, User
from .roles import Role
from .scope import user_scope

SUPERVISOR_ROLES = frozenset({Role.STREET_STAFF, Role.STREET_LEADER, Role.DISTRICT_STAFF})
SEARCH_LIMIT = 20
History = Assignment.history.model


@dataclass
class Holding:
    """One person holding one role at one place, from `start` to `end` (None: still)."""

    assignment_id: int
    user_id: int
    user_name: str
    role: str
    area_id: int | None
    area_name: str
    area_path: str
    department_id: int | None
    department_name: str
    department_district_id: int | None
    start: datetime
    end: datetime | None
    note: str
    recorded_at: datetime
    recorded_by: str
    changed_at: datetime | None = None  # the last edit of this period's record
    deleted_at: datetime | None = None
    then: str = ""  # what the edit that ended the period did

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role

    @property
    def place(self) -> str:
        return self.area_name or self.department_name

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and (self.end is None or self.end > start)

    def recorded_after(self, moment: datetime) -> bool:
        return self.recorded_at > moment


def _place(version) -> tuple:
    return (version.user_id, version.role, version.area_id, version.department_id)


def _name(user) -> str:
    if user is None:
        return ""
    return user.real_name or user.username


def holdings(versions) -> list[Holding]:
    """Every period of holding the versions describe (the versions of any number of
    assignments, each assignment's in the order they were written)."""
    result = []
    by_assignment: dict[int, list] = {}
    for version in versions:
        by_assignment.setdefault(version.id, []).append(version)
    for rows in by_assignment.values():
        rows.sort(key=lambda v: (v.history_date, v.history_id))
        result += _periods(rows)
    return result


def _periods(rows) -> list[Holding]:
    segments: list[dict] = []
    for version in rows:
        if version.history_type == "-":
            if segments:
                segments[-1]["deleted_at"] = version.history_date
            continue
        if segments and _place(segments[-1]["last"]) == _place(version):
            segments[-1]["last"] = version
            continue
        if segments:
            segments[-1]["cut_end"] = version.history_date
            segments[-1]["next"] = version
        segments.append({"first": version, "last": version,
                         "cut_start": version.history_date if segments else None})  # fmt: skip
    periods = []
    for segment in segments:
        last, first = segment["last"], segment["first"]
        start, end = last.started_at, last.ended_at
        if segment["cut_start"] is not None:
            start = max(start, segment["cut_start"])
        # A later change of person or place, or the row's deletion, ends the period then.
        cut = segment.get("cut_end") or segment.get("deleted_at")
        if cut is not None:
            end = cut if end is None else min(end, cut)
        if end is not None and end <= start:
            continue  # corrected away before it began
        area, department = last.area, last.department
        periods.append(
            Holding(
                assignment_id=last.id,
                user_id=last.user_id,
                user_name=_name(last.user),
                role=last.role,
                area_id=last.area_id,
                area_name=area.name if area else "",
                area_path=area.path if area else "",
                department_id=last.department_id,
                department_name=department.name if department else "",
                department_district_id=department.district_id if department else None,
                start=start,
                end=end,
                note=last.note,
                recorded_at=first.history_date,
                recorded_by=_name(first.history_user),
                changed_at=last.history_date if last is not first else None,
                deleted_at=segment.get("deleted_at"),
                then=_then(last, segment.get("next")),
            )
        )
    return periods


def _then(before, after) -> str:
    """What the edit that ended a period did, in words: "handed over to 王网格"."""
    if after is None:
        return ""
    if after.user_id != before.user_id:
        return _("then handed over to %(name)s") % {"name": _name(after.user)}
    if (after.area_id, after.department_id) != (before.area_id, before.department_id):
        place = after.area.name if after.area_id else getattr(after.department, "name", "")
        return _("then moved to %(place)s") % {"place": place}
    return _("then changed to %(role)s") % {"role": Role(after.role).label}


def _versions(condition: Q):
    """Every version of every assignment that ever matched `condition`. One query."""
    ids = History.objects.filter(condition).values("id")
    return (
        History.objects.filter(id__in=ids)
        .select_related("user", "area", "department", "history_user")
        .order_by("id", "history_date", "history_id")
    )


# --- who may ask ---------------------------------------------------------------------------


def supervisor_roots(user) -> list[Area] | None:
    """The areas a supervisor may ask about (and everything below); None: everywhere.
    PermissionDenied for anyone else."""
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    roots: list[Area] = []
    for assignment in sorted(
        (a for a in scope.assignments if a.area_id and a.role in SUPERVISOR_ROLES),
        key=lambda a: a.area.path,
    ):
        if not any(assignment.area.path.startswith(r.path) for r in roots):
            roots.append(assignment.area)
    if not roots:
        raise PermissionDenied(_("This page is for street and district staff."))
    return roots


def _in_scope(holding: Holding, roots: list[Area] | None) -> bool:
    if roots is None:
        return True
    if holding.area_id is not None:
        return any(holding.area_path.startswith(r.path) for r in roots)
    # A department's people: for the staff of its district.
    return any(
        r.level == AreaLevel.DISTRICT and r.pk == holding.department_district_id for r in roots
    )


def _area_scope_q(roots: list[Area], prefix: str = "") -> Q:
    condition = Q(pk__in=[])
    for root in roots:
        condition |= Q(**{f"{prefix}path__startswith": root.path})
    return condition


# --- the questions -------------------------------------------------------------------------


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def area_for(user, pk: int) -> Area | None:
    """The area, if the user may ask about it."""
    roots = supervisor_roots(user)
    areas = Area.objects.filter(pk=pk)
    if roots is not None:
        areas = areas.filter(_area_scope_q(roots))
    return areas.first()


def who_held(*, user, area: Area, day: date) -> dict:
    """{"here": [...], "above": [...]}: who held any role at the area on that day, and at
    the areas above it (the community, the street …), each list by role then start. Three
    queries (the scope, the ancestors, every version of the assignments involved)."""
    roots = supervisor_roots(user)
    ancestors = list(Area.objects.filter(path__in=area.ancestor_paths()).order_by("path"))
    start, end = day_bounds(day)
    found = holdings(_versions(Q(area_id__in=[area.pk, *(a.pk for a in ancestors)])))
    depth = {a.pk: a.depth for a in ancestors}
    on_day = [
        h for h in found if h.overlaps(start, end) and h.area_id is not None
        and _in_scope(h, roots)
    ]  # fmt: skip
    order = list(Role.values)

    def key(h: Holding):
        return (-depth.get(h.area_id, 99), order.index(h.role) if h.role in order else 99,
                h.start, h.user_name)  # fmt: skip

    return {
        "here": sorted((h for h in on_day if h.area_id == area.pk), key=key),
        "above": sorted((h for h in on_day if h.area_id != area.pk), key=key),
        "ancestors": ancestors,
    }


def person_for(user, pk: int) -> User | None:
    """The person, if they ever held a post the user may see."""
    roots = supervisor_roots(user)
    person = User.objects.filter(pk=pk).first()
    if person is None:
        return None
    if any(_in_scope(h, roots) for h in holdings(_versions(Q(user_id=pk)))):
        return person
    return None


def assignments_of(*, user, person: User) -> list[Holding]:
    """Every post the person held that the user may see, the latest first. Two queries."""
    roots = supervisor_roots(user)
    found = holdings(_versions(Q(user_id=person.pk)))
    mine = [h for h in found if h.user_id == person.pk and _in_scope(h, roots)]
    return sorted(mine, key=lambda h: (h.start, h.assignment_id), reverse=True)


def search_areas(*, user, text: str) -> list[Area]:
    text = text.strip()
    if not text:
        return []
    roots = supervisor_roots(user)
    areas = Area.objects.filter(Q(name__icontains=text) | Q(code__istartswith=text))
    if roots is not None:
        areas = areas.filter(_area_scope_q(roots))
    return list(areas.order_by("depth", "path")[:SEARCH_LIMIT])


def search_people(*, user, text: str) -> list[User]:
    """People with any post, ever, in the user's areas, by name or login."""
    text = text.strip()
    if not text:
        return []
    roots = supervisor_roots(user)
    posts = History.objects.all()
    if roots is not None:
        districts = [r.pk for r in roots if r.level == AreaLevel.DISTRICT]
        posts = posts.filter(
            _area_scope_q(roots, "area__") | Q(department__district_id__in=districts)
        )
    return list(
        User.objects.filter(Q(real_name__icontains=text) | Q(username__icontains=text))
        .filter(pk__in=posts.values("user_id"))
        .order_by("real_name", "username")[:SEARCH_LIMIT]
    )
