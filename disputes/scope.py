"""Who sees which cases, as conditions each served by an index of its own.

Below models.py (which builds `Case.objects.visible_to` from it), so the case model is passed
in rather than imported."""

from django.db.models import F, Q, Subquery

from common.sql import InSubquery
from grids.models import AreaLevel
from grids.scope import user_scope

from .department_models import DepartmentTask

# Which copied-ancestor column a user's assignment at each level matches.
LEVEL_COLUMN = {
    AreaLevel.DISTRICT: "district_id",
    AreaLevel.STREET: "street_id",
    AreaLevel.COMMUNITY: "community_id",
    AreaLevel.GRID: "grid_id",
    AreaLevel.DEDICATED: "grid_id",
    AreaLevel.MICRO_GRID: "area_id",
}


def either(branches: list[Q] | None) -> Q | None:
    """The OR of `branches` (None stays None: no condition)."""
    if branches is None:
        return None
    condition = Q()
    for branch in branches:
        condition |= branch
    return condition


def personal_branches(user, case_model) -> list[Q]:
    """The cases someone files, mediates or assists on ("My cases"), whatever their post."""
    # A subquery, not a join: a join repeats a case per assistant and overcounts.
    assisted = case_model.assistants.through.objects.filter(user_id=user.pk).values("case_id")
    return [
        Q(filed_by_id=user.pk),
        Q(mediator_id=user.pk),
        Q(InSubquery(F("pk"), Subquery(assisted))),
    ]


def case_scope_branches(user, case_model) -> list[Q] | None:
    """The case-visibility condition for a user as branches whose OR is the scope; None
    means "everything".

    Each branch is one indexed condition whose index also gives the lists' order (newest
    first): an equality (or IN) on a copied ancestor column per assignment level, the cases
    they filed, mediate or assist on, those led by or referred to their department, and
    those whose department task it holds. The small id sets (assisting, department tasks)
    are resolved once by an InitPlan (common.sql.InSubquery), never a per-row subquery, so
    an OR of the branches is a BitmapOr for counts and exports, and lists read each branch
    in index order and merge them (disputes.listing)."""
    if not getattr(user, "is_authenticated", False):
        return [Q(pk__in=[])]
    scope = user_scope(user)
    if scope.sees_everything:
        return None
    by_column: dict[str, list[int]] = {}
    for a in scope.assignments:
        if a.area_id:
            by_column.setdefault(LEVEL_COLUMN[a.area.level], []).append(a.area_id)
    branches = [Q(**{f"{column}__in": ids}) for column, ids in by_column.items()]
    branches += personal_branches(user, case_model)
    if ids := scope.department_ids:  # led by, referred to, or assisted by their department
        tasks = DepartmentTask.objects.filter(department_id__in=ids).values("case_id")
        branches += [
            Q(lead_department_id__in=ids),
            Q(referral_department_id__in=ids),
            Q(InSubquery(F("pk"), Subquery(tasks))),
        ]
    return branches
