"""Millions of dispute cases for benchmarks, bulk-loaded with PostgreSQL COPY.

Reusable by every benchmark that needs cases (the dashboard, the SLA sweep …):

    from benchmarks.generate_cases import ensure_cases
    info = ensure_cases(2_000_000, scale=1.0)   # the city tree, staff, categories, cases
    info.now, info.streets, info.district_staff …

`ensure_cases` is idempotent: when the database already holds exactly this data set (same
count, scale, seed, days, anchor day and options, recorded in a small `bench_dataset`
table), it returns at once; otherwise it empties the case tables and loads them again.
Loading 2,000,000 cases takes a few minutes on the 2-core reference machine: rows are
generated in Python and streamed through COPY with the secondary indexes dropped and the
foreign-key triggers off, then the indexes are rebuilt and the table analysed.

What the cases look like (seeded: the same arguments give the same rows):
- filed uniformly over the last `days` days up to `now` (the start of today, UTC, by
  default) and stored in filing order, as a live system appends them; on the city's
  grids, dedicated grids and micro-grids, unevenly (log-normal weights), so a few
  buildings and addresses are hot spots; 0.5 % are group disputes;
- the 36 demo dispute types, weighted like the seeds (neighbours, property, labour …),
  every channel, risk mostly the type's default;
- a life cycle by age, as the services would have written it: accepted, assigned (about
  10 % late), first handling, then resolved and closed, or failed / referred / withdrawn /
  sent back / stuck open; 4 % resolved on the spot. Time points, on-time flags, deadlines
  (the 24 h / 24 h / 30 day default policy), copied ancestor ids, routing (handling level
  and area, lead department) and the mediator (the handling area's mediator) all agree;
- `swept=True` (default): breaches already passed are recorded and `SlaCheck.next_check_at`
  is the next deadline, as after a sweep that kept up; `swept=False` leaves every breach
  unrecorded and the next check at the earliest unrecorded one, i.e. a sweep backlog.

No parties, events or attachments are generated (nothing read in bulk needs them).

Staff: one mediator per community, street and district (the cases' mediators), one street
centre user per street and one district centre user per district, named `b-med-<code>`,
`b-street-<code>`, `b-district-<code>`.
"""

import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from benchmarks.common import timed

GENERATOR_VERSION = 3
DEFAULT_SEED = 20250301
HOUR = 3600.0
DAY = 24 * HOUR
# (share, fate): what eventually happens to a case, before the clock cuts it short.
FATES = (
    (0.04, "on_spot"),
    (0.03, "withdrawn"),
    (0.005, "sent_back"),
    (0.03, "referred"),
    (0.04, "failed"),
    (0.015, "stuck"),
    (0.84, "resolved"),
)
CHANNEL_WEIGHTS = {
    "grid_worker": 45, "resident_qr": 20, "hotline": 12, "reception_day": 8, "online": 8,
    "police_referral": 4, "court_referral": 3,
}  # fmt: skip
# First-level type code → weight of each of its sub-types (default 1).
CATEGORY_WEIGHTS = {"01": 3, "02": 8, "03": 1, "04": 1.5, "05": 1, "06": 2, "07": 0.5,
                    "08": 0.5, "09": 1.5, "10": 3, "11": 2, "12": 0.7, "13": 2, "14": 5,
                    "15": 1}  # fmt: skip
CAUSES = ("经多次协商未果", "双方各执一词", "诉求强烈", "邻里矛盾升级", "涉及多户居民", "")
LEVEL_FOR_RISK = {"major": "street", "serious": "district"}


@dataclass
class CaseSet:
    """What `ensure_cases` loaded (or found), for the benchmark to pick users and areas."""

    count: int
    now: datetime
    days: int
    signature: str
    loaded: bool
    seconds: float = 0.0
    streets: list[int] = field(default_factory=list)  # street ids, most cases first
    districts: list[int] = field(default_factory=list)  # district ids, most cases first

    def street_staff(self, street_id: int):
        from grids.models import Area, User

        return User.objects.get(username=f"b-street-{Area.objects.get(pk=street_id).code}")

    def district_staff(self, district_id: int):
        from grids.models import Area, User

        return User.objects.get(username=f"b-district-{Area.objects.get(pk=district_id).code}")


