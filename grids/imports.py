"""CSV import of areas and staff: validate every row first, then write all or nothing.

Both importers are idempotent (re-importing a file changes nothing), accept UTF-8 with or
without the BOM Excel adds, and accept English or Chinese column headers and level/role
names, because the files usually come from a spreadsheet kept by a street office.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from .models import (
    ALLOWED_PARENT_LEVELS,
    Area,
    AreaLevel,
    Assignment,
    DedicatedKind,
    Department,
    Role,
    User,
    assignment_place_error,
    parent_level_error,
)
from .services import assignment_create

Progress = Callable[[int, int], None]
BATCH = 2000


@dataclass
class ImportResult:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line: int, message: str):
        self.errors.append({"line": line, "message": str(message)})


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, missing columns)."""


def _choice_lookup(choices) -> dict[str, str]:
    lookup = {}
    for value, label in choices:
        lookup[value.lower()] = value
        lookup[str(label).lower()] = value
    return lookup


# Chinese names found in real spreadsheets, beside the translated labels.
LEVEL_ALIASES = {
    "区": "district",
    "区县": "district",
    "县": "district",
    "街道": "street",
    "镇": "street",
    "街镇": "street",
    "社区": "community",
    "村": "community",
    "村社": "community",
    "网格": "grid",
    "专属网格": "dedicated",
    "微网格": "micro_grid",
    "小分格": "micro_grid",
}
DEDICATED_ALIASES = {"学校": "school", "医院": "hospital", "市场": "market", "园区": "park"}
ROLE_ALIASES = {
    "网格员": "grid_worker",
    "微网格长": "micro_grid_head",
    "调解员": "mediator",
    "社区书记": "community_secretary",
    "综治中心工作人员": "street_staff",
    "街道工作人员": "street_staff",
    "街道领导": "street_leader",
    "区中心工作人员": "district_staff",
    "部门联络员": "department_liaison",
    "法官": "judge",
    "检察官": "prosecutor",
    "警官": "police",
    "民警": "police",
    "律师": "lawyer",
    "管理员": "admin",
}

AREA_HEADERS = {
    "code": ("code", "编码", "区域编码"),
    "name": ("name", "名称", "区域名称"),
    "level": ("level", "层级", "级别"),
    "parent_code": ("parent_code", "上级编码", "上级区域编码"),
    "households": ("households", "户数"),
    "dedicated_kind": ("dedicated_kind", "专属类型"),
    "latitude": ("latitude", "纬度"),
    "longitude": ("longitude", "经度"),
}
STAFF_HEADERS = {
    "username": ("username", "用户名", "账号"),
    "real_name": ("real_name", "姓名"),
    "phone": ("phone", "手机", "电话", "手机号"),
    "email": ("email", "邮箱"),
    "role": ("role", "角色"),
    "area_code": ("area_code", "区域编码"),
    "department_code": ("department_code", "部门编码"),
    "started_at": ("started_at", "开始时间", "任职时间"),
}


