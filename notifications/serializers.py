from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .groups import Group
from .models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    case_number = serializers.SerializerMethodField()
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "case",
            "case_number",
            "is_read",
            "read_at",
            "created_at",
        ]

    def get_case_number(self, notification: Notification) -> str:
        return notification.case.number if notification.case_id else ""

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text=_("The messages to mark as read (others of yours stay unread)."),
    )
    all = serializers.BooleanField(default=False, help_text=_("Mark every message as read."))

    def validate(self, data):
        # Explicit either way: a client that forgets `ids` must not empty the inbox.
        if ("ids" in data) == bool(data["all"]):
            raise serializers.ValidationError(_("Give either `ids` or `all: true`."))
        return data


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class PreferenceSerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=Group.choices)
    label = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField(read_only=True, help_text=_("Always on."))
    sms = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)


class PreferencesSerializer(serializers.Serializer):
    groups = PreferenceSerializer(many=True)

    def validate_groups(self, rows):
        seen = [row["group"] for row in rows]
        if len(seen) != len(set(seen)):
            raise serializers.ValidationError(_("Name each group of notices once."))
        return rows
