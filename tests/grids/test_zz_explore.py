import pytest
from tests.factories import Tree, make_area
from grids.models import Area, AreaLevel
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

def test_explore(admin_client):
    t = Tree()
    r = admin_client.post("/admin/grids/area/add/", {"code": "N1", "name": "x", "level": "micro_grid", "parent": t.communities[0].pk, "households": 0, "dedicated_kind": ""})
    print(r.status_code, r.context["adminform"].form.errors)
    r = admin_client.post("/admin/grids/area/add/", {"code": "N2", "name": "x", "level": "grid", "parent": t.communities[0].pk, "households": 0, "dedicated_kind": ""})
    print(r.status_code, r.get("Location"))
    print(Area.objects.get(code="N2").path)
    with CaptureQueriesContext(connection) as c:
        r = admin_client.get("/admin/grids/area/")
    print(len(c.captured_queries))
    for q in c.captured_queries: print(q["sql"][:200])
    r = admin_client.get("/admin/autocomplete/", {"app_label":"grids","model_name":"area","field_name":"parent","term":"1网格"})
    print(r.status_code, r.json())
    u = t.district
    r = admin_client.get(f"/admin/grids/area/{t.grids[0].pk}/change/")
    print(r.status_code)
    r = admin_client.post(f"/admin/grids/area/{t.grids[0].pk}/change/", {"code": t.grids[0].code, "name": "y", "level": "grid", "parent": t.communities[1].pk, "households": 5, "dedicated_kind": ""})
    print(r.status_code, r.get("Location"), r.context and r.context["adminform"].form.errors)
    from tests.factories import tree_problems
    print(tree_problems())