def read_csv(data: bytes, headers: dict[str, tuple[str, ...]], required: Iterable[str]):
    """Yield (line_number, {canonical_column: value}) for each non-empty row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The file is not UTF-8 text. In Excel choose “CSV UTF-8” when saving.")
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_row = next(reader)
    except StopIteration as exc:
        raise ImportFileError(_("The file is empty.")) from exc
    alias_to_column = {alias.lower(): col for col, aliases in headers.items() for alias in aliases}
    positions = {}
    for index, title in enumerate(header_row):
        column = alias_to_column.get(title.strip().lower())
        if column and column not in positions:
            positions[column] = index
    missing = [headers[c][0] for c in required if c not in positions]
    if missing:
        raise ImportFileError(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
    rows = []
    for line, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        rows.append(
            (line, {col: (raw[i].strip() if i < len(raw) else "") for col, i in positions.items()})
        )
    return rows


def _parse_decimal(value: str, low: int, high: int, label: str):
    if not value:
        return None, None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None, _("%(label)s “%(value)s” is not a number.") % {"label": label, "value": value}
    if not low <= number <= high:
        return None, _("%(label)s must be between %(low)s and %(high)s.") % {
            "label": label,
            "low": low,
            "high": high,
        }
    return number.quantize(Decimal("0.000001")), None


LEVEL_RANK = {
    AreaLevel.DISTRICT: 0,
    AreaLevel.STREET: 1,
    AreaLevel.COMMUNITY: 2,
    AreaLevel.GRID: 3,
    AreaLevel.DEDICATED: 3,
    AreaLevel.MICRO_GRID: 4,
}
# Every allowed parent ranks strictly lower, so the file cannot contain a cycle.
assert all(
    parent is None or LEVEL_RANK[parent] < LEVEL_RANK[level]
    for level, parents in ALLOWED_PARENT_LEVELS.items()
    for parent in parents
)


def import_areas(data: bytes, *, progress: Progress | None = None) -> ImportResult:
    result = ImportResult()
    rows = read_csv(data, AREA_HEADERS, ("code", "name", "level", "parent_code"))
    result.total = len(rows)
    levels = _choice_lookup(AreaLevel.choices) | LEVEL_ALIASES
    kinds = _choice_lookup(DedicatedKind.choices) | DEDICATED_ALIASES

    # Translated once, not per row: at 137,000 rows gettext was a sixth of the import time.
    coordinate_rules = (
        ("latitude", -90, 90, _("Latitude")),
        ("longitude", -180, 180, _("Longitude")),
    )
    parsed: dict[str, dict] = {}
    for line, row in rows:
        code, name = row["code"], row["name"]
        if not code:
            result.error(line, _("The code is empty."))
            continue
        if len(code) > 32:
            result.error(
                line, _("The code “%(code)s” is longer than 32 characters.") % {"code": code}
            )
            continue
        if code in parsed:
            result.error(
                line,
                _("The code “%(code)s” already appears on line %(other)s.")
                % {"code": code, "other": parsed[code]["line"]},
            )
            continue
        item = {"line": line, "code": code, "name": name, "parent_code": row["parent_code"]}
        parsed[code] = item
        if not name:
            result.error(line, _("The name is empty."))
        elif len(name) > 100:
            result.error(line, _("The name is longer than 100 characters."))
        item["level"] = levels.get(row["level"].lower())
        if item["level"] is None:
            result.error(line, _("Unknown level “%(level)s”.") % {"level": row["level"]})
        households = row.get("households", "")
        item["households"] = 0
        if households:
            if households.isdigit():
                item["households"] = int(households)
            else:
                result.error(
                    line, _("Households “%(value)s” is not a whole number.") % {"value": households}
                )
        raw_kind = row.get("dedicated_kind", "")
        item["dedicated_kind"] = kinds.get(raw_kind.lower(), None) if raw_kind else ""
        if item["dedicated_kind"] is None:
            result.error(line, _("Unknown dedicated grid kind “%(kind)s”.") % {"kind": raw_kind})
        elif item["level"] == AreaLevel.DEDICATED and not item["dedicated_kind"]:
            result.error(line, _("A dedicated grid needs a kind (school, hospital, market, park)."))
        elif item["level"] and item["level"] != AreaLevel.DEDICATED and item["dedicated_kind"]:
            result.error(line, _("Only a dedicated grid has a dedicated kind."))
        for key, low, high, label in coordinate_rules:
            item[key], error = _parse_decimal(row.get(key, ""), low, high, label)
            if error:
                result.error(line, error)

    codes = set(parsed) | {i["parent_code"] for i in parsed.values() if i["parent_code"]}
    existing = _existing_areas(codes)

    for code, item in parsed.items():
        if item.get("level") is None:
            continue
        parent_code = item["parent_code"]
        parent_level = None
        if parent_code:
            if parent_code == code:
                result.error(item["line"], _("An area cannot be its own parent."))
                continue
            parent = parsed.get(parent_code) or existing.get(parent_code)
            if parent is None:
                result.error(
                    item["line"],
                    _("The parent code “%(code)s” is neither in the file nor in the system.")
                    % {"code": parent_code},
                )
                continue
            parent_level = parent["level"]
            if parent_level is None:
                continue  # the parent's own line already carries the error
        error = parent_level_error(item["level"], parent_level)
        if error:
            result.error(item["line"], error)
        current = existing.get(code)
        if current:
            if current["level"] != item["level"]:
                result.error(
                    item["line"],
                    _("Area “%(code)s” already exists as a %(level)s; levels cannot change.")
                    % {"code": code, "level": AreaLevel(current["level"]).label},
                )
            if (current["parent_code"] or "") != parent_code:
                result.error(
                    item["line"],
                    _(
                        "Area “%(code)s” already exists under “%(parent)s”; move it in the "
                        "admin instead of re-importing."
                    )
                    % {"code": code, "parent": current["parent_code"] or "—"},
                )

    if result.errors:
        result.errors.sort(key=lambda e: e["line"])
        return result
    _apply_areas(parsed, existing, result, progress)
    return result


def _existing_areas(codes: set[str]) -> dict[str, dict]:
    found = {}
    codes = list(codes)
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        for area in Area.objects.filter(code__in=chunk).values(
            "id",
            "code",
            "name",
            "level",
            "path",
            "households",
            "dedicated_kind",
            "latitude",
            "longitude",
            "parent__code",
        ):
            area["parent_code"] = area.pop("parent__code")
            found[area["code"]] = area
    return found


AREA_FIELDS = ("name", "households", "dedicated_kind", "latitude", "longitude")


@transaction.atomic
def _apply_areas(parsed, existing, result: ImportResult, progress: Progress | None):
    done = 0
    to_update = []
    for code, item in parsed.items():
        current = existing.get(code)
        if current is None:
            continue
        changes = {f: item[f] for f in AREA_FIELDS if current[f] != item[f]}
        if changes:
            area = Area(pk=current["id"], **{f: item[f] for f in AREA_FIELDS})
            to_update.append(area)
        else:
            result.unchanged += 1
        done += 1
    if to_update:
        Area.objects.bulk_update(to_update, AREA_FIELDS, batch_size=BATCH)
        result.updated = len(to_update)
    if progress:
        progress(done, result.total)

    new_items = sorted(
        (i for c, i in parsed.items() if c not in existing), key=lambda i: LEVEL_RANK[i["level"]]
    )
    if not new_items:
        return
    # Lock the tree while we hand out materialized-path steps, so a concurrent admin
    # edit cannot take the same step.
    list(Area.objects.select_for_update().filter(depth=1).values_list("pk"))
    paths = {c: a["path"] for c, a in existing.items()}
    ids = {c: a["id"] for c, a in existing.items()}
    next_step = _next_child_steps(
        {ids[i["parent_code"]] for i in new_items if i["parent_code"] in ids}
    )

    for rank in sorted({LEVEL_RANK[i["level"]] for i in new_items}):
        batch = [i for i in new_items if LEVEL_RANK[i["level"]] == rank]
        objects = []
        for item in batch:
            parent_code = item["parent_code"]
            parent_key = ids.get(parent_code) if parent_code else None
            step = next_step[parent_key]
            next_step[parent_key] = step + 1
            parent_path = paths[parent_code] if parent_code else ""
            path = parent_path + Area._int2str(step).rjust(Area.steplen, Area.alphabet[0])
            if len(path) != len(parent_path) + Area.steplen:
                raise ImportFileError(_("Too many children under one parent."))
            objects.append(
                Area(
                    code=item["code"],
                    name=item["name"],
                    level=item["level"],
                    parent_id=parent_key,
                    path=path,
                    depth=len(path) // Area.steplen,
                    numchild=0,
                    **{f: item[f] for f in AREA_FIELDS if f != "name"},
                )
            )
        for start in range(0, len(objects), BATCH):
            created = Area.objects.bulk_create(objects[start : start + BATCH])
            for area in created:
                paths[area.code] = area.path
                ids[area.code] = area.pk
            done += len(created)
            result.created += len(created)
            if progress:
                progress(done, result.total)

    parent_ids = {ids[i["parent_code"]] for i in new_items if i["parent_code"]}
    _refresh_numchild(parent_ids)


def _next_child_steps(parent_ids: set[int]) -> dict:
    """The next free path step under each parent (None = the root level)."""
    steps: dict = defaultdict(lambda: 1)
    last_root = Area.objects.filter(depth=1).aggregate(m=Max("path"))["m"]
    if last_root:
        steps[None] = Area._str2int(last_root) + 1
    ids = list(parent_ids)
    for start in range(0, len(ids), 5000):
        rows = (
            Area.objects.filter(parent_id__in=ids[start : start + 5000])
            .values("parent_id")
            .annotate(last=Max("path"))
            .order_by()
        )
        for row in rows:
            steps[row["parent_id"]] = Area._str2int(row["last"][-Area.steplen :]) + 1
    return steps


def _refresh_numchild(parent_ids: set[int]):
    children = (
        Area.objects.filter(parent_id=OuterRef("pk"))
        .order_by()
        .values("parent_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    ids = list(parent_ids)
    for start in range(0, len(ids), 5000):
        Area.objects.filter(pk__in=ids[start : start + 5000]).update(numchild=Subquery(children))


# --- staff ------------------------------------------------------------------------------

_username_validator = UnicodeUsernameValidator()


def _parse_when(value: str):
    if not value:
        return None, None
    when = parse_datetime(value)
    if when is None:
        day = parse_date(value.replace("/", "-"))
        if day is not None:
            when = datetime(day.year, day.month, day.day)
    if when is None:
        return None, _("“%(value)s” is not a date (use 2026-01-31).") % {"value": value}
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when, None


def import_staff(
    data: bytes, *, progress: Progress | None = None, actor: User | None = None
) -> ImportResult:
    result = ImportResult()
    rows = read_csv(data, STAFF_HEADERS, ("username", "real_name", "role"))
    result.total = len(rows)
    roles = _choice_lookup(Role.choices) | ROLE_ALIASES

    area_codes = {r["area_code"] for _line, r in rows if r.get("area_code")}
    dept_codes = {r["department_code"] for _line, r in rows if r.get("department_code")}
    areas = {a.code: a for a in Area.objects.filter(code__in=area_codes)}
    departments = {d.code: d for d in Department.objects.filter(code__in=dept_codes)}
    users_in_file: dict[str, dict] = {}
    items = []
    for line, row in rows:
        username = row["username"]
        errors_before = len(result.errors)
        if not username:
            result.error(line, _("The username is empty."))
        else:
            try:
                _username_validator(username)
            except ValidationError:
                result.error(
                    line, _("The username “%(u)s” has invalid characters.") % {"u": username}
                )
        if not row["real_name"]:
            result.error(line, _("The real name is empty."))
        phone = row.get("phone", "")
        if phone and not phone.replace("-", "").replace(" ", "").isdigit():
            result.error(line, _("The phone “%(p)s” is not a phone number.") % {"p": phone})
        role = roles.get(row["role"].lower())
        if role is None:
            result.error(line, _("Unknown role “%(role)s”.") % {"role": row["role"]})
        area = department = None
        if row.get("area_code"):
            area = areas.get(row["area_code"])
            if area is None:
                result.error(line, _("No area with code “%(c)s”.") % {"c": row["area_code"]})
        if row.get("department_code"):
            department = departments.get(row["department_code"])
            if department is None:
                result.error(
                    line, _("No department with code “%(c)s”.") % {"c": row["department_code"]}
                )
        if (
            role
            and not (row.get("area_code") and area is None)
            and not (row.get("department_code") and department is None)
        ):
            place_error = assignment_place_error(role, area, department)
            if place_error:
                result.error(line, next(iter(place_error.values())))
        started_at, when_error = _parse_when(row.get("started_at", ""))
        if when_error:
            result.error(line, when_error)
        person = {k: row.get(k, "") for k in ("real_name", "phone", "email")}
        if username in users_in_file and users_in_file[username]["person"] != person:
            result.error(
                line,
                _("User “%(u)s” appears on line %(other)s with different details.")
                % {"u": username, "other": users_in_file[username]["line"]},
            )
        users_in_file.setdefault(username, {"line": line, "person": person})
        if len(result.errors) == errors_before:
            items.append(
                {
                    "line": line,
                    "username": username,
                    "person": person,
                    "role": role,
                    "area": area,
                    "department": department,
                    "started_at": started_at,
                }
            )
    if result.errors:
        return result
    _apply_staff(items, result, progress, actor)
    return result


@transaction.atomic
def _apply_staff(items, result: ImportResult, progress: Progress | None, actor: User | None):
    usernames = {i["username"] for i in items}
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    # Open-ended rows, not only active ones: a future start date must not be duplicated.
    active = set(
        Assignment.objects.filter(ended_at__isnull=True, user__username__in=usernames).values_list(
            "user__username", "role", "area_id", "department_id"
        )
    )
    touched_users: set[str] = set()
    for done, item in enumerate(items, start=1):
        changed = False
        user = users.get(item["username"])
        person = item["person"]
        if user is None:
            user = User(username=item["username"], **person)
            user.set_unusable_password()
            user.save()
            users[user.username] = user
            changed = True
        elif item["username"] not in touched_users:
            diff = [k for k, v in person.items() if getattr(user, k) != v]
            if diff:
                for k in diff:
                    setattr(user, k, person[k])
                user.save(update_fields=diff)
                changed = True
        touched_users.add(item["username"])
        key = (
            item["username"],
            item["role"],
            item["area"].pk if item["area"] else None,
            item["department"].pk if item["department"] else None,
        )
        if key not in active:
            # Through the service, so the assignment's history names who imported it; the
            # rows were validated above, so no per-row full_clean (three lookups each).
            assignment_create(
                user=user,
                role=item["role"],
                area=item["area"],
                department=item["department"],
                started_at=item["started_at"] or timezone.now(),
                note=_("Imported"),
                actor=actor,
                validated=True,
            )
            active.add(key)
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
        if progress and (done % 500 == 0 or done == len(items)):
            progress(done, result.total)
