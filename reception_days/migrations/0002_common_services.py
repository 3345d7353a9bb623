"""The four common services of the reception-day catalogue, present on every database:
visits are recorded against them from the first day, before anyone opens the admin.
Names are data (the catalogue a district posts), so they are stored in Chinese."""

from django.db import migrations

COMMON_SERVICES = [
    ("publicity", "普法宣传", "宣讲法律法规、发放宣传资料、以案释法。", 10),
    ("consultation", "法律咨询", "解答群众法律问题，指引维权途径。", 20),
    ("screening", "风险排查", "排查矛盾纠纷和风险隐患，登记在册、跟踪化解。", 30),
    ("mediation", "矛盾调解", "现场调解矛盾纠纷，疑难纠纷联合会商。", 40),
]


def add_common_services(apps, schema_editor):
    ServiceItem = apps.get_model("reception_days", "ServiceItem")
    for code, name, description, order in COMMON_SERVICES:
        ServiceItem.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("reception_days", "0001_initial")]

    operations = [migrations.RunPython(add_common_services, migrations.RunPython.noop)]