# --- the city, reference data and staff ----------------------------------------------------


def ensure_city(scale: float) -> int:
    """The generate_city tree at this scale, imported through the product's importer unless
    it is already there. Returns the number of areas."""
    from django.db import connection

    from benchmarks import generate_city
    from benchmarks.bench_import import city_file, truncate_grids_tables
    from grids.imports import import_areas
    from grids.models import Area

    expected = generate_city.ZHENGZHOU.scaled(scale).total
    first = next(generate_city.iter_areas(scale))
    if Area.objects.count() == expected and Area.objects.filter(code=first.code).exists():
        return expected
    path, _ = city_file(scale)
    truncate_grids_tables()
    with timed() as t:
        result = import_areas(path.read_bytes())
    if not result.ok:
        raise RuntimeError(f"city import failed: {result.errors[:3]}")
    print(f"imported {result.created:,} areas in {t['seconds']:.1f} s")
    # Plans over a bulk-loaded table go wrong until it is analysed (autovacuum gets to it
    # only later): e.g. "level = 'micro_grid'" estimated at 142 rows instead of 107,158.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Area._meta.db_table}")
    return Area.objects.count()


def ensure_reference_data() -> None:
    """Dispute types (with their departments) and the default SLA policy."""
    from disputes.demo import seed_categories
    from disputes.models import Category
    from grids.demo import DEPARTMENTS
    from grids.models import Department

    for code, name in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name})
    if not Category.objects.filter(parent__isnull=False).exists():
        seed_categories()


def ensure_staff() -> dict[int, int]:
    """The bench users and their assignments; returns {area id: mediator user id}."""
    from django.contrib.auth.hashers import make_password

    from grids.models import Area, AreaLevel, Assignment, Role, User

    places = list(
        Area.objects.filter(
            level__in=[AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY]
        ).values_list("id", "code", "level")
    )
    wanted = []
    for area_id, code, level in places:
        wanted.append((f"b-med-{code}", Role.MEDIATOR, area_id))
        if level == AreaLevel.STREET:
            wanted.append((f"b-street-{code}", Role.STREET_STAFF, area_id))
        if level == AreaLevel.DISTRICT:
            wanted.append((f"b-district-{code}", Role.DISTRICT_STAFF, area_id))
    existing = set(
        User.objects.filter(username__startswith="b-").values_list("username", flat=True)
    )
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=u, real_name=f"调解员{u[-6:]}", password=password)
         for u, _role, _area in wanted if u not in existing],
        batch_size=2000,
    )  # fmt: skip
    ids = dict(User.objects.filter(username__startswith="b-").values_list("username", "id"))
    assigned = set(
        Assignment.objects.filter(user__username__startswith="b-").values_list("user_id", flat=True)
    )
    Assignment.objects.bulk_create(
        [Assignment(user_id=ids[u], role=role, area_id=area)
         for u, role, area in wanted if ids[u] not in assigned],
        batch_size=2000,
    )  # fmt: skip
    return {area: ids[u] for u, role, area in wanted if role == Role.MEDIATOR}


# --- generation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    id: int
    name: str
    district: int | None
    street: int | None
    community: int | None
    grid: int | None


def _places() -> tuple[list[_Place], list[float]]:
    """Every area cases can be filed on, with its copied ancestors and a weight."""
    from grids.models import Area

    rows = list(Area.objects.values_list("id", "level", "parent_id", "name"))
    by_id = {r[0]: r for r in rows}
    rng = random.Random(7)
    places, weights = [], []
    share = {"micro_grid": 1.0, "grid": 0.35, "dedicated": 0.5}
    for area_id, level, _parent, name in sorted(rows):
        if level not in share:
            continue
        found = {"district": None, "street": None, "community": None, "grid": None}
        cursor = by_id[area_id]
        while cursor is not None:
            cursor_level = cursor[1]
            key = "grid" if cursor_level == "dedicated" else cursor_level
            if key in found and found[key] is None:
                found[key] = cursor[0]
            cursor = by_id.get(cursor[2])
        places.append(_Place(area_id, _clean(name), **found))
        weights.append(share[level] * rng.lognormvariate(0, 1.0))
    return places, weights


