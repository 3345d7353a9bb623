"""What every app's API shares: the error body's schema and input parsing. The errors
themselves are shaped once, by grid_governance.api_errors (the DRF exception handler)."""

import copy

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from .prepared import Prepared


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERROR_DESCRIPTIONS = {
    400: "Bad input; `errors` maps each field to its messages. Nothing was saved.",
    403: "You may see this case but may not do this.",
    404: "No such case, or it is outside your scope.",
    409: "The case's status does not allow this now. Nothing was changed.",
}


def error_responses(*codes: int, **descriptions: str) -> dict:
    """Schema entries for the error answers an endpoint can give (`e404="…"` overrides)."""
    text = ERROR_DESCRIPTIONS | {int(k[1:]): v for k, v in descriptions.items()}
    return {c: OpenApiResponse(ErrorSerializer, description=text[c]) for c in codes}


def parsed(serializer_class, request) -> dict:
    """The request body validated by the input serializer; a 400 with field errors if not."""
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def fresh(field: serializers.Field) -> serializers.Field:
    """A new, unbound copy of a field kept as a template (never bound or used itself), for
    one serializer instance: what DRF's `copy.deepcopy` of a field gives, for a fraction of
    the cost. DRF re-runs the field's `__init__` with deep copies of its arguments; a
    filing's reply and input made ~1,500 deep copies and ~160 fields that way per request.
    Here the template's attributes are copied one level: a field only reads what it was
    made with (DRF already shares validators between copies), and everything a use sets
    (`bind`: name, parent, source; cached validators, `fields`) is set on the copy. Fields
    the template holds bound to itself (a list's child, a many-relation's child relation)
    are copied likewise and bound to the copy; a mutable default is copied, so a value
    handed out by one instance is never another's."""
    copied = copy.copy(field)
    copied.__dict__.pop("fields", None)  # a serializer's cached fields are made per copy
    for name, value in vars(field).items():
        if isinstance(value, serializers.Field) and value.parent is field:
            inner = fresh(value)
            inner.parent = copied
            setattr(copied, name, inner)
    if isinstance(field.default, list | dict | set):
        copied.default = copy.copy(field.default)
    return copied


class FreshFields:
    """For a plain input serializer: its declared fields (the class's templates) copied
    with `fresh`, not with DRF's deepcopy. Only for serializers that do not change their
    declared fields in place (replacing one on the instance, as CaseCreateSerializer sets
    its area's queryset, is fine)."""

    def get_fields(self):
        return {name: fresh(field) for name, field in self._declared_fields.items()}


class OutputModelSerializer(serializers.ModelSerializer):
    """A read-only output serializer whose fields are worked out from the model once per
    class, not on every instance. DRF introspects the model for each serializer it makes,
    nested ones included: a case's detail reply (a dozen nested serializers) spent most of
    its time there (bench_lists.py profiled a filing). Copies are cheap: `fresh` copies a
    template field one level, not DRF's deep copy of its arguments. Only for serializers
    whose fields depend on nothing but their Meta (no get_fields of their own that reads
    the request)."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: fresh(field) for name, field in built.items()}


class PreparedKeyField(serializers.PrimaryKeyRelatedField):
    """A related row given by its id, looked up in the declared `queryset` with a prepared
    read (common.prepared: compiled once per connection) when the id is a number. Anything
    else (a string, a wrong type, an unknown id) and a queryset replaced on an instance go
    to DRF's own lookup, with its messages."""

    def __init__(self, *, queryset, **kwargs):
        self.declared = queryset
        # Made once, with the declaration: copies of the field share it (and its plans).
        self.read = Prepared(lambda pk: queryset.filter(pk=pk))
        super().__init__(queryset=queryset, **kwargs)

    def to_internal_value(self, data):
        prepared = type(data) is int and self.queryset is self.declared
        if prepared and (found := self.read.first(data)) is not None:
            return found
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class LabelField(serializers.Field):
    """The label of a choice (`status_label` …), from the field's value: the same text as
    Model.get_FOO_display, which DRF would call only after inspecting its signature for
    every row (a fifth of a 50-row list's CPU). A value outside the choices is shown as is,
    as get_FOO_display does."""

    def __init__(self, choices, **kwargs):
        self.labels = dict(choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        label = self.labels.get(value)
        return value if label is None else str(label)
