"""A deterministic, city-sized area tree shaped like Zhengzhou (see shared DOMAIN.md).

Zhengzhou reports 212 street-level grids, 3,460 community grids, 19,557 third-level grids,
6,331 dedicated grids and 107,158 micro-grids: with its 16 district-level areas, about
137,000 areas. `iter_areas(scale=…)` yields that tree depth-first (every parent before its
children), streamed, so later benchmarks can reuse the same tree for cases, staff, etc.:

    for row in iter_areas(scale=1.0):
        row.code, row.level, row.parent_code ...

The same seed and scale always give the same rows, byte for byte.

CLI: python benchmarks/generate_city.py --out benchmarks/data/city.csv --scale 1.0
"""

import argparse
import csv
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

CSV_COLUMNS = (
    "code", "name", "level", "parent_code", "households", "dedicated_kind", "latitude",
    "longitude",
)  # fmt: skip
DEFAULT_SEED = 20240818


@dataclass(frozen=True)
class CityShape:
    """How many areas of each kind the city has at scale 1.0 (Zhengzhou's figures)."""

    districts: int = 16
    streets: int = 212
    communities: int = 3_460
    grids: int = 19_557
    dedicated: int = 6_331
    micro_grids: int = 107_158
    # Shares of the counts above that hang one level higher than usual.
    grids_under_streets: float = 0.04
    dedicated_under_streets: float = 0.20
    micro_grids_under_dedicated: float = 0.03

    def scaled(self, scale: float) -> "CityShape":
        def n(value: int) -> int:
            return max(1, round(value * scale))

        return CityShape(
            districts=n(self.districts),
            streets=n(self.streets),
            communities=n(self.communities),
            grids=n(self.grids),
            dedicated=n(self.dedicated),
            micro_grids=n(self.micro_grids),
            grids_under_streets=self.grids_under_streets,
            dedicated_under_streets=self.dedicated_under_streets,
            micro_grids_under_dedicated=self.micro_grids_under_dedicated,
        )

    @property
    def total(self) -> int:
        return (
            self.districts
            + self.streets
            + self.communities
            + self.grids
            + self.dedicated
            + self.micro_grids
        )


ZHENGZHOU = CityShape()


class AreaRow(NamedTuple):
    code: str
    name: str
    level: str
    parent_code: str
    households: str
    dedicated_kind: str
    latitude: str
    longitude: str


# (name, rural): counties and county-level cities have towns (镇) and villages (村).
DISTRICTS = (
    ("中原区", False), ("二七区", False), ("管城回族区", False), ("金水区", False),
    ("上街区", False), ("惠济区", False), ("中牟县", True), ("巩义市", True),
    ("荥阳市", True), ("新密市", True), ("新郑市", True), ("登封市", True),
    ("郑东新区", False), ("郑州经济技术开发区", False), ("郑州高新技术产业开发区", False),
    ("郑州航空港经济综合实验区", True),
)  # fmt: skip
PLACES = (
    "金水", "紫荆", "文化", "花园", "丰产", "经纬", "建设", "人民", "未来", "东风",
    "南阳", "北林", "杜岭", "商城", "陇海", "航海", "嵩山", "桐柏", "淮河", "伏牛",
    "秦岭", "棉纺", "煤仓", "二七", "解放", "铭功", "福华", "大学", "兴华", "长江",
    "汝河", "须水", "石佛", "沟赵", "龙湖", "如意", "博学", "祭城", "白沙", "九龙",
    "新城", "北下", "城东", "南曹", "圃田", "刘寨", "郑庄", "柳林", "老鸦陈", "花园口",
    "古荥", "薛店", "孟庄", "龙王", "八岗", "梨河", "东赵", "枫杨", "凤凰", "盛和",
    "天健", "鸿园", "锦艺", "京广", "工人", "绿城", "翠竹", "桃源",
)  # fmt: skip
COMMUNITY_SUFFIXES = ("路", "东", "西", "南", "北", "苑", "里", "花园", "新村", "家园", "")
DEDICATED_KINDS = (
    # kind, weight, name endings
    ("school", 40, ("第一小学", "实验小学", "中学", "外国语学校", "职业技术学院")),
    ("hospital", 15, ("人民医院", "中医院", "妇幼保健院", "社区卫生服务中心", "骨科医院")),
    ("market", 25, ("农贸市场", "批发市场", "商贸城", "菜市场")),
    ("park", 20, ("产业园", "科技园", "物流园", "工业园")),
)
CITY_CENTRE = (34.7466, 113.6254)


