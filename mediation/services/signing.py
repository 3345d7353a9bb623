"""Signatures: each party and the mediator draw theirs on the phone (a PNG from the canvas),
or the paper signed by hand is scanned and uploaded. When the last one is in, the agreement
takes effect and is frozen: its final PDF (with the signatures) is made, and its hash kept."""

import hashlib
import io
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from common.errors import StateConflict
from disputes.attachments import attachment_check
from disputes.models import CaseStatus, Outcome
from disputes.services import case_record_outcome
from notifications.services import ASSIGNER_ROLES, holders, notify
from sla import timers

from ..models import Agreement, AgreementStatus, Document, DocumentKind, DocumentStatus, Signature
from ..timer_kinds import CONFIRMATION_WINDOW, OBLIGATION_DUE, OBLIGATION_WARN
from .agreements import AgreementFrozen
from .common import AFTER_AGREEMENT, locked_case, record
from .documents import final_document

MAX_SIGNATURE_BYTES = 512 * 1024
# Reminders go out this many days before an obligation's deadline, in the morning.
WARN_DAYS = 3
CONFIRMATION_DAYS = 30
MEDIATOR = "mediator"


def required_signers(agreement: Agreement) -> list[str]:
    """Keys of everyone who must sign: "party:<id>" for each party, and "mediator"."""
    return [f"party:{p.pk}" for p in agreement.case.parties.all()] + [MEDIATOR]


def signer_key(signature: Signature) -> str:
    return f"party:{signature.party_id}" if signature.party_id else MEDIATOR


def _checked_png(data: bytes) -> bytes:
    """A real, non-empty PNG of reasonable size: a blank canvas is no signature."""
    if not data or len(data) > MAX_SIGNATURE_BYTES:
        raise ValidationError({"image": [_("The signature could not be read; sign again.")]})
    try:
        image = Image.open(io.BytesIO(data))
        if image.format != "PNG":
            raise ValidationError({"image": [_("The signature could not be read; sign again.")]})
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            {"image": [_("The signature could not be read; sign again.")]}
        ) from exc
    # Ink is a pixel darker than light grey once laid on white paper (the canvas is
    # transparent; a photo of a signature is not).
    paper = Image.new("RGBA", image.size, "white")
    paper.alpha_composite(image.convert("RGBA"))
    inked = paper.convert("L").point(lambda v: 255 if v < 200 else 0).getbbox()
    if not inked:
        raise ValidationError({"image": [_("The signature is empty; sign in the box.")]})
    return data


def _locked_draft(agreement: Agreement, actor):
    case = locked_case(agreement.case, actor, AFTER_AGREEMENT, _("signed"))
    agreement = Agreement.objects.select_for_update().select_related("case").get(pk=agreement.pk)
    if agreement.frozen:
        raise AgreementFrozen()
    return case, agreement


@transaction.atomic
def signature_add(*, agreement: Agreement, actor, signer: str, image: bytes) -> Signature:
    """`signer`: "party:<id>" (the party signs on the phone the actor holds out) or
    "mediator" (the agreement's mediator signs on their own phone)."""
    png = _checked_png(image)
    case, agreement = _locked_draft(agreement, actor)
    if signer not in required_signers(agreement):
        raise ValidationError({"signer": [_("Choose who is signing.")]})
    if signer == MEDIATOR and actor.pk != agreement.mediator_id:
        raise PermissionDenied(_("Only the mediator signs for the mediation committee."))
    party = next((p for p in case.parties.all() if f"party:{p.pk}" == signer), None)
    signature = Signature(
        agreement=agreement,
        party=party,
        user=actor if party is None else None,
        signer_name=party.name if party else actor.display_name,
        sha256=hashlib.sha256(png).hexdigest(),
        signed_at=timezone.now(),
        recorded_by=actor,
    )
    signature.image.save(
        f"sig-{agreement.pk}-{signer.replace(':', '-')}.png", ContentFile(png), save=False
    )
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError as exc:
        raise StateConflict(
            _("%(name)s has signed already.") % {"name": signature.signer_name}
        ) from exc
    record(
        case,
        actor,
        "signed",
        _("%(name)s signed agreement %(number)s")
        % {"name": signature.signer_name, "number": agreement.number},
        agreement=agreement.pk,
        signature=signature.pk,
    )
    signed = {signer_key(s) for s in agreement.signatures.all()}
    if set(required_signers(agreement)) <= signed:
        _take_effect(case, agreement, actor)
    return signature


