from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import AreaLevel
from .selectors import area_breadcrumbs, area_counts_by_level, user_scope


@login_required
def home(request):
    scope = user_scope(request.user)
    assignments = [a for a in scope.assignments]
    crumbs = area_breadcrumbs([a.area for a in assignments if a.area_id])
    counts = area_counts_by_level(user=request.user)
    context = {
        "assignments": [
            {"assignment": a, "place": crumbs.get(a.area_id) if a.area_id else a.department}
            for a in assignments
        ],
        "area_counts": [
            {"label": label, "count": counts[value]}
            for value, label in AreaLevel.choices
            if counts.get(value)
        ],
        "sees_everything": scope.sees_everything,
    }
    return render(request, "grids/home.html", context)