def split(total: int, parents: int, rng: random.Random, *, minimum=0, sparsity=0.0) -> list[int]:
    """`total` children spread over `parents` unevenly (log-normal), summing exactly to total.

    `sparsity` is the share of parents that get no children beyond the minimum.
    """
    if parents <= 0:
        return []
    minimum = min(minimum, total // parents)
    counts = [minimum] * parents
    rest = total - minimum * parents
    weights = [0.0 if rng.random() < sparsity else rng.lognormvariate(0, 0.5) for _ in counts]
    if not any(weights):
        weights[0] = 1.0
    scale = rest / sum(weights)
    shares = [w * scale for w in weights]
    for i, share in enumerate(shares):
        counts[i] += int(share)
    # Largest remainders get the children lost to rounding down, so the sum is exact.
    missing = total - sum(counts)
    by_remainder = sorted(range(parents), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in by_remainder[:missing]:
        counts[i] += 1
    return counts


def iter_areas(scale: float = 1.0, *, seed: int = DEFAULT_SEED) -> Iterator[AreaRow]:
    """Yield the city's areas depth-first, every parent before its children."""
    shape = ZHENGZHOU.scaled(scale)
    rng = random.Random(seed)
    street_grids = round(shape.grids * shape.grids_under_streets)
    street_dedicated = round(shape.dedicated * shape.dedicated_under_streets)
    dedicated_micro = round(shape.micro_grids * shape.micro_grids_under_dedicated)

    # Children per parent, drawn up front (small lists of ints) and consumed in tree order.
    streets_per = iter(split(shape.streets, shape.districts, rng, minimum=1))
    communities_per = iter(split(shape.communities, shape.streets, rng, minimum=1))
    grids_per_street = iter(split(street_grids, shape.streets, rng, sparsity=0.6))
    grids_per_community = iter(split(shape.grids - street_grids, shape.communities, rng, minimum=1))
    dedicated_per_street = iter(split(street_dedicated, shape.streets, rng, sparsity=0.3))
    dedicated_per_community = iter(
        split(shape.dedicated - street_dedicated, shape.communities, rng, sparsity=0.4)
    )
    micro_per_grid = iter(split(shape.micro_grids - dedicated_micro, shape.grids, rng, minimum=1))
    micro_per_dedicated = iter(split(dedicated_micro, shape.dedicated, rng, sparsity=0.7))
    kinds = [k for k, _w, _e in DEDICATED_KINDS]
    kind_weights = [w for _k, w, _e in DEDICATED_KINDS]
    kind_endings = {k: e for k, _w, e in DEDICATED_KINDS}

    def place(lat: float, lon: float, spread: float) -> tuple[float, float]:
        return lat + rng.uniform(-spread, spread), lon + rng.uniform(-spread, spread)

    def row(code, name, level, parent, households, kind, where) -> AreaRow:
        return AreaRow(
            code, name, level, parent, households, kind, f"{where[0]:.6f}", f"{where[1]:.6f}"
        )

    def micro_grids(parent: AreaRow, prefix: str, count: int, where):
        for m in range(1, count + 1):
            yield row(
                f"{parent.code}M{m:03d}",
                f"{prefix}{m}号楼",
                "micro_grid",
                parent.code,
                str(rng.randint(40, 110)),
                "",
                place(*where, 0.0008),
            )

    def grid(parent_code: str, code: str, name: str, where):
        area = row(code, name, "grid", parent_code, str(rng.randint(300, 700)), "", where)
        yield area
        yield from micro_grids(area, name, next(micro_per_grid), where)

    def dedicated(parent_code: str, code: str, where):
        kind = rng.choices(kinds, kind_weights)[0]
        title = rng.choice(PLACES) + rng.choice(kind_endings[kind])
        area = row(code, f"{title}专属网格", "dedicated", parent_code, "", kind, where)
        yield area
        yield from micro_grids(area, title, next(micro_per_dedicated), where)

    for d in range(shape.districts):
        base_name, rural = DISTRICTS[d % len(DISTRICTS)]
        district_name = base_name if d < len(DISTRICTS) else f"{base_name}{d // len(DISTRICTS) + 1}"
        district_code = f"4101{d + 1:02d}"
        district_at = place(*CITY_CENTRE, 0.3)
        yield row(district_code, district_name, "district", "", "", "", district_at)
        for s in range(1, next(streets_per) + 1):
            street_code = f"{district_code}{s:03d}"
            town = rural and rng.random() < 0.7
            street_name = rng.choice(PLACES) + ("镇" if town else "街道")
            street_at = place(*district_at, 0.05)
            yield row(street_code, street_name, "street", district_code, "", "", street_at)
            for c in range(1, next(communities_per) + 1):
                community_code = f"{street_code}{c:03d}"
                village = town and rng.random() < 0.8
                community_name = rng.choice(PLACES) + (
                    "村" if village else rng.choice(COMMUNITY_SUFFIXES) + "社区"
                )
                community_at = place(*street_at, 0.01)
                households = str(rng.randint(1500, 6000))
                yield row(
                    community_code, community_name, "community", street_code, households, "",
                    community_at,
                )  # fmt: skip
                for g in range(1, next(grids_per_community) + 1):
                    yield from grid(
                        community_code,
                        f"{community_code}G{g:03d}",
                        f"{community_name}第{g}网格",
                        place(*community_at, 0.003),
                    )
                for z in range(1, next(dedicated_per_community) + 1):
                    yield from dedicated(
                        community_code, f"{community_code}Z{z:03d}", place(*community_at, 0.003)
                    )
            for g in range(1, next(grids_per_street) + 1):
                yield from grid(
                    street_code,
                    f"{street_code}G{g:03d}",
                    f"{street_name}直属第{g}网格",
                    place(*street_at, 0.01),
                )
            for z in range(1, next(dedicated_per_street) + 1):
                yield from dedicated(street_code, f"{street_code}Z{z:03d}", place(*street_at, 0.01))


def write_csv(path: Path | str, rows: Iterator[AreaRow]) -> Counter:
    """Stream rows to a UTF-8 CSV with the importer's English headers; count them by level."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    levels: Counter = Counter()

    def counted():
        for r in rows:
            levels[r.level] += 1
            yield r

    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(counted())
    tmp.replace(path)  # a half-written file never looks finished
    return levels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="CSV file to write")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = Zhengzhou, ~137k areas")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    started = time.perf_counter()
    levels = write_csv(args.out, iter_areas(args.scale, seed=args.seed))
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{level} {n:,}" for level, n in levels.items())
    print(f"wrote {sum(levels.values()):,} areas to {args.out} in {elapsed:.1f} s ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
