import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grid_governance.settings")

app = Celery("grid_governance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
