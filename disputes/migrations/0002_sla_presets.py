"""The default "13710" policy and the 1/3/7/10-day closing presets, so every deployment
starts with working time limits. Admins edit them (which saves new versions)."""

from django.db import migrations

PRESETS = [
    # code, name, close within days, priority, active
    ("default", "默认时限（24小时分派、24小时首次处理、30日办结）", 30, 0, True),
    ("tier-1d", "1日办结", 1, 10, False),
    ("tier-3d", "3日办结", 3, 10, False),
    ("tier-7d", "7日办结", 7, 10, False),
    ("tier-10d", "10日办结", 10, 10, False),
]


def create(apps, schema_editor):
    SlaPolicy = apps.get_model("disputes", "SlaPolicy")
    for code, name, days, priority, active in PRESETS:
        SlaPolicy.objects.get_or_create(
            code=code,
            version=1,
            defaults={
                "name": name,
                "close_within_days": days,
                "priority": priority,
                # Presets start inactive: an admin attaches one to a type or risk level
                # and switches it on.
                "is_active": active,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
