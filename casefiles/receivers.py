"""A case closed → its file archived. Django's post_save of the closing timeline entry, so
`disputes` needs no hook of its own: every close (case_close, the check passed) appends a
CaseEvent whose to_status is "closed" inside the closing transaction, and the archive row
is written in that same transaction (one per closing event; the build follows after
commit)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from disputes.models import CaseEvent, CaseStatus

from .services import archive_for_close


@receiver(post_save, sender=CaseEvent, dispatch_uid="casefiles.archive_on_close")
def archive_on_close(sender, instance: CaseEvent, created: bool, raw=False, **kwargs):
    if raw or not created:
        return
    if instance.to_status == CaseStatus.CLOSED and instance.from_status != CaseStatus.CLOSED:
        archive_for_close(instance)
