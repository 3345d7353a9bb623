"""Form widgets that write their HTML in Python: the same markup as Django's templates.

Django renders each widget through a template, and a select through one more template per
<option>: on a filter form of a dozen fields that is a few hundred template nodes, ~4 ms of
CPU for every case list page, and ~10 ms for the action forms of a case page (issue 12).
These widgets take the context Django builds (`get_context`: the same attributes, ids,
value and selected state) and write it out as `django/forms/widgets/*.html` would, escaping
the same way. A subclass that names another template is rendered by that template."""

from django import forms
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

# The input templates that only include input.html.
INPUT_NAMES = ["input", "text", "number", "email", "url", "tel", "search", "hidden", "checkbox"]
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in [*INPUT_NAMES, "date", "time", "datetime"]
)
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _shown(value) -> str:
    """`{{ value }}` in a template: localised, then escaped unless already safe."""
    return conditional_escape(localize(value))


def _as_string(value) -> str:
    """`{{ value|stringformat:'s' }}`: the filter keeps a safe value safe."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """attrs.html: False leaves the attribute out, True writes its name alone."""
    return "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_as_string(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_as_string(widget["value"])}"'
    return (
        f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _textarea(widget: dict) -> str:
    text = _shown(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>'


def _option(option: dict) -> str:
    # An included template keeps its file's last newline; the renderer strips only the
    # widget's own (forms.renderers.DjangoTemplates).
    return (
        f'<option value="{_as_string(option["value"])}"{_attrs(option["attrs"])}>'
        f"{_shown(option['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        parts += [f"\n  {_option(option)}" for option in options]
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class PythonRendered:
    """Renders with `write(context)` while the widget uses Django's own template for it."""

    python_templates: frozenset[str] = frozenset()

    def written_here(self) -> bool:
        return self.template_name in self.python_templates

    def write(self, widget: dict) -> str:
        raise NotImplementedError

    def render(self, name, value, attrs=None, renderer=None):
        if not self.written_here():
            return super().render(name, value, attrs, renderer)
        return mark_safe(self.write(self.get_context(name, value, attrs)["widget"]))


class InputWriter(PythonRendered):
    python_templates = INPUT_TEMPLATES

    def write(self, widget: dict) -> str:
        return _input(widget)


class TextInput(InputWriter, forms.TextInput):
    pass


class DateInput(InputWriter, forms.DateInput):
    pass


class CheckboxInput(InputWriter, forms.CheckboxInput):
    pass


class NumberInput(InputWriter, forms.NumberInput):
    pass


class HiddenInput(InputWriter, forms.HiddenInput):
    pass


class Textarea(PythonRendered, forms.Textarea):
    python_templates = frozenset({TEXTAREA_TEMPLATE})

    def write(self, widget: dict) -> str:
        return _textarea(widget)


class SelectWriter(PythonRendered):
    python_templates = frozenset({SELECT_TEMPLATE})

    def written_here(self) -> bool:
        return super().written_here() and self.option_template_name == OPTION_TEMPLATE

    def write(self, widget: dict) -> str:
        return _select(widget)


class Select(SelectWriter, forms.Select):
    pass


class SelectMultiple(SelectWriter, forms.SelectMultiple):
    pass


TWINS = {
    forms.TextInput: TextInput,
    forms.NumberInput: NumberInput,
    forms.DateInput: DateInput,
    forms.HiddenInput: HiddenInput,
    forms.CheckboxInput: CheckboxInput,
    forms.Textarea: Textarea,
    forms.Select: Select,
    forms.SelectMultiple: SelectMultiple,
}


def written_in_python(form: forms.BaseForm) -> forms.BaseForm:
    """The form, each field whose widget is exactly one of Django's own given its twin
    above (the same attributes, choices and state: a copy of the widget as it is). Call
    after the form has set its fields up; the form's fields are its own copies."""
    for field in form.fields.values():
        twin = TWINS.get(type(field.widget))
        if twin is not None:
            widget = twin.__new__(twin)
            widget.__dict__.update(field.widget.__dict__)
            field.widget = widget
    return form
