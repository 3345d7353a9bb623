"""`manage.py make_thumbnails`: the small previews of photos stored before the server made
them. Until a photo has one, lists and the case page show the photo itself (slow on a
phone); run this once after upgrading. Safe to run again, or two at once: a photo that has a
thumbnail is skipped."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from disputes.attachments import thumbnail_fill
from disputes.models import Attachment


class Command(BaseCommand):
    help = "Make the missing thumbnails of stored photos, with progress."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            default=100,
            metavar="N",
            help="Report progress every N photos (default 100).",
        )

    def handle(self, *args, every: int = 100, **options):
        todo = Attachment.objects.filter(kind=Attachment.Kind.PHOTO, thumbnail="").order_by("pk")
        total = todo.count()
        self.stdout.write(f"{total} photos without a thumbnail")
        made = skipped = failed = 0
        for seen, attachment in enumerate(todo.iterator(chunk_size=500), start=1):
            try:
                if thumbnail_fill(attachment):
                    made += 1
                else:
                    skipped += 1
            except (ValidationError, OSError) as exc:
                failed += 1
                reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else exc
                self.stderr.write(f"attachment {attachment.pk} ({attachment.file.name}): {reason}")
            if seen % max(every, 1) == 0 or seen == total:
                self.stdout.write(f"{seen}/{total} ({seen * 100 // total}%)")
        summary = f"{made} thumbnails made, {skipped} made meanwhile by another run"
        if failed:
            self.stdout.write(self.style.WARNING(f"{summary}, {failed} photos unreadable"))
        else:
            self.stdout.write(self.style.SUCCESS(summary))
