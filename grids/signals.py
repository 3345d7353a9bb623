from django.dispatch import Signal

# Sent inside the move transaction after an area's subtree changed parent, so apps that
# copy ancestor ids (cases) can refresh them atomically.
area_moved = Signal()

# Sent inside the import transaction when a year the calendar did not cover is filled in
# for the first time (args: year), so deadlines estimated on Monday–Friday for that year
# can be placed on the real working days.
calendar_year_covered = Signal()