def _categories():
    from disputes.models import Category

    rows = list(
        Category.objects.filter(parent__isnull=False)
        .select_related("parent")
        .order_by("code")
        .values_list(
            "id", "name", "default_risk", "default_handling_level", "parent__code",
            "lead_department_id", "parent__lead_department_id",
        )
    )  # fmt: skip
    weights = [CATEGORY_WEIGHTS.get(r[4], 1.0) for r in rows]
    return [(r[0], _clean(r[1]), *r[2:]) for r in rows], weights


def _handling_area(place: _Place, level: str) -> tuple[str, int]:
    """routing.route's QUEUE_AREA_LEVELS, on the copied ancestors."""
    order = {
        "grid": (("grid", place.grid), ("community", place.community)),
        "community": (("community", place.community), ("street", place.street)),
        "street": (("street", place.street), ("district", place.district)),
        "district": (("district", place.district),),
    }[level]
    for handling_level, area_id in order:
        if area_id is not None:
            return handling_level, area_id
    return level, place.id


def _clean(text: str) -> str:
    """Text safe for COPY's text format; applied once per name, not per row."""
    return text.replace("\\", "/").replace("\t", " ").replace("\n", " ").replace("\r", " ")


def _fmt(value) -> str:
    kind = type(value)
    if value is None:
        return "\\N"
    if kind is str:
        return value  # every string is built from _clean()ed names
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime:
        return value.isoformat()
    return str(value)


COLUMNS = (
    "number", "cause", "description", "address", "area_id", "district_id", "street_id",
    "community_id", "grid_id", "category_id", "risk_level", "channel", "people_involved",
    "handling_level", "handling_area_id", "lead_department_id", "mediator_id", "status",
    "resolved_on_spot", "outcome", "outcome_note", "close_kind", "referral_kind", "filed_at",
    "accepted_at", "assigned_at", "first_progress_at", "outcome_at", "resolved_at",
    "closed_at", "withdrawn_at", "referred_at", "sla_policy_id", "assign_due_at",
    "first_update_due_at", "close_due_at", "assigned_on_time", "first_update_on_time",
    "closed_on_time", "created_at", "updated_at",
)  # fmt: skip


def iter_case_rows(
    count: int, *, now: datetime, days: int, seed: int, swept: bool, policy_id: int | None,
    mediators: dict[int, int], checks: list | None = None,
) -> Iterator[tuple]:  # fmt: skip
    """`count` rows in COLUMNS order; each case's SlaCheck row (CHECK_COLUMNS) is appended
    to `checks` if given. The areas and types are read here, before the first row is asked
    for: no query may run on the connection while COPY reads the rows."""
    places, place_weights = _places()
    categories, category_weights = _categories()
    return _rows(count, now=now, days=days, seed=seed, swept=swept, policy_id=policy_id,
                 mediators=mediators, places=places, place_weights=place_weights,
                 categories=categories, category_weights=category_weights,
                 checks=checks if checks is not None else [])  # fmt: skip


# The sweep's bookkeeping, a table of its own (disputes.models.SlaCheck).
CHECK_COLUMNS = ("case_id", "next_check_at", "breached_assign", "breached_first_update",
                 "breached_close")  # fmt: skip


