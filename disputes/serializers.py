"""API representations of cases (out) and the inputs of each operation (in).

Input serializers only parse and type-check; the rules (who may, which state, which
fields are required for an action) live in the services, so the pages and the API enforce
exactly the same ones."""

import json

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import FreshFields, LabelField, OutputModelSerializer, PreparedKeyField
from common.limits import FILES_MAX, PARTIES_MAX, TEXT_MAX
from grids.models import Area, Department, User, mask_phone
from sla import clock
from sla.models import SlaPolicy

from . import permissions, selectors
from .department_models import DepartmentTask
from .list_rows import sla_state
from .models import (
    Attachment,
    Case,
    CaseEvent,
    Category,
    Channel,
    ExtensionRequest,
    Law,
    Outcome,
    Party,
    PartyKind,
    PartySide,
    ReferralKind,
    RiskLevel,
    TypicalCase,
)
from .services.filing import PARTY_FIELD_MAX


def mask_id_number(value: str) -> str:
    """110***********1234: the region and the last digits, not the birth date."""
    value = value.strip()
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def attachment_url(case_id: int, attachment_id: int, *, thumbnail: bool = False) -> str:
    name = "disputes:attachment_thumbnail" if thumbnail else "disputes:attachment"
    tail = "thumbnail/" if thumbnail else ""
    try:
        return reverse(name, args=[case_id, attachment_id])
    except NoReverseMatch:  # the pages' download view is not wired in this build
        return f"/cases/{case_id}/attachments/{attachment_id}/{tail}"


# --- small nested shapes --------------------------------------------------------------------


class UserRefSerializer(OutputModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class AreaRefSerializer(OutputModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "code", "name", "level"]


class DepartmentRefSerializer(OutputModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class CategoryRefSerializer(OutputModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "code", "name", "full_name", "parent"]


class LawSerializer(OutputModelSerializer):
    class Meta:
        model = Law
        fields = ["id", "title", "article", "text"]


class TypicalCaseSerializer(OutputModelSerializer):
    class Meta:
        model = TypicalCase
        fields = ["id", "title", "summary", "outcome"]


class CategorySerializer(OutputModelSerializer):
    """A dispute type with its routing preset and the guidance shown to mediators."""

    full_name = serializers.CharField(read_only=True)
    parent = CategoryRefSerializer(read_only=True)
    lead_department = DepartmentRefSerializer(read_only=True)
    assisting_roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    assisting_role_labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    laws = LawSerializer(many=True, read_only=True)
    typical_cases = TypicalCaseSerializer(many=True, read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "name",
            "full_name",
            "parent",
            "default_risk",
            "default_handling_level",
            "lead_role",
            "lead_department",
            "assisting_roles",
            "assisting_role_labels",
            "laws",
            "typical_cases",
        ]


class SlaSerializer(serializers.Serializer):
    colour = serializers.ChoiceField(choices=[clock.GREEN, clock.ORANGE, clock.RED])
    reasons = serializers.ListField(child=serializers.CharField())
    labels = serializers.ListField(child=serializers.CharField())
    due_soon = serializers.ListField(
        child=serializers.ChoiceField(choices=list(clock.WARNINGS)),
        help_text="Deadlines in their warning window now (即将超时): the warning time has "
        "passed, the deadline not yet. Empty when none.",
    )
    due_soon_labels = serializers.ListField(child=serializers.CharField())


# --- cases out ------------------------------------------------------------------------------


class CaseListSerializer(OutputModelSerializer):
    status_label = LabelField(Case._meta.get_field("status").choices, source="status")
    risk_level_label = LabelField(Case._meta.get_field("risk_level").choices, source="risk_level")
    channel_label = LabelField(Case._meta.get_field("channel").choices, source="channel")
    category = CategoryRefSerializer(read_only=True)
    area = AreaRefSerializer(read_only=True)
    handling_area = AreaRefSerializer(read_only=True)
    mediator = UserRefSerializer(read_only=True)
    sla = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "cause",
            "status",
            "status_label",
            "category",
            "risk_level",
            "risk_level_label",
            "channel",
            "channel_label",
            "address",
            "area",
            "handling_level",
            "handling_area",
            "mediator",
            "filed_at",
            "assign_due_at",
            "close_due_at",
            "sla",
        ]

    @extend_schema_field(SlaSerializer)
    def get_sla(self, case: Case) -> dict:
        return sla_state(case, self.context.get("now") or timezone.now())


class PartySerializer(OutputModelSerializer):
    """Phone and ID numbers are masked unless the reader asked to see them and may."""

    class Meta:
        model = Party
        fields = ["id", "side", "kind", "name", "phone", "id_number", "address", "relationship"]

    def to_representation(self, party):
        data = super().to_representation(party)
        if not self.context.get("sees_party_details"):
            data["phone"] = mask_phone(party.phone) if party.phone else ""
            data["id_number"] = mask_id_number(party.id_number) if party.id_number else ""
        return data


class CaseEventSerializer(OutputModelSerializer):
    kind_label = LabelField(CaseEvent._meta.get_field("kind").choices, source="kind")
    actor = UserRefSerializer(read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "kind",
            "kind_label",
            "actor",
            "actor_name",
            "at",
            "from_status",
            "to_status",
            "note",
            "data",
        ]

    def get_actor_name(self, event: CaseEvent) -> str:
        return event.actor.display_name if event.actor_id else str(_("System"))


class AttachmentSerializer(OutputModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "event",
            "kind",
            "original_name",
            "content_type",
            "size",
            "created_at",
            "url",
            "thumbnail_url",
        ]

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_url(self, attachment: Attachment) -> str:
        return self._absolute(attachment_url(attachment.case_id, attachment.pk))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, attachment: Attachment) -> str | None:
        """A photo's small preview (at most 320 px, JPEG) for lists: `url` is the photo
        itself, to open when asked. A photo stored before previews existed is served whole
        until they are made; a PDF has none."""
        if attachment.kind != Attachment.Kind.PHOTO:
            return None
        url = attachment_url(attachment.case_id, attachment.pk, thumbnail=True)
        return self._absolute(url)


