import math

from django.core.exceptions import EmptyResultSet
from django.db.models import Case as When_
from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    Subquery,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from common.prepared import Prepared, install
from common.sql import InSubquery
from grids.models import Area, Assignment, User
from grids.selectors import user_scope
from sla import clock

from . import permissions
from .department_models import DepartmentTask
from .listing import NEWEST, Key, RowReader
from .models import (
    LEVEL_COLUMN,
    OPEN_STATUSES,
    Attachment,
    Case,
    Category,
    Law,
    Party,
    TypicalCase,
)
from .permissions import MEDIATOR_ROLES, liaison_departments
from .scope import personal_branches

# What a case list's rows carry joined (no query per row): everything the API and the export
# show; a list page's rows (disputes_tags.case_rows) show less, and fewer joins cost less
# to build, to plan and to turn into objects (~1.5 ms a page of 20, issue 12). The policy
# and the SlaCheck row ride along in both: the rows' "due soon" badge (clock.due_soon) reads
# the warning leads and the progress limit from them.
LIST_RELATED = (
    "category", "category__parent", "area", "handling_area", "mediator", "sla_policy",
    "sla_check",
)  # fmt: skip
PAGE_RELATED = ("category", "handling_area", "sla_policy", "sla_check")


def case_list(*, user, filters: dict | None = None, related: tuple[str, ...] = LIST_RELATED):
    """Visible cases for lists (pages and API): `related` rows joined, no N+1."""
    # The scope is an OR of indexed conditions with no join (no duplicate rows, no DISTINCT);
    # the list paginator reads its branches one by one in index order (disputes.listing).
    qs = _listed(Case.objects.visible_to(user), related)
    if filters:
        qs = filters_apply(qs, filters)
    return qs


def _listed(qs, related: tuple[str, ...] = LIST_RELATED):
    return qs.select_related(*related).order_by("-filed_at", "-id")


def filters_apply(qs, f: dict):
    """The list filters shared by the pages and the API. Colour, reason and the worst-first
    order come from `annotate_sla`, the SQL twin of `clock.evaluate`, and "due soon" from
    `annotate_due_soon`, the twin of `clock.due_soon`, so a filtered list and the badges on
    its rows always agree."""
    if f.get("q"):
        qs = qs.filter(search_q(f["q"]))
    for key in ("status", "risk_level", "channel"):
        if f.get(key):
            qs = qs.filter(**{key: f[key]})
    if f.get("category"):
        cat = f["category"]
        qs = qs.filter(Q(category=cat) | Q(category__parent=cat))
    if f.get("area"):
        area: Area = f["area"]
        column = LEVEL_COLUMN.get(area.level)
        qs = qs.filter(**{column: area.pk})
    if f.get("filed_from"):
        qs = qs.filter(filed_at__date__gte=f["filed_from"])
    if f.get("filed_to"):
        qs = qs.filter(filed_at__date__lte=f["filed_to"])
    if f.get("mine") == "filed":
        qs = qs.filter(filed_by=f["user"])
    now = f.get("now") or timezone.now()
    if f.get("due_soon"):
        qs = clock.annotate_due_soon(qs, now).filter(sla_due_soon=True)
    # Colours and reasons as ranges on the stored deadlines (clock.sla_conditions), which the
    # open-case indexes serve, rather than a filter on a computed colour.
    conditions = clock.sla_conditions(now)
    if f.get("colour") in clock.COLOUR_LABELS:
        qs = qs.filter(conditions[f["colour"]])
    if f.get("reason") in clock.REASONS:
        qs = qs.filter(conditions[f["reason"]])
    if f.get("sort") == "sla":
        qs = (
            qs.annotate_sla(now)
            .annotate(sla_due=_deciding_deadline())
            .order_by(*(key.expression() for key in OVERDUE_FIRST))
        )
        # Stopped cases (closed, paused) all sort last, newest first: the running ones, few,
        # are sorted by deadline, the rest read in filing order (listing.case_page).
        qs.list_segments = [(clock.RUNNING, OVERDUE_FIRST), (~clock.RUNNING, NEWEST)]
    return qs


OVERDUE_FIRST = (
    Key("sla_rank"),
    Key("sla_due", nulls_last=True),
    Key("filed_at", descending=True),
    Key("id", descending=True),
)


