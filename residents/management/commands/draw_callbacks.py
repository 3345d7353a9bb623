from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from grids.models import Area, AreaLevel
from residents.callbacks import callback_draw_month, previous_month


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise CommandError(f"--month must look like 2026-10, not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Draw the monthly callback sample (回访抽查) for every street: at least the policy's "
        "share of the cases closed that month, plus every case rated unsatisfied. Safe to "
        "run again: a street already drawn for the month is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM; default: last month.")
        parser.add_argument("--street", action="append", help="Street code (repeatable).")
        parser.add_argument("--seed", type=int, help="Fixed seed, to reproduce a draw.")

    def handle(self, *args, month=None, street=None, seed=None, **options):
        drawn_month = _month(month) if month else previous_month()
        streets = Area.objects.filter(level=AreaLevel.STREET)
        if street:
            streets = streets.filter(code__in=street)
            missing = set(street) - set(streets.values_list("code", flat=True))
            if missing:
                raise CommandError(f"no such street: {', '.join(sorted(missing))}")
        try:
            results = callback_draw_month(month=drawn_month, seed=seed, streets=streets)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for draw, created in results:
            state = "drawn" if created else "already drawn"
            self.stdout.write(
                f"{draw.street.code} {draw.street.name} {draw.month:%Y-%m}: {state}, "
                f"{len(draw.chosen_ids)} of {len(draw.population_ids)} closed "
                f"(+{len(set(draw.required_ids) - set(draw.population_ids))} earlier "
                f"unsatisfied), seed {draw.seed}"
            )