class SlaPolicyRefSerializer(OutputModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "code",
            "version",
            "name",
            "assign_within_hours",
            "first_update_within_hours",
            "close_within_days",
            "time_basis",
            "pause_for_judicial_review",
        ]


class ExtensionRequestSerializer(OutputModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = UserRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True)

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "days",
            "reason",
            "status",
            "status_label",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "old_close_due_at",
            "new_close_due_at",
        ]


class DepartmentTaskSerializer(OutputModelSerializer):
    """A department's part in the case: lead or assisting, its state and deadlines."""

    department = DepartmentRefSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    # Plain text, not an enum: "status" names the case's enum in the schema already.
    status = serializers.CharField(
        read_only=True, help_text="dispatched, signed, reported, done, returned"
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    signed_by = UserRefSerializer(read_only=True)

    class Meta:
        model = DepartmentTask
        fields = [
            "id",
            "department",
            "role",
            "role_label",
            "status",
            "status_label",
            "instructions",
            "dispatched_at",
            "sign_due_at",
            "report_due_at",
            "signed_at",
            "signed_on_time",
            "signed_by",
            "reported_at",
            "report",
            "verified_at",
            "returned_at",
            "return_reason",
        ]


class CaseDetailSerializer(CaseListSerializer):
    category = CategorySerializer(read_only=True)
    lead_department = DepartmentRefSerializer(read_only=True)
    referral_department = DepartmentRefSerializer(read_only=True)
    filed_by = UserRefSerializer(read_only=True)
    assistants = UserRefSerializer(many=True, read_only=True)
    parties = serializers.SerializerMethodField()
    events = CaseEventSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    sla_policy = SlaPolicyRefSerializer(read_only=True)
    extensions = ExtensionRequestSerializer(many=True, read_only=True)
    department_tasks = DepartmentTaskSerializer(many=True, read_only=True)
    resolved_on_time = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Resolved within the closing deadline "
        "(only while resolved and not yet closed; closed_on_time once closed).",
    )

    class Meta(CaseListSerializer.Meta):
        fields = [
            *CaseListSerializer.Meta.fields,
            "description",
            "occurred_at",
            "latitude",
            "longitude",
            "district",
            "street",
            "community",
            "grid",
            "people_involved",
            "amount_involved",
            "lead_department",
            "filed_by",
            "assistants",
            "resolved_on_spot",
            "outcome",
            "outcome_note",
            "close_kind",
            "referral_kind",
            "referral_department",
            "accepted_at",
            "assigned_at",
            "first_progress_at",
            "outcome_at",
            "resolved_at",
            "closed_at",
            "withdrawn_at",
            "referred_at",
            "reopened_at",
            "created_at",
            "updated_at",
            "parties",
            "events",
            "attachments",
            "sla_policy",
            "first_update_due_at",
            "assigned_on_time",
            "first_update_on_time",
            "closed_on_time",
            "resolved_on_time",
            "clock_paused_at",
            "extensions",
            "department_tasks",
        ]

    @extend_schema_field(PartySerializer(many=True))
    def get_parties(self, case: Case) -> list:
        # Masked unless asked for and recorded (disclosure.reveal_parties checked the right).
        context = {**self.context, "sees_party_details": bool(self.context.get("reveal_parties"))}
        return PartySerializer(case.parties.all(), many=True, context=context).data


