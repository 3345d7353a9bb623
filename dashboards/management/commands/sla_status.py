"""`manage.py sla_status`: the SLA health page for a terminal or a monitoring probe.

Exits with status 1 when `--max-lag` is given and the sweep is further behind than that,
so a cron job or a container health check can alert on a stalled sweep."""

import json

from django.core.management.base import BaseCommand, CommandError

from dashboards.health import health_figures
from sla import clock


class Command(BaseCommand):
    help = "Show the SLA sweep lag, recent breaches, the outbox backlog and open cases by colour."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON object, for scripts."
        )
        parser.add_argument(
            "--max-lag",
            type=int,
            metavar="SECONDS",
            help="Fail (exit status 1) when the sweep lag is larger than this.",
        )

    def handle(self, *args, as_json: bool = False, max_lag: int | None = None, **options):
        health = health_figures()
        lag = int(health["sweep_lag"].total_seconds())
        colours = health["open_by_colour"]
        if as_json:
            self.stdout.write(_json(health, lag))
        else:
            oldest = health["oldest_due_at"]
            self.stdout.write(f"sweep lag:                {lag} s")
            self.stdout.write(f"oldest due check:         {oldest.isoformat() if oldest else '-'}")
            self.stdout.write(f"breaches in the last hour: {health['breaches_last_hour']}")
            self.stdout.write(f"outbox backlog:           {health['outbox_backlog']}")
            self.stdout.write(
                f"open cases:               {health['open_total']} "
                f"(red {colours[clock.RED]}, orange {colours[clock.ORANGE]}, "
                f"green {colours[clock.GREEN]})"
            )
        calendar = health["calendar"]
        if not as_json:
            if calendar.ok:
                self.stdout.write(f"working-day calendar:     covers {calendar.end.isoformat()}")
            else:
                years = ", ".join(str(y) for y in calendar.uncovered)
                self.stdout.write(f"working-day calendar:     NOT covered: {years}")
        if not calendar.ok:
            years = ", ".join(str(y) for y in calendar.uncovered)
            raise CommandError(
                f"the working-day calendar does not cover {years} (within 90 days): "
                "import the State Council's holiday notice in admin"
            )
        if max_lag is not None and lag > max_lag:
            raise CommandError(f"the SLA sweep is {lag} s behind (more than {max_lag} s)")


def _json(health: dict, lag: int) -> str:
    oldest = health["oldest_due_at"]
    return json.dumps(
        {
            "now": health["now"].isoformat(),
            "sweep_lag_seconds": lag,
            "oldest_due_at": oldest.isoformat() if oldest else None,
            "breaches_last_hour": health["breaches_last_hour"],
            "outbox_backlog": health["outbox_backlog"],
            "open_by_colour": health["open_by_colour"],
            "open_total": health["open_total"],
            "calendar_uncovered_years": list(health["calendar"].uncovered),
        }
    )
