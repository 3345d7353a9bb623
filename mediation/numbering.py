"""Agreement numbers: 渝中调〔2026〕123号, one sequence per prefix and year.

The prefix is the district's short name (渝中区 → 渝中) followed by 调; a year's first number
makes its row (ignoring a conflict with a concurrent first), then one UPDATE … last + 1 under
the row lock hands out the next number, so two agreements made at the same instant wait on
each other and never share one."""

from django.db.models import F

from .models import AgreementNumber

SUFFIXES = ("自治县", "自治州", "新区", "区", "县", "市", "旗")


def prefix_for(case) -> str:
    area = case.district or case.handling_area
    name = area.name if area is not None else ""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return f"{name}调"


def next_number(case, year: int) -> str:
    """Call inside the caller's transaction (the number is the caller's once it commits)."""
    prefix = prefix_for(case)
    AgreementNumber.objects.bulk_create(
        [AgreementNumber(prefix=prefix, year=year, last=0)], ignore_conflicts=True
    )
    rows = AgreementNumber.objects.select_for_update().filter(prefix=prefix, year=year)
    rows.update(last=F("last") + 1)
    last = rows.values_list("last", flat=True).get()
    return f"{prefix}〔{year}〕{last}号"
