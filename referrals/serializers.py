from rest_framework import serializers

from .models import Direction, Entrustment, LinkageKind, Referral, Result


class ReferralSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    created_by = serializers.CharField(source="created_by.display_name", read_only=True)
    result_by = serializers.CharField(source="result_by.display_name", default=None, read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "case_number",
            "kind",
            "direction",
            "partner",
            "partner_case_number",
            "entrustment",
            "note",
            "started_at",
            "due_at",
            "extended_at",
            "extension_reason",
            "overdue_at",
            "status",
            "result",
            "result_note",
            "result_at",
            "finished_on_time",
            "created_by",
            "result_by",
        ]
        read_only_fields = fields


class ReferralInputSerializer(serializers.Serializer):
    """Shapes only (the service checks the rest, and says so field by field)."""

    case = serializers.IntegerField(min_value=1)
    direction = serializers.ChoiceField(choices=Direction.choices)
    kind = serializers.ChoiceField(choices=LinkageKind.choices)
    partner = serializers.CharField(max_length=100, allow_blank=True)
    partner_case_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    entrustment = serializers.ChoiceField(
        choices=Entrustment.choices, required=False, allow_blank=True
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    started_at = serializers.DateTimeField(required=False, allow_null=True)


class ResultInputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Result.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    partner_case_number = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ExtendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True)
    parties_consent = serializers.BooleanField()
