"""The words of a case that are plain choices (no table): kept apart from models.py so
that it stays short; models re-exports them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class HandlingLevel(models.TextChoices):
    GRID = "grid", _("Grid")
    COMMUNITY = "community", _("Community")
    STREET = "street", _("Street centre")
    DISTRICT = "district", _("District centre")


class Channel(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker in the field")
    RESIDENT_QR = "resident_qr", _("Resident QR self-report")
    RECEPTION_DAY = "reception_day", _("Reception day")
    HOTLINE = "hotline", _("Hotline")
    ONLINE = "online", _("Online message")
    POLICE_REFERRAL = "police_referral", _("Police referral")
    COURT_REFERRAL = "court_referral", _("Court referral")


class Outcome(models.TextChoices):
    AGREEMENT = "agreement", _("Agreement reached")
    PARTIAL = "partial", _("Partly agreed")
    FAILED = "failed", _("Mediation failed")


class CloseKind(models.TextChoices):
    SUBSTANTIVE = "substantive", _("Substantively resolved")
    PROCEDURAL = "procedural", _("Procedural close")


class ReferralKind(models.TextChoices):
    LITIGATION = "litigation", _("Litigation")
    ARBITRATION = "arbitration", _("Arbitration")
    DEPARTMENT = "department", _("A department")


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    RESPONDENT = "respondent", _("Respondent")


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")
