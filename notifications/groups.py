"""The groups of notices a user chooses channels for. Every notice's `kind` belongs to one
group; a kind not listed falls to its prefix's group, then to "system". A new kind of notice
belongs in KINDS (or under a prefix in PREFIXES) so that its readers' choices apply to it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Group(models.TextChoices):
    NEW_WORK = "new_work", _("New work to do")
    HANDOFFS = "handoffs", _("Hand-offs on my cases")
    DEADLINES = "deadlines", _("Deadline warnings and breaches")
    ESCALATIONS = "escalations", _("Escalations and supervision")
    INSTRUCTIONS = "instructions", _("Leaders' instructions")
    SYSTEM = "system", _("System messages")


DESCRIPTIONS = {
    Group.NEW_WORK: _(
        "A case to accept, assign, mediate or close; a resident's report; a department's "
        "report to verify; callbacks to make."
    ),
    Group.HANDOFFS: _(
        "Cases you brought or handle: accepted, sent back, progress, closed, reopened, "
        "withdrawn; a department signed for or returned one."
    ),
    Group.DEADLINES: _("A time limit about to run out or missed."),
    Group.ESCALATIONS: _("Cases escalated to you; extension requests and their answers."),
    Group.INSTRUCTIONS: _("Instructions from leaders and their follow-up."),
    Group.SYSTEM: _("Everything else the system tells you."),
}

KINDS = {
    "case_filed": Group.NEW_WORK,
    "case_resubmitted": Group.NEW_WORK,
    "case_assigned": Group.NEW_WORK,
    "case_resolved": Group.NEW_WORK,  # to close
    "case_dept_reported": Group.NEW_WORK,  # to verify
    "dispatched": Group.NEW_WORK,  # a department's new task
    "resident_report": Group.NEW_WORK,
    "reopen_request": Group.NEW_WORK,
    "callbacks_drawn": Group.NEW_WORK,
    "escalated": Group.ESCALATIONS,
    "extension_requested": Group.ESCALATIONS,
    "extension_approved": Group.ESCALATIONS,
    "extension_refused": Group.ESCALATIONS,
    "verify_overdue": Group.DEADLINES,
}
# The first prefix that matches wins.
PREFIXES = (
    ("instruction", Group.INSTRUCTIONS),
    ("supervision", Group.ESCALATIONS),
    ("card_", Group.ESCALATIONS),  # supervision cards: issued, red, answered, overdue
    ("escalat", Group.ESCALATIONS),
    ("sla_", Group.DEADLINES),
    ("case_", Group.HANDOFFS),
)


def group_of(kind: str) -> str:
    group = KINDS.get(kind)
    if group is not None:
        return group.value
    return next((g.value for prefix, g in PREFIXES if kind.startswith(prefix)), Group.SYSTEM.value)
