from django import forms
from django.utils.translation import gettext_lazy as _

from common.limits import TEXT_MAX
from grids.models import Role

from .scope import RECIPIENT_ROLES, areas_to_send_to, sends_everywhere
from .services import TITLE_MAX

EVERYWHERE = "all"


class AreaChoiceField(forms.ModelChoiceField):
    """The sender's areas, indented by depth so the tree reads on a phone's picker."""

    def __init__(self, *args, top_depth: int = 1, **kwargs):
        self.top_depth = top_depth
        super().__init__(*args, **kwargs)

    def label_from_instance(self, area):
        indent = "\u3000" * max(0, area.depth - self.top_depth)
        return f"{indent}{area.name}（{area.get_level_display()}）"


class SendForm(forms.Form):
    area = AreaChoiceField(
        label=_("To everyone under"),
        queryset=None,
        required=False,
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    roles = forms.MultipleChoiceField(
        label=_("Who"),
        choices=[(r, Role(r).label) for r in RECIPIENT_ROLES],
        initial=[Role.GRID_WORKER],
        widget=forms.CheckboxSelectMultiple,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    body = forms.CharField(
        label=_("Content"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control"}),
    )
    ack_due_at = forms.DateTimeField(
        label=_("Acknowledge by"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = list(areas_to_send_to(user).only("pk", "name", "level", "depth", "path"))
        field = self.fields["area"]
        field.queryset = areas_to_send_to(user)
        field.top_depth = min((a.depth for a in areas), default=1)
        # The picker's options, built once here (the field would query again to render).
        options = [(a.pk, field.label_from_instance(a)) for a in areas]
        self.everywhere = sends_everywhere(user)
        if self.everywhere:
            # Someone who sees the whole system may also send to every area at once.
            field.empty_label = _("Every area")
            options.insert(0, ("", field.empty_label))
        else:
            field.required = True
        field.choices = options
