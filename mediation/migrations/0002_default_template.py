"""The agreement template for every dispute type that has none of its own: the standing
clauses of a people's mediation agreement, which admins may reword or override per type."""

from django.db import migrations

CLAUSES = "\n".join(
    [
        "各方当事人应当按照本协议约定的时间、地点和方式履行各自义务。",
        "本协议履行完毕后，各方就本纠纷再无其他争议。",
        "本协议一式三份，各方当事人各执一份，人民调解委员会留存一份。",
    ]
)


def forwards(apps, schema_editor):
    Template = apps.get_model("mediation", "AgreementTemplate")
    if not Template.objects.filter(category__isnull=True).exists():
        Template.objects.create(category=None, title="人民调解协议书", clauses=CLAUSES)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
