"""The workflow actions, each declared once: its name (one spelling everywhere: the page's
form prefix and URL, the API path with hyphens, the queue), its label, who may take it from
which states, its page form and API input serializer, and the service it calls.

The case page, the API routes, the dashboard queue and the labels are all built from
ACTIONS, and `tests/disputes/test_actions_offered.py` proves over every action × demo role
× status that an action is offered exactly when its service accepts it.

`allowed(viewer, case)` mirrors the service's own checks (the service stays the authority:
it checks again under the row lock) and costs no query: whatever it needs is on the case
row, the viewer's cached scope or a prefetched relation."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from rest_framework import status as http

from common.widgets import written_in_python

from . import correction_inputs, forms, permissions, serializers, services
from .department_models import DepartmentTask
from .models import OPEN_STATUSES, Case, ExtensionRequest, RiskLevel
from .models import CaseStatus as S
from .routing import ESCALATABLE, has_parent_queue
from .selectors import mediator_candidates
from .services.departments import own_task, reported_task
from .supervision_inputs import (
    AnswerCardForm,
    AnswerCardInputSerializer,
    SuperviseForm,
    SuperviseInputSerializer,
    VerifyInputSerializer,
    open_cards,
)
from .supervision_models import SupervisionCard


@dataclass(frozen=True)
class Viewer:
    """What the rules ask about the person looking at a case, computed once per case."""

    user: object
    case: Case

    @cached_property
    def manager(self) -> bool:
        return permissions.is_manager(self.user, self.case)

    @cached_property
    def mediator(self) -> bool:
        return self.case.mediator_id == self.user.pk

    @cached_property
    def handler(self) -> bool:
        return self.mediator or permissions.is_handler(self.user, self.case)

    @cached_property
    def filer(self) -> bool:
        return self.case.filed_by_id == self.user.pk

    @cached_property
    def checks(self) -> bool:
        """May check (核查) the case's resolution: never the person who resolved it."""
        return services.may_check(self.user, self.case)

    @property
    def runs_it(self) -> bool:
        return self.mediator or self.manager

    @cached_property
    def task_state(self) -> str | None:
        """The state of the viewer's department's live task on the case (liaisons only)."""
        task = own_task(self.user, self.case)
        return task.status if task else None


def _perform(service) -> Callable:
    """The common call: the input's fields are the service's keyword arguments."""
    return lambda case, actor, data: service(case=case, actor=actor, **data)


def _resolve(case, actor, data):
    return services.case_resolve(
        case=case, actor=actor, note=data.get("note", ""), outcome=data.get("outcome") or None
    )


def _decide_extension(case, actor, data):
    # The request the viewer saw: one decided meanwhile is a conflict, never a newer one.
    extension = get_object_or_404(ExtensionRequest, pk=data["extension"], case=case)
    return services.extension_decide(
        extension=extension,
        actor=actor,
        approve=data["decision"] == "approve",
        note=data.get("note", ""),
    )


def _closable(case) -> bool:
    return case.status in (S.RESOLVED, S.REFERRED) or (
        case.status == S.IN_MEDIATION and bool(case.outcome)
    )


def _awaiting_check(case) -> bool:
    return case.status == S.RESOLVED and case.verify_due_at is not None


def _verify(case, actor, data):
    return services.case_verify(
        case=case, actor=actor, passed=data["passed"], note=data.get("note", "")
    )


def _supervise(case, actor, data):
    return services.card_issue(
        case=case, actor=actor, note=data["note"], reply_within_days=data.get("reply_within_days")
    )


def _answer_card(case, actor, data):
    # The card the viewer saw: one answered meanwhile is refused, never another answered.
    card = get_object_or_404(SupervisionCard, pk=data["card"], case=case)
    return services.card_answer(card=card, actor=actor, reply=data["reply"])


def _answers_a_card(viewer, case) -> bool:
    return any(services.may_answer(viewer.user, card) for card in open_cards(case))


def _no_pending_request(case) -> bool:
    # The prefetched list on the case page; one query elsewhere, asked last.
    return permissions.pending_extension(case) is None


TS = DepartmentTask.Status


def _pausable(case) -> bool:
    policy = case.sla_policy if case.sla_policy_id else None
    return (
        case.status == S.IN_MEDIATION
        and case.clock_paused_at is None
        and bool(policy and policy.pause_for_judicial_review)
    )


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    summary: str  # the API operation's summary
    allowed: Callable[[Viewer, Case], bool]
    form: type
    serializer: type
    perform: Callable
    # Shown on the triage dashboard's queue row too.
    in_queue: bool = False
    success: int = http.HTTP_200_OK
    errors: tuple = (400, 403, 404, 409)
    # Whose choices depend on the case (the form gets `case=`).
    form_takes_case: bool = False
    # The URL name of the action's own page, for a form too large for the case page's
    # panel; the panel links there instead of showing the form.
    page: str = ""

    @property
    def path(self) -> str:
        """The API path segment: the name with hyphens, as URLs are spelled."""
        return self.name.replace("_", "-")

    def build_form(self, *args, case: Case, **kwargs):
        if self.form_takes_case:
            kwargs["case"] = case
        if self.page:
            raise ValueError(f"{self.name} has its own page, {self.page}")
        if self.form is forms.AssignForm:
            kwargs["candidates"] = mediator_candidates(case=case)
        form = self.form(*args, prefix=self.name, **kwargs)
        forms.bootstrap(form)
        # A case page holds a dozen of these forms: their widgets written in Python, not a
        # template each (issue 12), with the same markup.
        return written_in_python(form)


