from django.core.management.base import BaseCommand, CommandError

from reception_days import services


class Command(BaseCommand):
    help = (
        "Create the monthly reception-day sessions (third Wednesday, moved past statutory "
        "holidays) for every community with a team, and the duty sessions from the units' "
        "rotas. Safe to run again: existing sessions are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months", type=int, default=2, help="Months ahead, this month included (1–24)."
        )
        parser.add_argument(
            "--weeks", type=int, default=2, help="Weeks of duty sessions from today (0–8)."
        )

    def handle(self, *args, months, weeks, **options):
        if not 1 <= months <= 24:
            raise CommandError("--months must be between 1 and 24.")
        if not 0 <= weeks <= 8:
            raise CommandError("--weeks must be between 0 and 8.")
        created = services.schedule_reception_days(months=months, weeks=weeks)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {created['monthly']} monthly and {created['duty']} duty sessions."
            )
        )
