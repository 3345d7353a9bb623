"""The scheme every installation starts with; admins change weights and bands in the admin."""

from django.db import migrations

WEIGHTS = {
    "acceptance": "10",
    "assignment": "10",
    "first_handling": "15",
    "closing": "20",
    "verified_resolution": "20",
    "satisfaction": "15",
    "callback_coverage": "10",
    "cards_answered": "10",
    # Points off the score per supervision card received.
    "cards_received": "2",
}
# (kind, label, from, up to): cases in the month.
BANDS = [
    ("street", "小（不足300件）", 0, 299),
    ("street", "中（300–999件）", 300, 999),
    ("street", "大（1000件以上）", 1000, None),
    ("community", "小（不足20件）", 0, 19),
    ("community", "中（20–59件）", 20, 59),
    ("community", "大（60件以上）", 60, None),
    ("person", "小（不足10件）", 0, 9),
    ("person", "中（10–39件）", 10, 39),
    ("person", "大（40件以上）", 40, None),
]


def create(apps, schema_editor):
    Scheme = apps.get_model("assessment", "AssessmentScheme")
    if Scheme.objects.exists():
        return
    scheme = Scheme.objects.create(name="默认考核方案", is_active=True)
    apps.get_model("assessment", "MetricWeight").objects.bulk_create(
        apps.get_model("assessment", "MetricWeight")(scheme=scheme, metric=m, weight=w)
        for m, w in WEIGHTS.items()
    )
    apps.get_model("assessment", "VolumeBand").objects.bulk_create(
        apps.get_model("assessment", "VolumeBand")(
            scheme=scheme, kind=k, label=label, min_volume=low, max_volume=high
        )
        for k, label, low, high in BANDS
    )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
