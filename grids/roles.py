"""The roles a user can hold (on their own, so the scope can use them without the models)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    MICRO_GRID_HEAD = "micro_grid_head", _("Micro-grid head")
    MEDIATOR = "mediator", _("Mediator")
    COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")
    STREET_STAFF = "street_staff", _("Street centre staff")
    STREET_LEADER = "street_leader", _("Street leader")
    DISTRICT_STAFF = "district_staff", _("District centre staff")
    DEPARTMENT_LIAISON = "department_liaison", _("Department liaison")
    JUDGE = "judge", _("Judge")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    POLICE = "police", _("Police officer")
    LAWYER = "lawyer", _("Lawyer")
    ADMIN = "admin", _("Administrator")
