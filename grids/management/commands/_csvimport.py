import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids.imports import ImportFileError, ImportResult


class CsvImportCommand(BaseCommand):
    """Shared runner: read the file, show progress on stderr, list every error by line."""

    importer = None

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        started = time.perf_counter()

        def progress(done, total):
            if sys.stderr.isatty() or options["verbosity"] > 1:
                self.stderr.write(f"\r{done}/{total} rows", ending="")

        try:
            result: ImportResult = type(self).importer(file.read_bytes(), progress=progress)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if options["verbosity"] > 1 or sys.stderr.isatty():
            self.stderr.write("")
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"{file}:{error['line']}: {error['message']}")
            raise CommandError(f"{len(result.errors)} error(s) in {file}; nothing was imported.")
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{result.total} rows in {seconds:.1f}s: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )
