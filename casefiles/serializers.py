from rest_framework import serializers

from .models import CaseFileArchive


class IndexEntrySerializer(serializers.Serializer):
    slot = serializers.IntegerField()
    section = serializers.CharField()
    title = serializers.CharField()
    page = serializers.IntegerField(help_text="The document's first page in the PDF.")
    pages = serializers.IntegerField()


class ArchiveSerializer(serializers.Serializer):
    """The copy the viewer gets (full, or masked when they may not see the parties' phone
    and ID numbers): its hash, pages and index."""

    id = serializers.IntegerField()
    case = serializers.IntegerField()
    case_number = serializers.CharField()
    version = serializers.IntegerField()
    number = serializers.CharField(help_text="The archive number, e.g. 民生路社区调卷〔2026〕12号.")
    unit = serializers.CharField()
    year = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=CaseFileArchive.Reason.choices)
    status = serializers.ChoiceField(choices=CaseFileArchive.Status.choices)
    progress = serializers.IntegerField(help_text="0–100 while the file is built.")
    masked = serializers.BooleanField()
    sha256 = serializers.CharField()
    pages = serializers.IntegerField()
    index = IndexEntrySerializer(many=True)
    built_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    download_url = serializers.CharField(allow_null=True)


class ArchiveAgainSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1)
