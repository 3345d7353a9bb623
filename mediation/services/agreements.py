"""The agreement (调解协议书): made from the dispute type's template, edited while a draft,
frozen once signed; a change to a signed agreement is a new version with the same number."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import StateConflict
from sla import timers

from ..models import Agreement, AgreementStatus, AgreementTemplate, Obligation, Signature
from ..numbering import next_number
from ..timer_kinds import OBLIGATION_DUE, OBLIGATION_WARN
from .common import AFTER_AGREEMENT, MEDIATING, locked_case, record

MAX_OBLIGATIONS = 30


class AgreementFrozen(StateConflict):
    def __init__(self):
        super().__init__(
            _("This agreement is signed and cannot be changed; make a new version instead.")
        )


def template_for(category) -> AgreementTemplate | None:
    """The type's own template, else its first-level type's, else the one for all types."""
    ids = [pk for pk in (category.pk, category.parent_id) if pk]
    by_category = {
        t.category_id: t
        for t in AgreementTemplate.objects.filter(Q(category_id__in=ids) | Q(category__isnull=True))
    }
    for key in (category.pk, category.parent_id, None):
        if key in by_category:
            return by_category[key]
    return None


def clean_obligations(case, rows: list[dict]) -> list[dict]:
    """Each row: party (id of one of the case's parties), description, amount (optional,
    yuan), due_on (a date), manner. Raises ValidationError naming the row."""
    parties = {p.pk: p for p in case.parties.all()}
    if not rows:
        raise ValidationError({"obligations": [_("Add at least one obligation.")]})
    if len(rows) > MAX_OBLIGATIONS:
        raise ValidationError(
            {"obligations": [_("At most %(n)s obligations.") % {"n": MAX_OBLIGATIONS}]}
        )
    clean = []
    for index, row in enumerate(rows, start=1):
        problem = _obligation_problem(row, parties)
        if problem:
            raise ValidationError(
                {
                    "obligations": [
                        _("Obligation %(n)s: %(problem)s") % {"n": index, "problem": problem}
                    ]
                }
            )
        amount = row.get("amount")
        clean.append(
            {
                "party": parties[int(row["party"])],
                "description": str(row["description"]).strip(),
                "amount": Decimal(str(amount)) if amount not in (None, "") else None,
                "due_on": row["due_on"],
                "manner": str(row.get("manner") or "").strip()[:200],
                "position": index,
            }
        )
    return clean


def _obligation_problem(row: dict, parties: dict) -> str:
    try:
        party_id = int(row.get("party") or 0)
    except (TypeError, ValueError):
        party_id = 0
    if party_id not in parties:
        return _("choose who must perform it.")
    description = str(row.get("description") or "").strip()
    if not description or len(description) > 300:
        return _("say what must be done (at most 300 characters).")
    if not isinstance(row.get("due_on"), date):
        return _("give the deadline as a date.")
    if row["due_on"] < timezone.localdate():
        return _("the deadline has passed already.")
    amount = row.get("amount")
    if amount not in (None, ""):
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            return _("the amount must be a number.")
        if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
            return _("the amount must be between 0 and 999,999,999,999.")
    return ""


def _text_errors(facts: str, disputed_items: str) -> None:
    errors = {}
    if not facts.strip():
        errors["facts"] = [_("State the facts.")]
    if not disputed_items.strip():
        errors["disputed_items"] = [_("State the disputed items.")]
    if errors:
        raise ValidationError(errors)


def _save_obligations(agreement: Agreement, rows: list[dict]) -> None:
    Obligation.objects.bulk_create(
        [
            Obligation(
                agreement=agreement,
                position=r["position"],
                party=r["party"],
                description=r["description"],
                amount=r["amount"],
                due_on=r["due_on"],
                manner=r["manner"],
            )
            for r in rows
        ]
    )


@transaction.atomic
def agreement_create(
    *, case, actor, facts: str, disputed_items: str, obligations: list[dict], clauses=None
) -> Agreement:
    _text_errors(facts, disputed_items)
    rows = clean_obligations(case, obligations)
    case = locked_case(case, actor, MEDIATING, _("given an agreement"))
    if Agreement.objects.filter(case=case).exclude(status=AgreementStatus.SUPERSEDED).exists():
        raise StateConflict(_("This case has an agreement already; edit it or make a new version."))
    template = template_for(case.category)
    agreement = Agreement.objects.create(
        case=case,
        number=next_number(case, timezone.localdate().year),
        template=template,
        title=template.title if template else "人民调解协议书",
        facts=facts.strip(),
        disputed_items=disputed_items.strip(),
        clauses=(template.clauses if template and clauses is None else (clauses or "")).strip(),
        mediator=case.mediator or actor,
        created_by=actor,
    )
    _save_obligations(agreement, rows)
    record(
        case,
        actor,
        "agreement_drafted",
        _("Agreement %(number)s drafted") % {"number": agreement.number},
        agreement=agreement.pk,
    )
    return agreement


@transaction.atomic
def agreement_update(
    *,
    agreement: Agreement,
    actor,
    facts: str,
    disputed_items: str,
    obligations: list[dict],
    clauses: str,
    revision: int,
) -> Agreement:
    """Edit a draft. Signatures already given were given to the old text, so they are
    removed (the timeline says so). A signed agreement is refused (409)."""
    _text_errors(facts, disputed_items)
    rows = clean_obligations(agreement.case, obligations)
    case = locked_case(agreement.case, actor, AFTER_AGREEMENT, _("given a changed agreement"))
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.frozen:
        raise AgreementFrozen()
    if agreement.revision != revision:
        raise StateConflict(_("Someone changed this agreement after you opened it; reload it."))
    dropped = Signature.objects.filter(agreement=agreement).delete()[0]
    agreement.facts, agreement.disputed_items = facts.strip(), disputed_items.strip()
    agreement.clauses = clauses.strip()
    agreement.revision += 1
    agreement.save(update_fields=["facts", "disputed_items", "clauses", "revision", "updated_at"])
    agreement.obligations.all().delete()
    _save_obligations(agreement, rows)
    note = _("Agreement %(number)s changed") % {"number": agreement.number}
    if dropped:
        note += "；" + _("%(n)s signatures given to the old text removed") % {"n": dropped}
    record(case, actor, "agreement_changed", note, agreement=agreement.pk)
    return agreement


@transaction.atomic
def agreement_new_version(*, agreement: Agreement, actor) -> Agreement:
    """A signed agreement is never edited: the change is a new draft with the same number
    and the next version, the signed one marked superseded (its papers stay)."""
    case = locked_case(agreement.case, actor, AFTER_AGREEMENT, _("given a new agreement version"))
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.SIGNED:
        raise StateConflict(_("Only a signed agreement gets a new version; edit the draft."))
    agreement.status = AgreementStatus.SUPERSEDED
    agreement.save(update_fields=["status", "updated_at"])
    old_obligations = list(agreement.obligations.all())
    for obligation in old_obligations:
        timers.disarm(OBLIGATION_WARN, obligation.pk)
        timers.disarm(OBLIGATION_DUE, obligation.pk)
    new = Agreement.objects.create(
        case=case,
        number=agreement.number,
        version=agreement.version + 1,
        template=agreement.template,
        title=agreement.title,
        facts=agreement.facts,
        disputed_items=agreement.disputed_items,
        clauses=agreement.clauses,
        mediator=case.mediator or agreement.mediator,
        created_by=actor,
    )
    _save_obligations(
        new,
        [
            {
                "party": o.party,
                "description": o.description,
                "amount": o.amount,
                "due_on": o.due_on,
                "manner": o.manner,
                "position": o.position,
            }
            for o in old_obligations
        ],
    )
    record(
        case,
        actor,
        "agreement_new_version",
        _("Agreement %(number)s: version %(version)s started")
        % {"number": new.number, "version": new.version},
        agreement=new.pk,
    )
    return new
