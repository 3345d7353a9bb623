"""Every read of instructions: what a sender follows and how far it got, what a recipient
has to acknowledge."""

from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from common.prepared import Prepared
from grids.models import Area

from .models import Instruction, InstructionRecipient, RecipientStatus
from .scope import followed_condition

# The banner shows this many; one more is read to know whether to say "and more".
BANNER_ROWS = 3
READ_STATUSES = (RecipientStatus.READ, RecipientStatus.ACKED)


def followed(*, user) -> QuerySet[Instruction]:
    """Instructions whose progress `user` may follow (scope.followed_condition)."""
    qs = Instruction.objects.all()
    condition = followed_condition(user)
    return qs if condition is None else qs.filter(condition)


@dataclass
class Progress:
    """How far an instruction (or one branch of it) got."""

    total: int = 0
    read: int = 0
    acked: int = 0

    @property
    def waiting(self) -> int:
        return self.total - self.acked

    @property
    def percent(self) -> int:
        return round(self.acked * 100 / self.total) if self.total else 0

    @property
    def read_percent(self) -> int:
        return round(self.read * 100 / self.total) if self.total else 0


def _counts() -> dict:
    return {
        "total": Count("id"),
        "read": Count("id", filter=Q(status__in=READ_STATUSES)),
        "acked": Count("id", filter=Q(status=RecipientStatus.ACKED)),
    }


def sent_list(*, user) -> QuerySet[Instruction]:
    """The instructions `user` follows, newest first, with the sender and the area joined."""
    return followed(user=user).select_related("sender", "area").order_by("-created_at", "-id")


def progress_of(instructions) -> dict[int, Progress]:
    """Overall progress of a page of instructions: one grouped count (index instr_progress)."""
    ids = [i.pk for i in instructions]
    if not ids:
        return {}
    rows = (
        InstructionRecipient.objects.filter(instruction_id__in=ids)
        .values("instruction_id")
        .annotate(**_counts())
        .order_by()
    )
    return {
        row["instruction_id"]: Progress(row["total"], row["read"], row["acked"]) for row in rows
    }


# Ids are 64-bit: a larger one from a URL is no instruction (SQLite would overflow on it).
MAX_ID = 2**63 - 1


def instruction_detail(*, user, pk: int) -> Instruction:
    """One followed instruction (DoesNotExist if out of scope)."""
    if not 0 < pk <= MAX_ID:
        raise Instruction.DoesNotExist
    return followed(user=user).select_related("sender", "area").get(pk=pk)


@dataclass
class BranchRow:
    area: Area | None  # None: held at the instruction's area itself
    label: str
    progress: Progress


@dataclass
class Report:
    overall: Progress
    rows: list[BranchRow] = field(default_factory=list)

    @property
    def seen(self) -> str:
        """The figures as the page shows them, to tell whether a later poll moved them."""
        return f"{self.overall.total}-{self.overall.read}-{self.overall.acked}"


def progress_report(instruction: Instruction) -> Report:
    """Progress per child area of the instruction's area: one grouped count over the
    recipients (index instr_progress), one query for the children's names."""
    counts = {
        row["branch_id"]: Progress(row["total"], row["read"], row["acked"])
        for row in InstructionRecipient.objects.filter(instruction=instruction)
        .values("branch_id")
        .annotate(**_counts())
        .order_by()
    }
    children = (
        Area.objects.filter(parent=instruction.area)
        if instruction.area_id
        else Area.objects.filter(depth=1)
    )
    children = children.filter(pk__in=[pk for pk in counts if pk is not None]).only(
        "pk", "name", "level", "path"
    )
    rows = [BranchRow(child, child.name, counts[child.pk]) for child in children]
    if None in counts:
        label = instruction.area.name if instruction.area_id else _("Whole system")
        rows.insert(0, BranchRow(None, _("%(area)s itself") % {"area": label}, counts[None]))
    overall = Progress(
        sum(p.total for p in counts.values()),
        sum(p.read for p in counts.values()),
        sum(p.acked for p in counts.values()),
    )
    return Report(overall, rows)


def laggard_list(*, instruction: Instruction, branch: int | None = None):
    """Who has not acknowledged, child area by child area, with where they serve (index
    instr_progress); `branch` narrows to one child area (0: those at the instruction's area
    itself)."""
    # "Not acknowledged" rather than "received or read": an IN list on the index's third
    # column would make PostgreSQL scan it once per status and sort the whole lot.
    qs = InstructionRecipient.objects.filter(instruction=instruction).exclude(
        status=RecipientStatus.ACKED
    )
    if branch == 0:
        qs = qs.filter(branch__isnull=True)
    elif branch is not None:
        qs = qs.filter(branch_id=branch)
    return qs.select_related("user", "area").order_by("branch_id", "status", "id")


def pending_for(user) -> list[InstructionRecipient]:
    """The banner: the user's instructions not yet acknowledged, newest first, one query
    (index instr_inbox). BANNER_ROWS + 1 rows at most."""
    return BANNER.rows(user.pk)


def _banner(user_id: int):
    return (
        InstructionRecipient.objects.filter(user_id=user_id, acked_at__isnull=True)
        .select_related("instruction")
        .only(
            "id",
            "status",
            "read_at",
            "instruction__id",
            "instruction__title",
            "instruction__ack_due_at",
        )
        .order_by("-id")[: BANNER_ROWS + 1]
    )


# On every page (the banner): compiled once per connection (common.prepared).
BANNER = Prepared(_banner)


def received_list(*, user) -> QuerySet[InstructionRecipient]:
    """What was sent to the user: not yet acknowledged first, then newest first (index
    instr_inbox read backwards)."""
    return (
        InstructionRecipient.objects.filter(user=user)
        .select_related("instruction", "instruction__sender")
        .order_by(F("acked_at").desc(nulls_first=True), "-id")
    )


def receipt_for(*, user, instruction_pk: int) -> InstructionRecipient:
    """The user's own copy of one instruction (DoesNotExist if it was not sent to them)."""
    if not 0 < instruction_pk <= MAX_ID:
        raise InstructionRecipient.DoesNotExist
    return InstructionRecipient.objects.select_related(
        "instruction", "instruction__sender", "instruction__area"
    ).get(user=user, instruction_id=instruction_pk)
