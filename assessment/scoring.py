"""From the sources' counts to every unit's scorecard: add the grains up into districts,
streets, communities and people, weigh the rates, band by volume and rank. Pure Python over
a few thousand grouped rows; the reads are in figures.py (one query per source) and three
more here for the units' names."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from grids.models import Area, AreaLevel, Department, User

from . import metrics
from .figures import Counts, Window
from .models import UnitKind

K = UnitKind
TWO_PLACES = Decimal("0.01")


@dataclass
class Unit:
    kind: str
    unit_id: int
    district_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    name: str = ""
    place: str = ""
    figures: dict = field(default_factory=dict)
    volume: int = 0
    band: str = ""
    score: Decimal | None = None
    rank: int | None = None
    ranked_among: int | None = None


@dataclass(frozen=True)
class Config:
    """What a snapshot is scored with (copied from the scheme, stored on the snapshot)."""

    weights: dict  # {metric: Decimal}
    bands: list  # [{"kind", "label", "min", "max"}] in order


def _add(target: dict, figures: dict) -> None:
    for key, (part, whole) in figures.items():
        if key not in target:
            target[key] = [part, whole]
            continue
        total = target[key]
        total[0] += part
        if whole is not None:
            total[1] = (total[1] or 0) + whole


def gather(window: Window) -> Counts:
    """Every source's counts, merged."""
    merged = Counts()
    for source in metrics.sources():
        counts = source(window)
        for grain, figures in counts.grains.items():
            _add(merged.grains[grain], figures)
        for department, figures in counts.departments.items():
            _add(merged.departments[department], figures)
    return merged


def _area_units() -> tuple[dict[tuple, Unit], dict[int, str]]:
    """Every district, street and community (with zeros until counted), and every such
    area's name by id. One query."""
    rows = list(
        Area.objects.filter(
            level__in=(AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
        ).values_list("pk", "level", "parent_id", "name")
    )
    parents = {pk: (level, parent) for pk, level, parent, _name in rows}
    names = {pk: name for pk, _level, _parent, name in rows}
    units = {}
    for pk, level, parent, name in rows:
        if level == AreaLevel.DISTRICT:
            units[(K.DISTRICT, pk, None)] = Unit(K.DISTRICT, pk, district_id=pk, name=name)
        elif level == AreaLevel.STREET:
            units[(K.STREET, pk, None)] = Unit(
                K.STREET, pk, district_id=parent, street_id=pk, name=name,
                place=names.get(parent, ""),
            )  # fmt: skip
        else:
            district = parents.get(parent, (None, None))[1]
            units[(K.COMMUNITY, pk, None)] = Unit(
                K.COMMUNITY, pk, district_id=district, street_id=parent, community_id=pk,
                name=name, place=_join(names.get(district), names.get(parent)),
            )  # fmt: skip
    return units, names


def _join(*names) -> str:
    return " / ".join(n for n in names if n)


def roll_up(counts: Counts) -> list[Unit]:
    """One unit per district, street, community (all of them), person and department."""
    units, names = _area_units()
    people: dict[tuple, Unit] = {}
    extra_communities: set[int] = set()
    for (d, s, c, p), figures in counts.grains.items():
        if d is not None:
            _add(units.setdefault((K.DISTRICT, d, None), Unit(K.DISTRICT, d, d)).figures, figures)
        if s is not None:
            street = units.setdefault((K.STREET, s, None), Unit(K.STREET, s, d, s))
            _add(street.figures, figures)
        if c is not None:
            key = (K.COMMUNITY, c, None)
            if key not in units:  # a grid directly under a street
                units[key] = Unit(K.COMMUNITY, c, d, s, c)
                extra_communities.add(c)
            _add(units[key].figures, figures)
        if p is not None:
            person = people.setdefault((K.PERSON, p, c), Unit(K.PERSON, p, d, s, c))
            _add(person.figures, figures)
    _name_extra_communities(units, extra_communities, names)
    _name_people(people, names)
    result = [*units.values(), *people.values(), *_departments(counts)]
    for unit in result:
        unit.volume = unit.figures.get(_VOLUME_KEY[unit.kind], [0])[0]
    return result


_VOLUME_KEY = {
    K.DISTRICT: "filed",
    K.STREET: "filed",
    K.COMMUNITY: "filed",
    K.PERSON: "assigned",
    K.DEPARTMENT: "dispatched",
}


def _name_extra_communities(units, ids: set[int], names: dict) -> None:
    found = dict(Area.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for pk in ids:
        unit = units[(K.COMMUNITY, pk, None)]
        unit.name = found.get(pk, str(pk))
        unit.place = _join(names.get(unit.district_id), names.get(unit.street_id))


def _name_people(people: dict, names: dict) -> None:
    ids = {unit.unit_id for unit in people.values()}
    found = {
        pk: real_name or username
        for pk, real_name, username in User.objects.filter(pk__in=ids).values_list(
            "pk", "real_name", "username"
        )
    }
    for unit in people.values():
        unit.name = found.get(unit.unit_id, str(unit.unit_id))
        unit.place = _join(names.get(unit.street_id), names.get(unit.community_id))


def _departments(counts: Counts) -> list[Unit]:
    result = []
    rows = Department.objects.values_list("pk", "name", "district_id", "is_active")
    for pk, name, district, active in rows:
        if not active and pk not in counts.departments:
            continue
        unit = Unit(K.DEPARTMENT, pk, district_id=district, name=name)
        _add(unit.figures, counts.departments.get(pk, {}))
        result.append(unit)
    return result


# --- scores, bands and ranks ------------------------------------------------------------------


def score(unit: Unit, weights: dict) -> Decimal | None:
    total = weighted = Decimal(0)
    penalty = Decimal(0)
    for metric in metrics.for_kind(unit.kind):
        weight = Decimal(weights.get(metric.code, 0))
        part, whole = unit.figures.get(metric.code, [0, None if metric.is_count else 0])
        if metric.is_count:
            penalty += weight * part
        elif whole and weight:
            total += weight
            weighted += weight * Decimal(part) / Decimal(whole)
    if not total:
        return None
    value = max(Decimal(0), weighted / total * 100 - penalty)
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def band_of(kind: str, volume: int, bands: list) -> str:
    for band in bands:
        if band["kind"] != kind:
            continue
        if volume >= band["min"] and (band["max"] is None or volume <= band["max"]):
            return band["label"]
    return ""


def rank(units: list[Unit]) -> None:
    """Equal scores share a rank (1, 2, 2, 4), within kind, district and band; districts
    across the city."""
    groups: dict[tuple, list[Unit]] = defaultdict(list)
    for unit in units:
        if unit.score is None:
            continue
        district = None if unit.kind == K.DISTRICT else unit.district_id
        groups[(unit.kind, district, unit.band)].append(unit)
    for members in groups.values():
        members.sort(key=lambda u: -u.score)
        previous, position = None, 0
        for index, unit in enumerate(members, 1):
            if unit.score != previous:
                position, previous = index, unit.score
            unit.rank, unit.ranked_among = position, len(members)


def scorecards(window: Window, config: Config) -> list[Unit]:
    units = roll_up(gather(window))
    for unit in units:
        applicable = {m.code for m in metrics.for_kind(unit.kind)}
        unit.figures = {
            code: unit.figures.get(code, [0, None if metrics.BY_CODE[code].is_count else 0])
            for code in sorted(applicable)
        }
        unit.band = band_of(unit.kind, unit.volume, config.bands)
        unit.score = score(unit, config.weights)
    rank(units)
    return units
