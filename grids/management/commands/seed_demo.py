from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from grids.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create the demo district, its people and sample data (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (a throw-away demo server only).",
        )

    def handle(self, *args, **options):
        # The demo logins share one published password, admin included: on a production
        # server (DEBUG off) that would be an open door, so it takes an explicit --force.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates logins with the published demo password (admin included) "
                "and DEBUG is off: refused. On a throw-away demo server, add --force."
            )
        translation.activate(settings.LANGUAGE_CODE)
        logins = {}
        # Each app that has demo data ships a `demo.seed()`; areas and people come first.
        for app in ("grids", "disputes", "reception_days"):
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            logins |= module.seed() or {}
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Logins (password %s):" % DEMO_PASSWORD)
        )
        for username, role in logins.items():
            self.stdout.write(f"  {username:<14} {role}")