def search_q(text: str) -> Q:
    """Case number, cause, description, address, or a party's name or phone, containing the
    text (case-insensitive). Served by trigram indexes on PostgreSQL (migration 0024), which
    also match Chinese substrings; the parties' matches are resolved once (an InitPlan), not
    joined, so no DISTINCT over the wide case rows."""
    text = text.strip()
    parties = Party.objects.filter(Q(name__icontains=text) | Q(phone__icontains=text))
    return (
        Q(number__icontains=text)
        | Q(cause__icontains=text)
        | Q(description__icontains=text)
        | Q(address__icontains=text)
        | Q(InSubquery(F("pk"), Subquery(parties.values("case_id"))))
    )


def _deciding_deadline():
    """Within a colour, the most overdue (or the nearest to being missed) first: the
    deadline that made the case red or orange, else the next one it can miss. Requires
    `annotate_sla`. Cases whose clock has stopped sort last."""
    return When_(
        When(sla_past_close=True, then=F("close_due_at")),
        When(sla_not_assigned=True, then=F("assign_due_at")),
        When(sla_not_handled=True, then=F("first_update_due_at")),
        When(~Q(status__in=OPEN_STATUSES) | Q(clock_paused_at__isnull=False), then=None),
        When(assigned_at__isnull=True, then=F("assign_due_at")),
        When(
            first_progress_at__isnull=True,
            first_update_due_at__isnull=False,
            then=F("first_update_due_at"),
        ),
        default=F("close_due_at"),
        output_field=DateTimeField(),
    )


def my_cases(*, user, related: tuple[str, ...] = LIST_RELATED):
    """Cases I filed, mediate or assist on (always within my scope): each of the three read
    in its own index's order (listing.case_page)."""
    return _listed(Case.objects.within(personal_branches(user, Case)), related)


DETAIL_RELATED = (
    "category", "category__parent", "category__lead_department", "area", "handling_area",
    "lead_department", "mediator", "filed_by", "referral_department", "sla_policy", "tracking",
    "sla_check",
)  # fmt: skip


# A case page's reverse foreign keys and the rows each one joins: read by case_detail, each
# compiled once per connection (common.prepared: ~0.4 ms of compiling each, on every case page
# and case API call), and left as `prefetch_related` leaves them (install).
DETAIL_RELATIONS = {
    "parties": (),
    "attachments": (),
    "events": ("actor",),
    "extensions": ("requested_by", "decided_by"),
    "supervision_cards": ("area", "issued_by", "replied_by"),
    "department_tasks": ("department", "signed_by"),
}


def _of_case(name: str, joins: tuple) -> Prepared:
    model = Case._meta.get_field(name).related_model
    return Prepared(
        lambda case_id: model._default_manager.select_related(*joins).filter(case_id=case_id)
    )


DETAIL_READS = {name: _of_case(name, joins) for name, joins in DETAIL_RELATIONS.items()}


def case_detail(*, user, pk: int) -> Case:
    """Raises Case.DoesNotExist (→ 404) for cases outside the user's scope."""
    # The case's row with its twelve joined rows from the row statement compiled once per
    # connection (listing.RowReader: ~2 ms of compiling a case page), picked by the id
    # within the user's scope; then the prefetches, as `prefetch_related` makes them.
    qs = Case.objects.visible_to(user).select_related(*DETAIL_RELATED)
    try:
        picked = qs.filter(pk=pk).values("pk").query.sql_with_params()
    except EmptyResultSet:  # a scope that holds nothing
        picked = None
    rows = RowReader.of(qs).read(*picked) if picked else []
    if not rows:
        raise Case.DoesNotExist(f"no case {pk} visible to {user}")
    case = rows[0]
    for name, read in DETAIL_READS.items():
        install(case, name, read.rows(case.pk))
    prefetch_related_objects(rows, "assistants")  # (many-to-many: the ORM's prefetch)
    _install_guidance(case.category)
    return case


def _install_guidance(category: Category) -> None:
    """The dispute type's laws and typical cases, as `category__laws` … prefetches them."""
    install(category, "laws", LAWS.rows(category.pk))
    install(category, "typical_cases", TYPICAL_CASES.rows(category.pk))


def case_as_filed(case: Case) -> Case:
    """A case just filed (services.case_file), ready for the detail serializer without being
    read back: its parties, timeline and files are those the filing wrote (`filed_rows`), and
    a new case has no assistants, extensions, cards or department tasks yet. Only the dispute
    type's guidance (laws, typical cases) is read."""
    rows = {
        **case.filed_rows,
        "assistants": [],
        "extensions": [],
        "supervision_cards": [],
        "department_tasks": [],
    }
    for name, values in rows.items():
        install(case, name, list(values))
    _install_guidance(case.category)
    return case


