"""The page forms and API inputs of supervision (督办) and of a card's answer (反馈); kept out
of forms.py and serializers.py, which are near their size limit."""

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .supervision_models import SupervisionCard

TEXT_MAX = 2000


def open_cards(case) -> list[SupervisionCard]:
    """The case's unanswered cards, oldest first, from the prefetched list on the case page."""
    cards = sorted(
        (c for c in case.supervision_cards.all() if c.replied_at is None),
        key=lambda c: (c.issued_at, c.pk),
    )
    for card in cards:
        card.case = case  # asked about the case next: no query for it
    return cards


class SuperviseForm(forms.Form):
    note = forms.CharField(
        label=_("What must be done"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    reply_within_days = forms.IntegerField(
        label=_("Answer within (days)"), min_value=1, max_value=30, required=False
    )


class AnswerCardForm(forms.Form):
    """Answers the card the page showed: its id travels with the form."""

    card = forms.IntegerField(widget=forms.HiddenInput)
    reply = forms.CharField(
        label=_("Your answer"), max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            cards = open_cards(case)
            self.fields["card"].initial = cards[0].pk if cards else None


class VerifyInputSerializer(serializers.Serializer):
    passed = serializers.BooleanField(
        help_text="true: the resolution is confirmed and the case closed; false: back to the "
        "handler (a note is then required)."
    )
    note = serializers.CharField(max_length=TEXT_MAX, allow_blank=True, default="")


class SuperviseInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=TEXT_MAX)
    reply_within_days = serializers.IntegerField(min_value=1, max_value=30, required=False)


class AnswerCardInputSerializer(serializers.Serializer):
    card = serializers.IntegerField(help_text="The card answered (from the case's `cards`).")
    reply = serializers.CharField(max_length=TEXT_MAX)


class CardSerializer(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.number", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = SupervisionCard
        fields = [
            "id", "case", "case_number", "colour", "step", "area", "area_name", "note",
            "issued_at", "reply_due_at", "reply", "replied_at", "replied_late",
        ]  # fmt: skip
        read_only_fields = fields