def _rows(count, *, now, days, seed, swept, policy_id, mediators, places, place_weights,
          categories, category_weights, checks) -> Iterator[tuple]:  # fmt: skip
    rng = random.Random(seed)
    place_cum = list(_cumulative(place_weights))
    category_cum = list(_cumulative(category_weights))
    channels = list(CHANNEL_WEIGHTS)
    channel_cum = list(_cumulative(CHANNEL_WEIGHTS.values()))
    fate_cum = list(_cumulative([f[0] for f in FATES]))
    fates = [f[1] for f in FATES]
    span = days * DAY
    year = now.year
    # Rows go in in filing order, as a live system appends them: a month's cases sit
    # together on disk, which is what the period queries' plans (and caches) rely on.
    ages = sorted((rng.random() * span for _ in range(count)), reverse=True)
    for seq, age in enumerate(ages, 1):
        place = rng.choices(places, cum_weights=place_cum)[0]
        cat_id, cat_name, risk, level, _parent, lead, parent_lead = rng.choices(
            categories, cum_weights=category_cum
        )[0]
        roll = rng.random()
        if roll < 0.05:
            risk = "major"
        elif roll < 0.06:
            risk = "serious"
        fate = rng.choices(fates, cum_weights=fate_cum)[0]
        level = "grid" if fate == "on_spot" else LEVEL_FOR_RISK.get(risk, level)
        handling_level, handling_area = _handling_area(place, level)
        filed = now - timedelta(seconds=age)
        people = 2
        roll = rng.random()
        if roll < 0.005:
            people = rng.randint(10, 40)
        elif roll < 0.2:
            people = rng.randint(3, 6)
        row = _life(
            rng, fate=fate, filed=filed, now=now, swept=swept,
            mediator=mediators.get(handling_area) or mediators.get(place.community or 0),
        )  # fmt: skip
        unit = rng.randint(1, 4)
        # Case ids follow the COPY order (the table is truncated with RESTART IDENTITY).
        checks.append((seq, row["next_check"], row["breached_assign"],
                       row["breached_first_update"], row["breached_close"]))  # fmt: skip
        yield (
            f"JF{year}-B{seq:07d}",
            f"{cat_name}{rng.choice(CAUSES)}",
            "",
            f"{place.name}{unit}单元",
            place.id, place.district, place.street, place.community, place.grid,
            cat_id, risk, rng.choices(channels, cum_weights=channel_cum)[0], people,
            handling_level, handling_area, lead or parent_lead, row["mediator"], row["status"],
            fate == "on_spot", row["outcome"], "", row["close_kind"], row["referral_kind"],
            filed, row["accepted_at"], row["assigned_at"], row["first_progress_at"],
            row["outcome_at"], row["resolved_at"], row["closed_at"], row["withdrawn_at"],
            row["referred_at"], policy_id, row["assign_due_at"], row["first_update_due_at"],
            row["close_due_at"], row["assigned_on_time"],
            row["first_update_on_time"], row["closed_on_time"], filed, row["updated_at"],
        )  # fmt: skip


