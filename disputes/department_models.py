"""A department's part in a case (部门协同): the lead department (牵头) a case is dispatched
to signs for it (签收) within a time limit, may return it with a reason (退回), reports
progress and completion (办结反馈), and the dispatching level verifies the report.

Kept out of models.py (which is at its size limit); models.py imports it so Django
registers the model with the disputes app."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The shared timers (sla.timers) of a task's sign-for deadline and of its warning before it
# (即将超时); handled in department_timers.
SIGN_FOR_DUE = "disputes.sign_for_due"
SIGN_FOR_WARNING = "disputes.sign_for_warning"


class DepartmentTask(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead department")
        ASSIST = "assist", _("Assisting department")

    class Status(models.TextChoices):
        DISPATCHED = "dispatched", _("Awaiting sign-for")
        SIGNED = "signed", _("Signed for, in hand")
        REPORTED = "reported", _("Completion reported, awaiting verification")
        DONE = "done", _("Verified")
        RETURNED = "returned", _("Returned to the dispatching centre")

    case = models.ForeignKey(
        "disputes.Case", on_delete=models.CASCADE, related_name="department_tasks"
    )
    department = models.ForeignKey(
        "grids.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    role = models.CharField(_("part"), max_length=8, choices=Role.choices, default=Role.LEAD)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DISPATCHED
    )
    instructions = models.TextField(_("instructions"), blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    sign_due_at = models.DateTimeField(_("sign for by"))
    report_due_at = models.DateTimeField(_("report by"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    signed_on_time = models.BooleanField(null=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("completion reported at"), null=True, blank=True)
    report = models.TextField(_("completion report"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.TextField(_("return reason"), blank=True)

    class Meta:
        verbose_name = _("department task")
        verbose_name_plural = _("department tasks")
        ordering = ["role", "id"]
        constraints = [
            # One live task per department on a case: a second dispatch to the same bureau
            # while it still holds the case would split the answer between two records.
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=Q(status__in=["dispatched", "signed", "reported"]),
                name="departmenttask_one_live_per_department",
            ),
        ]
        indexes = [
            # The department queue: live tasks of a department, oldest deadline first.
            models.Index(fields=["department", "status", "sign_due_at"], name="depttask_queue"),
        ]

    LIVE = (Status.DISPATCHED, Status.SIGNED, Status.REPORTED)

    def __str__(self):
        return f"{self.case_id} {self.department_id} {self.status}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def sign_colour(self) -> str:
        """Like the assignment step's colour: red once the sign-for limit is missed (and
        kept red when it was signed late), orange in the last quarter of the window."""
        if self.signed_at is not None or self.status != self.Status.DISPATCHED:
            return "red" if self.signed_on_time is False else "green"
        now = timezone.now()
        if now > self.sign_due_at:
            return "red"
        window = self.sign_due_at - self.dispatched_at
        return "orange" if self.sign_due_at - now <= window / 4 else "green"