# A filing's reply shows its type's guidance: compiled once per connection (common.prepared).
LAWS = Prepared(lambda category_id: Law.objects.filter(category_id=category_id))
TYPICAL_CASES = Prepared(lambda category_id: TypicalCase.objects.filter(category_id=category_id))


def case_for_correction(*, user, pk: int) -> Case:
    """The case as the correction page needs it (its fields and parties, who runs it);
    Case.DoesNotExist (→ 404) outside the user's scope."""
    qs = Case.objects.visible_to(user)
    return (
        qs.select_related("area", "category", "category__parent", "handling_area")
        .prefetch_related("parties")
        .get(pk=pk)
    )


def case_attachment(*, user, case_id: int, pk: int, photo: bool = False) -> Attachment:
    """One file of a case the user may see; Attachment.DoesNotExist (→ 404) otherwise.
    One query after the scope, not the case page's dozen: a case page asks for every
    thumbnail on it. `photo`: photos only (a thumbnail)."""
    visible = Case.objects.visible_to(user).filter(pk=case_id).values("pk")
    qs = Attachment.objects.filter(case_id__in=visible)
    if photo:
        qs = qs.filter(kind=Attachment.Kind.PHOTO)
    return qs.get(pk=pk, case_id=case_id)


def filing_categories():
    """The types a filing may name, with what routing reads and the filing's reply shows
    (the parent type and both lead departments): no query of their own after the lookup."""
    return Category.objects.filter(is_active=True).select_related(
        "parent", "lead_department", "parent__lead_department"
    )


def category_choices():
    return (
        Category.objects.filter(is_active=True, parent__isnull=False)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )


def mediator_candidates(*, case: Case):
    """People who may mediate: active mediator-type roles at the handling area or below,
    or directly above it."""

    area = case.handling_area
    paths = [area.path[:i] for i in range(area.steplen, len(area.path) + 1, area.steplen)]
    user_ids = (
        Assignment.objects.active()
        .filter(role__in=MEDIATOR_ROLES)
        .filter(Q(area__path__startswith=area.path) | Q(area__path__in=paths))
        .values("user_id")
    )
    return User.objects.filter(pk__in=user_ids, is_active=True).order_by("real_name", "username")


# --- inbox -----------------------------------------------------------------------------------


# --- SLA health -----------------------------------------------------------------------------


def nearest_filing_area(*, user, latitude: float, longitude: float) -> Area | None:
    """The grid or micro-grid, among those the user may file in, whose recorded centre is
    nearest to where they stand. Degrees of longitude shrink towards the poles, so they are
    scaled by cos(latitude) before comparing; at city scale that is exact enough. One query
    over the user's own areas (a grid worker's handful; a district's 18,000 in ~10 ms)."""
    squeeze = math.cos(math.radians(latitude)) ** 2
    distance = (F("latitude") - latitude) * (F("latitude") - latitude) + (
        F("longitude") - longitude
    ) * (F("longitude") - longitude) * squeeze
    return (
        permissions.filing_areas_q(user)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .annotate(distance=ExpressionWrapper(distance, output_field=FloatField()))
        .order_by("distance", "pk")
        .only("pk", "name", "code", "level")
        .first()
    )


AREA_SUGGESTIONS = 15


def area_suggestions(*, user, text: str, areas=None) -> list[Area]:
    """Areas (by default those the user may file in) whose name contains `text` or whose
    code starts with it, their own (assigned) areas and those right below first, then in
    tree order; at most AREA_SUGGESTIONS. One query over the user's subtree (a district's
    18,000 grids in a few ms)."""
    areas = permissions.filing_areas_q(user) if areas is None else areas
    if text := text.strip():
        areas = areas.filter(Q(name__icontains=text) | Q(code__istartswith=text))
    own = user_scope(user).area_ids
    first = When_(When(Q(pk__in=own) | Q(parent_id__in=own), then=0), default=1)
    return list(
        areas.select_related("parent")
        .annotate(own_first=first)
        .order_by("own_first", "path")[:AREA_SUGGESTIONS]
    )


def department_queue(*, user, live_only: bool = True):
    """The tasks of the departments the user is liaison for: live ones first, the nearest
    sign-for deadline first (the index depttask_queue). Every department's for those who
    see everything (admins); empty for everyone else."""
    qs = DepartmentTask.objects.all()
    if not user_scope(user).sees_everything:
        qs = qs.filter(department_id__in=liaison_departments(user))
    if live_only:
        qs = qs.filter(status__in=DepartmentTask.LIVE)
    return qs.select_related("case", "department").order_by(
        When_(When(status="dispatched", then=0), default=1), "sign_due_at", "id"
    )