# --- inputs -----------------------------------------------------------------------------------


class PartyInputSerializer(FreshFields, serializers.Serializer):
    side = serializers.ChoiceField(choices=PartySide.choices, default=PartySide.APPLICANT)
    kind = serializers.ChoiceField(choices=PartyKind.choices, default=PartyKind.PERSON)
    name = serializers.CharField(allow_blank=True, default="", max_length=PARTY_FIELD_MAX["name"])
    phone = serializers.CharField(allow_blank=True, default="", max_length=PARTY_FIELD_MAX["phone"])
    id_number = serializers.CharField(
        allow_blank=True, default="", max_length=PARTY_FIELD_MAX["id_number"]
    )
    address = serializers.CharField(
        allow_blank=True, default="", max_length=PARTY_FIELD_MAX["address"]
    )
    relationship = serializers.CharField(
        allow_blank=True, default="", max_length=PARTY_FIELD_MAX["relationship"]
    )


class PartiesField(serializers.ListField):
    """A JSON list of parties; in a multipart form (filing with photos) either the same list
    as one JSON-encoded field or indexed keys (`parties[0]name`)."""

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], str):
            data = data[0]
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("not_a_list", input_type="text")
        return super().to_internal_value(data)


def _upload_list(**kwargs):
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        default=list,
        max_length=FILES_MAX,
        **kwargs,
    )


def _text(*, required=False, **kwargs):
    # Blank passes here so that the service, which knows why a text is needed, says so.
    kwargs.setdefault("max_length", TEXT_MAX)
    if required:
        return serializers.CharField(allow_blank=True, **kwargs)
    return serializers.CharField(allow_blank=True, default="", **kwargs)


class CaseCreateSerializer(FreshFields, serializers.Serializer):
    cause = _text(required=True, max_length=200)
    description = _text()
    occurred_at = serializers.DateTimeField(allow_null=True, default=None)
    address = _text(required=True, max_length=200)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, allow_null=True,
        default=None,
    )  # fmt: skip
    area = serializers.PrimaryKeyRelatedField(
        queryset=Area.objects.none(),
        error_messages={"does_not_exist": _("You cannot file cases in this area.")},
    )
    category = PreparedKeyField(queryset=selectors.filing_categories())
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.GRID_WORKER)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, allow_null=True, default=None)
    people_involved = serializers.IntegerField(min_value=1, default=2)
    amount_involved = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, allow_null=True, default=None
    )
    parties = PartiesField(child=PartyInputSerializer(), allow_empty=True, max_length=PARTIES_MAX)
    photos = _upload_list()
    resolved_on_spot = serializers.BooleanField(default=False)
    outcome_note = _text()
    notify_applicant = serializers.BooleanField(
        default=True,
        help_text=_(
            "Text the applicant's mobile the case number and tracking code, then each step "
            "(accepted, assigned, closed)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["area"].queryset = permissions.filing_areas_q(request.user)


class NoteInputSerializer(serializers.Serializer):
    note = _text()


class ReasonInputSerializer(serializers.Serializer):
    reason = _text(required=True)


class AssignInputSerializer(serializers.Serializer):
    mediator = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    assistants = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), many=True, default=list
    )
    note = _text()


class NoteWithPhotosInputSerializer(serializers.Serializer):
    note = _text()
    photos = _upload_list()


class ProgressInputSerializer(NoteWithPhotosInputSerializer):
    client_key = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Made by the client for this note; sent again, the note is recorded once.",
    )


class OutcomeInputSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = _text()


class ResolveInputSerializer(serializers.Serializer):
    note = _text()
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_null=True, default=None)


class ReferInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReferralKind.choices)
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True),
        allow_null=True,
        default=None,
    )
    note = _text()


class AttachInputSerializer(serializers.Serializer):
    files = _upload_list()
    note = _text()


class RaiseRiskInputSerializer(serializers.Serializer):
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    reason = _text(required=True)


class DispatchInputSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True)
    )
    assisting = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), many=True, default=list
    )
    note = _text(required=True)


class ExtensionRequestInputSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text=_("1 to 60 days."))
    reason = _text(required=True)


class ExtensionDecideInputSerializer(serializers.Serializer):
    extension = serializers.IntegerField(
        help_text=_("The pending request being decided (its id, from the case's `extensions`).")
    )
    decision = serializers.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    note = _text()


# --- inbox --------------------------------------------------------------------------------------


class VerifyReportInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["pass", "fail"])
    note = _text()
