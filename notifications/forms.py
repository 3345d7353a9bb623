from django import forms

SWITCH = {"class": "form-check-input", "role": "switch"}


class PreferencesForm(forms.Form):
    """Two switches per group of notices (SMS, email); the inbox is always on. Built from
    the rows selectors.preferences_of gives, so the page lists the groups in their order."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            for channel in ("sms", "email"):
                self.fields[f"{row['group']}_{channel}"] = forms.BooleanField(
                    required=False,
                    initial=row[channel],
                    widget=forms.CheckboxInput(attrs=SWITCH),
                )

    def groups(self):
        """(row, SMS field, email field) per group, for the template."""
        return [(r, self[f"{r['group']}_sms"], self[f"{r['group']}_email"]) for r in self.rows]

    def choices(self) -> dict[str, dict[str, bool]]:
        data = self.cleaned_data
        return {
            r["group"]: {"sms": data[f"{r['group']}_sms"], "email": data[f"{r['group']}_email"]}
            for r in self.rows
        }
