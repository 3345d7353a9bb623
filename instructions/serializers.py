from django.utils.translation import gettext as _
from rest_framework import serializers

from grids.models import Area

from .models import Instruction, InstructionRecipient
from .scope import RECIPIENT_ROLES
from .services import TITLE_MAX


class InstructionAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["id", "code", "name", "level"]


class InstructionProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Recipients (everyone received it in the inbox).")
    read = serializers.IntegerField(help_text="Opened it (acknowledging counts as reading).")
    acked = serializers.IntegerField(help_text="Acknowledged (已签收).")
    waiting = serializers.IntegerField(help_text="Not acknowledged yet.")


class InstructionBranchSerializer(serializers.Serializer):
    area = InstructionAreaSerializer(
        allow_null=True, help_text="A child area; null for those at the instruction's area itself."
    )
    label = serializers.CharField()
    progress = InstructionProgressSerializer()


class InstructionSerializer(serializers.ModelSerializer):
    area = InstructionAreaSerializer(allow_null=True, help_text="null: every area.")
    sender = serializers.CharField(source="sender.display_name")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=RECIPIENT_ROLES))
    progress = InstructionProgressSerializer(help_text="How far it got, over all recipients.")

    class Meta:
        model = Instruction
        fields = [
            "id",
            "title",
            "body",
            "area",
            "roles",
            "sender",
            "ack_due_at",
            "recipient_count",
            "created_at",
            "progress",
        ]


class InstructionDetailSerializer(InstructionSerializer):
    branches = InstructionBranchSerializer(many=True, help_text="Progress per child area.")

    class Meta(InstructionSerializer.Meta):
        fields = [*InstructionSerializer.Meta.fields, "branches"]


class SendInputSerializer(serializers.Serializer):
    area = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        help_text="Everyone under this area (district, street, community, grid …); null for "
        "every area, only for someone who sees the whole system.",
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=RECIPIENT_ROLES), min_length=1, max_length=20
    )
    title = serializers.CharField(max_length=TITLE_MAX)
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    ack_due_at = serializers.DateTimeField(help_text="Deadline to acknowledge (签收期限).")

    def validate_area(self, value):
        if value is None:
            return None
        area = Area.objects.filter(pk=value).first()
        if area is None:
            raise serializers.ValidationError(_("No such area."))
        return area


class ReceiptSerializer(serializers.ModelSerializer):
    instruction = serializers.IntegerField(source="instruction_id")
    title = serializers.CharField(source="instruction.title")
    ack_due_at = serializers.DateTimeField(source="instruction.ack_due_at")

    class Meta:
        model = InstructionRecipient
        fields = ["instruction", "title", "ack_due_at", "status", "read_at", "acked_at"]


class RemindResultSerializer(serializers.Serializer):
    reminded = serializers.IntegerField(
        help_text="People reminded now; 0 when all who have not acknowledged were reminded "
        "within the hour."
    )