@transaction.atomic
def signature_scan(*, agreement: Agreement, actor, scan) -> Agreement:
    """The agreement printed, signed by hand by everyone and scanned (PDF or photo): it
    takes effect as signed, the scan is its final file and its hash the frozen one."""
    try:
        attachment_check(scan)
    except ValidationError as exc:
        raise ValidationError({"scan": exc.messages}) from exc
    case, agreement = _locked_draft(agreement, actor)
    scan.seek(0)
    content = scan.read()
    if not content.startswith(b"%PDF"):
        raise ValidationError({"scan": [_("Upload the signed agreement as a PDF.")]})
    digest = hashlib.sha256(content).hexdigest()
    document = Document(
        case=case,
        kind=DocumentKind.AGREEMENT,
        agreement=agreement,
        revision=agreement.revision,
        final=True,
        status=DocumentStatus.READY,
        sha256=digest,
        requested_by=actor,
        ready_at=timezone.now(),
    )
    # A scan cannot be masked: the masked copy is empty and the download is refused to
    # viewers who may not see the parties' numbers (views.document_download).
    document.file.save(f"agreement-{agreement.pk}-scan.pdf", ContentFile(content), save=False)
    document.save()
    _take_effect(case, agreement, actor, scan_sha256=digest)
    return agreement


def _take_effect(case, agreement: Agreement, actor, scan_sha256: str = "") -> None:
    now = timezone.now()
    agreement.status, agreement.signed_at = AgreementStatus.SIGNED, now
    agreement.sha256 = scan_sha256
    agreement.save(update_fields=["status", "signed_at", "sha256", "updated_at"])
    if not scan_sha256:
        final_document(agreement, actor)
    for obligation in agreement.obligations.all():
        warn_at, due_at = obligation_deadlines(obligation.due_on)
        if warn_at > now:
            timers.arm(OBLIGATION_WARN, obligation.pk, warn_at, case_id=case.pk)
        timers.arm(OBLIGATION_DUE, obligation.pk, due_at, case_id=case.pk)
    timers.arm(CONFIRMATION_WINDOW, agreement.pk, confirmation_window_end(now), case_id=case.pk)
    record(
        case,
        actor,
        "agreement_signed",
        _("Agreement %(number)s signed by everyone; it takes effect")
        % {"number": agreement.number},
        agreement=agreement.pk,
        scan=bool(scan_sha256),
    )
    _record_outcome(case, agreement, actor)
    # The hand-off: the unit that resolves and closes the case learns it may now do so.
    unit = holders(area=case.handling_area, roles=ASSIGNER_ROLES)
    notify(
        users=[u for u in unit if u.pk != actor.pk],
        case=case,
        kind="case_mediation_agreement",
        title=_("Mediation agreement signed: %(number)s") % {"number": case.number},
        body=agreement.number,
    )


def _record_outcome(case, agreement: Agreement, actor) -> None:
    """A signed agreement is the case's mediation outcome (调解成功): recorded through the
    case's own service when the case is in mediation and has none yet, so the resolution
    that follows needs no second entry; a mediator may still record a partial one by hand."""
    if case.status == CaseStatus.IN_MEDIATION and not case.outcome:
        case_record_outcome(
            case=case,
            actor=actor,
            outcome=Outcome.AGREEMENT,
            note=_("Mediation agreement %(number)s signed") % {"number": agreement.number},
        )


def _local(day, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def obligation_deadlines(due_on) -> tuple[datetime, datetime]:
    """(the reminder, the breach): 09:00 a few days before, and the end of the due day."""
    return _local(due_on - timedelta(days=WARN_DAYS), time(9)), _local(
        due_on + timedelta(days=1), time(0)
    )


def confirmation_window_end(signed_at: datetime) -> datetime:
    """The end of the 30th day after the agreement took effect."""
    day = timezone.localtime(signed_at).date() + timedelta(days=CONFIRMATION_DAYS + 1)
    return _local(day, time(0))
