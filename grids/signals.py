from django.dispatch import Signal

# Sent inside the move transaction after an area's subtree changed parent, so apps that
# copy ancestor ids (cases) can refresh them atomically.
area_moved = Signal()