ACTION_LIST = [
    Action(
        "accept", _("Accept"), "Accept a filed case",
        lambda v, c: c.status == S.FILED and v.manager,
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.case_accept), in_queue=True,
    ),
    Action(
        "assign", _("Assign"), "Assign the mediator (and assisting staff)",
        lambda v, c: c.status in (S.FILED, S.ACCEPTED) and v.manager,
        forms.AssignForm, serializers.AssignInputSerializer,
        _perform(services.case_assign), in_queue=True,
    ),
    Action(
        "send_back", _("Send back"), "Send a case back to the filer for more information",
        lambda v, c: c.status in (S.FILED, S.ACCEPTED) and v.manager,
        forms.ReasonForm, serializers.ReasonInputSerializer,
        _perform(services.case_send_back), in_queue=True,
    ),
    Action(
        "resubmit", _("Resubmit"), "Resubmit a sent-back case",
        lambda v, c: c.status == S.SENT_BACK and (v.filer or v.manager),
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.case_resubmit),
    ),
    Action(
        "progress", _("Post progress"), "Record progress (multipart for photos)",
        lambda v, c: c.status in (S.ASSIGNED, S.IN_MEDIATION) and (v.handler or v.manager),
        forms.ProgressForm, serializers.ProgressInputSerializer,
        _perform(services.case_progress),
    ),
    Action(
        "outcome", _("Record outcome"), "Record the mediation outcome",
        lambda v, c: c.status == S.IN_MEDIATION and v.runs_it,
        forms.OutcomeForm, serializers.OutcomeInputSerializer,
        _perform(services.case_record_outcome),
    ),
    Action(
        "resolve", _("Resolve"), "Mark the case resolved",
        lambda v, c: c.status == S.IN_MEDIATION and v.runs_it,
        forms.ResolveForm, serializers.ResolveInputSerializer, _resolve,
    ),
    Action(
        "close", _("Close"),
        "Close the case (for a resolution waiting for its check: the check passed)",
        lambda v, c: _closable(c) and (v.checks if _awaiting_check(c) else v.runs_it),
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.case_close),
    ),
    Action(
        "verify", _("Check the resolution"),
        "Check a resolved case: pass closes it as resolved, fail sends it back to the handler",
        lambda v, c: _awaiting_check(c) and v.checks,
        forms.VerifyForm, VerifyInputSerializer, _verify,
    ),
    Action(
        "supervise", _("Supervise (督办)"),
        "A level above the handling unit asks it to act and answer by a date",
        lambda v, c: c.status in (*OPEN_STATUSES, S.RESOLVED)
        and permissions.approves_extensions(v.user, c),
        SuperviseForm, SuperviseInputSerializer, _supervise,
    ),
    Action(
        "answer_card", _("Answer the supervision card"),
        "The unit answers a supervision card on the case",
        lambda v, c: _answers_a_card(v, c),
        AnswerCardForm, AnswerCardInputSerializer, _answer_card, form_takes_case=True,
    ),
    Action(
        "reopen", _("Reopen"), "Reopen a resolved or closed case",
        lambda v, c: c.status in (S.RESOLVED, S.CLOSED) and v.manager,
        forms.ReasonForm, serializers.ReasonInputSerializer,
        _perform(services.case_reopen),
    ),
    Action(
        "refer", _("Refer"), "Refer the case to litigation, arbitration or a department",
        lambda v, c: c.status in OPEN_STATUSES and v.runs_it,
        forms.ReferForm, serializers.ReferInputSerializer,
        _perform(services.case_refer),
    ),
    Action(
        "withdraw", _("Withdraw"), "Withdraw the case",
        lambda v, c: c.status in OPEN_STATUSES
        and (v.manager or (v.filer and c.status in (S.FILED, S.SENT_BACK))),
        forms.ReasonForm, serializers.ReasonInputSerializer,
        _perform(services.case_withdraw),
    ),
    Action(
        "attach", _("Add attachments"), "Add photos or PDFs (multipart)",
        lambda v, c: v.filer or v.handler or v.manager,
        forms.AttachForm, serializers.AttachInputSerializer,
        _perform(services.case_attach), errors=(400, 403, 404),
    ),
    Action(
        "escalate", _("Escalate"),
        "Escalate to the next level's queue (new assignment deadline, same closing deadline)",
        lambda v, c: c.status in ESCALATABLE and v.runs_it and has_parent_queue(c),
        forms.ReasonForm, serializers.ReasonInputSerializer,
        _perform(services.case_escalate), in_queue=True,
    ),
    Action(
        "raise_risk", _("Raise the risk level"),
        "Raise the risk level; major moves the case to the street centre, serious to the district",
        lambda v, c: c.status in ESCALATABLE and c.risk_level != RiskLevel.SERIOUS and v.runs_it,
        forms.RaiseRiskForm, serializers.RaiseRiskInputSerializer,
        _perform(services.case_raise_risk), form_takes_case=True,
    ),
    Action(
        "dispatch", _("Issue an order to a department"),
        "Issue an order (发令): a department leads the case from now on",
        lambda v, c: c.status in ESCALATABLE and v.manager,
        forms.DispatchForm, serializers.DispatchInputSerializer,
        _perform(services.case_dispatch),
    ),
    Action(
        "request_extension", _("Request an extension"),
        "Request more time to close the case; the level above decides",
        lambda v, c: c.status in OPEN_STATUSES and v.runs_it and _no_pending_request(c),
        forms.ExtensionRequestForm, serializers.ExtensionRequestInputSerializer,
        _perform(services.extension_request), success=http.HTTP_201_CREATED,
    ),
    Action(
        "decide_extension", _("Decide the extension request"),
        "Approve or refuse the pending extension request (the level above the handling area)",
        lambda v, c: permissions.approves_extensions(v.user, c)
        and permissions.pending_extension(c) is not None,
        forms.ExtensionDecideForm, serializers.ExtensionDecideInputSerializer,
        _decide_extension, form_takes_case=True,
    ),
    Action(
        "pause_clock", _("Pause the clock for judicial confirmation"),
        "Pause the closing clock during judicial confirmation (if the case's policy allows)",
        lambda v, c: _pausable(c) and v.runs_it,
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.case_pause_clock),
    ),
    Action(
        "resume_clock", _("Resume the clock"),
        "Resume the closing clock; the deadline moves by the paused time",
        lambda v, c: c.clock_paused_at is not None and c.status in OPEN_STATUSES and v.runs_it,
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.case_resume_clock),
    ),
    Action(
        "correct", _("Correct the record"),
        "Correct the address, description, parties, area or type of an open case, with a "
        "reason (a new type or area re-routes it)",
        lambda v, c: c.status in OPEN_STATUSES
        and (v.runs_it or (v.filer and c.status in (S.FILED, S.SENT_BACK))),
        correction_inputs.CorrectForm, correction_inputs.CorrectInputSerializer,
        _perform(services.case_correct), page="disputes:correct",
    ),
    # A department's part (部门协同): its liaison signs for, returns, updates and reports;
    # the dispatching level verifies the report.
    Action(
        "sign_for", _("Sign for (签收)"), "The department signs for a dispatched case",
        lambda v, c: v.task_state == TS.DISPATCHED,
        forms.NoteForm, serializers.NoteInputSerializer,
        _perform(services.task_sign),
    ),
    Action(
        "return_to_centre", _("Return to the dispatching centre"),
        "The department returns the case with a reason (退回)",
        lambda v, c: v.task_state in (TS.DISPATCHED, TS.SIGNED),
        forms.ReasonForm, serializers.ReasonInputSerializer,
        _perform(services.task_return),
    ),
    Action(
        "department_progress", _("Post the department's progress"),
        "The department records progress (multipart for photos)",
        lambda v, c: v.task_state == TS.SIGNED,
        forms.NoteWithPhotosForm, serializers.NoteWithPhotosInputSerializer,
        _perform(services.task_progress),
    ),
    Action(
        "report_completion", _("Report completion (办结反馈)"),
        "The department reports its part done, with evidence (multipart for photos)",
        lambda v, c: v.task_state == TS.SIGNED,
        forms.NoteWithPhotosForm, serializers.NoteWithPhotosInputSerializer,
        _perform(services.task_report),
    ),
    Action(
        "verify_report", _("Verify the department's report"),
        "The dispatching level passes the department's completion report or sends it back",
        lambda v, c: v.manager and reported_task(c) is not None,
        forms.VerifyReportForm, serializers.VerifyReportInputSerializer,
        _perform(services.task_verify),
    ),
]  # fmt: skip
ACTIONS: dict[str, Action] = {a.name: a for a in ACTION_LIST}


def available(user, case: Case, *, only=None) -> list[Action]:
    """The actions this viewer may take on this case now, in the page's order."""
    viewer = Viewer(user, case)
    candidates = ACTION_LIST if only is None else [a for a in ACTION_LIST if a.name in only]
    return [a for a in candidates if a.allowed(viewer, case)]


def available_names(user, case: Case) -> list[str]:
    return [a.name for a in available(user, case)]


QUEUE_ACTIONS = [a.name for a in ACTION_LIST if a.in_queue]


def queue_actions(user, case: Case) -> list[str]:
    return [a.name for a in available(user, case, only=QUEUE_ACTIONS)]