def _cumulative(weights) -> Iterator[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total


def _life(rng: random.Random, *, fate: str, filed: datetime, now: datetime, swept: bool,
          mediator: int | None) -> dict:  # fmt: skip
    """The case's time points up to `now`, its status and SLA fields."""
    assign_due = filed + timedelta(hours=24)
    close_due = filed + timedelta(days=30)
    r = {
        "status": "filed", "mediator": None, "outcome": "", "close_kind": "",
        "referral_kind": "", "accepted_at": None, "assigned_at": None,
        "first_progress_at": None, "outcome_at": None, "resolved_at": None,
        "closed_at": None, "withdrawn_at": None, "referred_at": None,
        "assign_due_at": assign_due, "first_update_due_at": None, "close_due_at": close_due,
        "assigned_on_time": None, "first_update_on_time": None, "closed_on_time": None,
    }  # fmt: skip
    last = filed

    def reached(at: datetime) -> bool:
        return at <= now

    if fate == "on_spot":
        r |= {
            "status": "resolved", "mediator": mediator, "outcome": "agreement",
            "accepted_at": filed, "assigned_at": filed, "first_progress_at": filed,
            "outcome_at": filed, "resolved_at": filed, "first_update_due_at": filed,
            "assigned_on_time": True, "first_update_on_time": True,
        }  # fmt: skip
        return _sla(r, now, filed, swept)
    accepted = filed + timedelta(seconds=rng.expovariate(1 / (2 * HOUR)))
    if fate == "withdrawn":
        withdrawn = filed + timedelta(seconds=rng.expovariate(1 / DAY))
        if reached(withdrawn):
            r |= {"status": "withdrawn", "withdrawn_at": withdrawn}
            last = withdrawn
        return _sla(r, now, last, swept)
    if not reached(accepted):
        return _sla(r, now, last, swept)
    r |= {"status": "accepted", "accepted_at": accepted}
    last = accepted
    if fate == "sent_back":
        r["status"] = "sent_back"
        return _sla(r, now, last, swept)
    assigned = accepted + timedelta(seconds=rng.expovariate(1 / (8 * HOUR)))
    if not reached(assigned):
        return _sla(r, now, last, swept)
    first_due = assigned + timedelta(hours=24)
    r |= {
        "status": "assigned", "mediator": mediator, "assigned_at": assigned,
        "first_update_due_at": first_due, "assigned_on_time": assigned <= assign_due,
    }  # fmt: skip
    last = assigned
    progress = assigned + timedelta(seconds=rng.expovariate(1 / (10 * HOUR)))
    if not reached(progress):
        return _sla(r, now, last, swept)
    r |= {
        "status": "in_mediation", "first_progress_at": progress,
        "first_update_on_time": progress <= first_due,
    }  # fmt: skip
    last = progress
    if fate == "stuck":
        return _sla(r, now, last, swept)
    settled = progress + timedelta(seconds=rng.lognormvariate(math.log(6 * DAY), 0.8))
    if not reached(settled):
        return _sla(r, now, last, swept)
    closed = settled + timedelta(seconds=rng.expovariate(1 / (2 * DAY)))
    if fate == "referred":
        r |= {"status": "referred", "referred_at": settled, "referral_kind": "litigation"}
        last = settled
        if rng.random() < 0.5 and reached(closed):
            r |= {"status": "closed", "closed_at": closed, "close_kind": "procedural",
                  "outcome": "failed", "closed_on_time": closed <= close_due}  # fmt: skip
            last = closed
        return _sla(r, now, last, swept)
    if fate == "failed":
        r |= {"outcome": "failed", "outcome_at": settled}
        last = settled
        if reached(closed):
            r |= {"status": "closed", "closed_at": closed, "close_kind": "procedural",
                  "closed_on_time": closed <= close_due}  # fmt: skip
            last = closed
        return _sla(r, now, last, swept)
    outcome = "agreement" if rng.random() < 0.9 else "partial"
    r |= {"status": "resolved", "outcome": outcome, "outcome_at": settled, "resolved_at": settled}
    last = settled
    if rng.random() < 0.9 and reached(closed):
        r |= {"status": "closed", "closed_at": closed, "close_kind": "substantive",
              "closed_on_time": closed <= close_due}  # fmt: skip
        last = closed
    return _sla(r, now, last, swept)


OPEN = {"filed", "sent_back", "accepted", "assigned", "in_mediation"}


def _sla(r: dict, now: datetime, last: datetime, swept: bool) -> dict:
    """Breach flags and the next check time, as the sweep leaves them (sla.next_check_at)."""
    pending = {}
    if r["status"] in OPEN:
        pending["close"] = r["close_due_at"]
        if r["assigned_at"] is None:
            pending["assign"] = r["assign_due_at"]
        elif r["first_progress_at"] is None:
            pending["first"] = r["first_update_due_at"]

    def breached(key: str, done: datetime | None, due: datetime | None) -> bool:
        if not swept or due is None:
            return False
        if key in pending:
            return now > due
        return done is not None and done > due

    concluded = r["resolved_at"] or r["closed_at"] or r["referred_at"]
    r["breached_assign"] = breached("assign", r["assigned_at"], r["assign_due_at"])
    r["breached_first_update"] = breached("first", r["first_progress_at"], r["first_update_due_at"])
    r["breached_close"] = breached("close", concluded, r["close_due_at"])
    flags = {"assign": "breached_assign", "first": "breached_first_update",
             "close": "breached_close"}  # fmt: skip
    # A step done late leaves its deadline to be recorded too (sla.pending_and_late): with
    # swept=False its flag is unset, so the backlog's next check is that deadline.
    late = {
        key: due
        for key, done, due in (("assign", r["assigned_at"], r["assign_due_at"]),
                               ("first", r["first_progress_at"], r["first_update_due_at"]),
                               ("close", concluded, r["close_due_at"]))
        if key not in pending and done is not None and due is not None and done > due
    }  # fmt: skip
    remaining = [due for key, due in (pending | late).items() if not r[flags[key]]]
    r["next_check"] = min(remaining, default=None)
    r["updated_at"] = last
    return r


class _CopySource(io.TextIOBase):
    """A file-like object COPY reads from, generating lines on demand (no full file).
    psycopg2 sends whatever one read() returns, so each call hands over one batch."""

    def __init__(self, rows: Iterator[tuple], batch: int = 5000):
        self.rows = rows
        self.batch = batch
        self.written = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        lines = []
        for row in self.rows:
            lines.append("\t".join(map(_fmt, row)))
            if len(lines) >= self.batch:
                break
        self.written += len(lines)
        return "\n".join(lines) + "\n" if lines else ""


# --- loading --------------------------------------------------------------------------------

DATASET_TABLE = "bench_dataset"


def _signature(count, scale, seed, days, now, swept) -> str:
    return (
        f"v{GENERATOR_VERSION} cases={count} scale={scale:g} seed={seed} days={days} "
        f"now={now.isoformat()} swept={swept}"
    )


def _recorded_signature(cursor) -> str | None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {DATASET_TABLE} (name text PRIMARY KEY, signature text, "
        "loaded_at timestamptz)"
    )
    cursor.execute(f"SELECT signature FROM {DATASET_TABLE} WHERE name = 'cases'")
    row = cursor.fetchone()
    return row[0] if row else None


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that no constraint owns."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = %s AND i.indexname NOT IN (
               SELECT c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conindid
               WHERE k.conrelid = %s::regclass)""",
        [table, table],
    )
    return cursor.fetchall()


def ensure_cases(
    count: int, *, scale: float = 1.0, seed: int = DEFAULT_SEED, days: int = 730,
    now: datetime | None = None, swept: bool = True,
) -> CaseSet:  # fmt: skip
    """The city at `scale` with exactly this set of `count` cases (see the module docstring).
    Call after `prepare_database()` and `setup_django()`."""
    from django.db import connection

    from disputes.models import Case
    from sla.models import SlaPolicy

    # Anchored at the start of today (UTC), so the data set is reused all day long.
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ensure_city(scale)
    ensure_reference_data()
    mediators = ensure_staff()
    signature = _signature(count, scale, seed, days, now, swept)
    table = Case._meta.db_table
    with connection.cursor() as cursor:
        recorded = _recorded_signature(cursor)
    loaded = False
    seconds = 0.0
    # The loaded cases are ids 1 … count (RESTART IDENTITY below): cases a benchmark files
    # meanwhile (bench_lists, deleted after) come later and do not make another process
    # reload the whole set under their feet (TRUNCATE waits for, then blocks, every filing).
    if recorded != signature or Case.objects.filter(pk__lte=count).count() != count:
        policy = SlaPolicy.objects.filter(code="default", is_active=True).order_by("-version")
        policy_id = policy.values_list("pk", flat=True).first()
        checks: list[tuple] = []
        rows = iter_case_rows(count, now=now, days=days, seed=seed, swept=swept,
                              policy_id=policy_id, mediators=mediators,
                              checks=checks)  # fmt: skip
        with timed() as t:
            _copy_cases(table, rows, checks)
        seconds, loaded = t["seconds"], True
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {DATASET_TABLE} VALUES ('cases', %s, now()) ON CONFLICT (name) "
                "DO UPDATE SET signature = excluded.signature, loaded_at = excluded.loaded_at",
                [signature],
            )
    return CaseSet(
        count=count, now=now, days=days, signature=signature, loaded=loaded, seconds=seconds,
        streets=_busiest(table, "street_id"), districts=_busiest(table, "district_id"),
    )  # fmt: skip


def _copy_cases(table: str, rows: Iterator[tuple], checks: list[tuple]) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY CASCADE")
        indexes = _secondary_indexes(cursor, table)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Every foreign key is generated from ids read a moment ago; checking 2 million
        # rows × 10 keys one by one would triple the load time.
        cursor.execute("SET LOCAL session_replication_role = replica")
        source = _CopySource(rows)
        with timed() as t:
            cursor.cursor.copy_expert(
                f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN WITH (FORMAT text)", source
            )
        print(f"copied {source.written:,} cases in {t['seconds']:.1f} s")
        # Filled while the cases streamed; TRUNCATE … CASCADE above emptied the table.
        cursor.cursor.copy_expert(
            f"COPY disputes_slacheck ({', '.join(CHECK_COLUMNS)}) FROM STDIN WITH (FORMAT text)",
            _CopySource(iter(checks)),
        )
        checks.clear()
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        with timed() as t:
            for _name, definition in indexes:
                cursor.execute(definition)
        print(f"rebuilt {len(indexes)} indexes in {t['seconds']:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("ANALYZE disputes_slacheck")


def _busiest(table: str, column: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL GROUP BY {column} "
            f"ORDER BY count(*) DESC, {column}"
        )
        return [r[0] for r in cursor.fetchall()]
