"""Who may do what in a case's mediation: the case's mediator and assisting staff, and the
unit that runs the case (its handling area and the levels above). Anyone who may see the
case may read its mediation; the pages answer 404 outside that scope and 403 inside it."""

from disputes.permissions import is_handler, is_manager, sees_party_details

__all__ = ["may_mediate", "sees_party_details"]


def may_mediate(user, case) -> bool:
    return is_handler(user, case) or is_manager(user, case)
