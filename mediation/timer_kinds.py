"""The names of the mediation deadlines in sla/timers.py (handlers in timers.py)."""

OBLIGATION_WARN = "mediation.obligation_warn"  # a few days before an obligation's deadline
OBLIGATION_DUE = "mediation.obligation_due"  # the deadline itself passed unperformed
CONFIRMATION_WINDOW = "mediation.confirmation_window"  # 30 days after the agreement took effect
COURT_DECISION = "mediation.court_decision"  # 3 days for the court to accept or not
