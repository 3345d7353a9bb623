"""Every write to areas, departments and assignments goes through here."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Area, Assignment, Department, User, assignment_place_error, parent_level_error
from .signals import area_moved


@transaction.atomic
def area_create(
    *,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    households: int = 0,
    dedicated_kind: str = "",
    latitude=None,
    longitude=None,
    actor: User | None = None,
) -> Area:
    area = Area(
        code=code,
        name=name,
        level=level,
        parent=parent,
        households=households,
        dedicated_kind=dedicated_kind,
        latitude=latitude,
        longitude=longitude,
    )
    area.full_clean(exclude=["path", "depth", "numchild"])
    if parent is None:
        return Area.objects.add_root(instance=area)
    # Re-read the parent under a lock: treebeard computes the new path from numchild.
    parent = Area.objects.select_for_update().get(pk=parent.pk)
    return Area.objects.add_child(parent, instance=area)


@transaction.atomic
def area_move(*, area: Area, new_parent: Area, actor: User | None = None) -> Area:
    """Move an area (and its whole subtree) under another parent, e.g. a grid to another
    community. Cases keep their history; their copied ancestor ids are refreshed by the
    disputes app through the `area_moved` hook."""
    area = Area.objects.select_for_update().get(pk=area.pk)
    new_parent = Area.objects.select_for_update().get(pk=new_parent.pk)
    if area.parent_id == new_parent.pk:
        return area
    error = parent_level_error(area.level, new_parent.level)
    if error:
        raise ValidationError({"parent": error})
    if new_parent.path.startswith(area.path):
        raise ValidationError({"parent": _("An area cannot be moved under itself.")})
    Area.objects.move(area, new_parent, pos="last-child")
    area = Area.objects.get(pk=area.pk)
    area.parent = new_parent
    area.save(update_fields=["parent", "updated_at"])
    area_moved.send(sender=Area, area=area, actor=actor)
    return area


@transaction.atomic
def area_update(*, area: Area, actor: User | None = None, **fields) -> Area:
    """Change an area's own attributes; a new parent goes through area_move."""
    new_parent = fields.pop("parent", area.parent)
    changed = [name for name, value in fields.items() if getattr(area, name) != value]
    for name in changed:
        setattr(area, name, fields[name])
    if changed:
        area.full_clean(exclude=["path", "depth", "numchild", "parent"])
        area.save(update_fields=[*changed, "updated_at"])
    if new_parent is not None and new_parent.pk != area.parent_id:
        area = area_move(area=area, new_parent=new_parent, actor=actor)
    return area


@transaction.atomic
def assignment_create(
    *,
    user: User,
    role: str,
    area: Area | None = None,
    department: Department | None = None,
    started_at=None,
    ended_at=None,
    note: str = "",
    actor: User | None = None,
    validated: bool = False,
) -> Assignment:
    """`validated`: the caller (the CSV import) has checked the row already."""
    if not (role == "admin" and area is None and department is None):
        error = assignment_place_error(role, area, department)
        if error:
            raise ValidationError(error)
    assignment = Assignment(
        user=user,
        role=role,
        area=area,
        department=department,
        started_at=started_at or timezone.now(),
        ended_at=ended_at,
        note=note,
    )
    assignment._history_user = actor
    if not validated:
        assignment.full_clean()
    assignment.save()
    return assignment


@transaction.atomic
def assignment_update(*, assignment: Assignment, actor: User | None = None) -> Assignment:
    """Save edits made in the admin (dates, note, place) after the same checks as create."""
    if not (
        assignment.role == "admin"
        and assignment.area_id is None
        and assignment.department_id is None
    ):
        error = assignment_place_error(assignment.role, assignment.area, assignment.department)
        if error:
            raise ValidationError(error)
    assignment.full_clean()
    assignment._history_user = actor
    assignment.save()
    return assignment


@transaction.atomic
def assignment_end(*, assignment: Assignment, actor: User | None = None, at=None) -> Assignment:
    """End an assignment but keep it: history must show who was responsible when."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.ended_at is not None and assignment.ended_at <= timezone.now():
        return assignment
    at = at or timezone.now()
    assignment.ended_at = max(at, assignment.started_at)
    assignment._history_user = actor
    assignment.save(update_fields=["ended_at", "updated_at"])
    return assignment


def assignments_end(*, assignments, actor: User | None = None) -> int:
    """Bulk "end assignments" admin action; per row so history records each change."""
    ended = 0
    for assignment in assignments:
        if assignment.ended_at is None:
            assignment_end(assignment=assignment, actor=actor)
            ended += 1
    return ended


def areas_move(*, areas, new_parent: Area, actor: User | None = None) -> int:
    moved = 0
    with transaction.atomic():
        for area in areas:
            area_move(area=area, new_parent=new_parent, actor=actor)
            moved += 1
    return moved
