"""What every app's API shares: the error body's schema and input parsing. The errors
themselves are shaped once, by grid_governance.api_errors (the DRF exception handler)."""

import copy

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
    """A new, unbound field made with the arguments `field` was made with, as DRF's
    `copy.deepcopy` of a field does, without deep-copying the arguments themselves: a
    filing's reply deep-copied about 1,200 objects (choices with their lazy labels, model
    fields, querysets) to build fields that only read them. Nested fields and serializers
    are made afresh (binding changes them); lists, dicts and sets are copied one level (a
    mutable default handed out by one instance is not another's); anything else is shared,
    as DRF already shares validators: fields read their arguments, they do not change
    them, and a related field's queryset is cloned with `.all()` on every use."""
    args = [fresh(a) if isinstance(a, serializers.Field) else a for a in field._args]
    kwargs = {
        name: fresh(value)
        if isinstance(value, serializers.Field)
        else copy.copy(value)
        if isinstance(value, list | dict | set)
        else value
        for name, value in field._kwargs.items()
    }
    return field.__class__(*args, **kwargs)


class FreshFields:
    """For a plain input serializer: its declared fields copied with `fresh`, not with
    DRF's deepcopy (the filing API's input made ~300 deep copies per request). Only for
    serializers whose declared fields are plain DRF fields made from their arguments."""

    def get_fields(self):
        return {name: fresh(field) for name, field in self._declared_fields.items()}


class OutputModelSerializer(serializers.ModelSerializer):
    """A read-only output serializer whose fields are worked out from the model once per
    class, not on every instance. DRF introspects the model for each serializer it makes,
    nested ones included: a case's detail reply (a dozen nested serializers) spent most of
    its time there (bench_lists.py profiled a filing). Copies are cheap: `fresh` re-creates a
    field from the arguments it was made with. Only for serializers whose fields depend on
    nothing but their Meta (no get_fields of their own that reads the request)."""

    def get_fields(self):
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: fresh(field) for name, field in built.items()}
