"""The Django admin for areas, people, assignments and CSV import jobs."""

import pytest
from django.conf import settings
from django.contrib.messages import ERROR, INFO, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grids.models import Area, AreaLevel, Assignment, ImportJob, Role, User
from grids.selectors import area_breadcrumbs
from tests.factories import (
    DepartmentFactory,
    Tree,
    UserFactory,
    assert_tree_is_sound,
    assign,
    make_area,
)

pytestmark = pytest.mark.django_db

AREA_CHANGELIST = "/admin/grids/area/"
AUTOCOMPLETE = "/admin/autocomplete/"


@pytest.fixture
def tree():
    return Tree()


def listed(response) -> list[Area]:
    return list(response.context["cl"].result_list)


def messages_of(response) -> list:
    return list(get_messages(response.wsgi_request))


# --- area changelist --------------------------------------------------------------------


def test_it_searches_areas_by_name(admin_client, tree):
    response = admin_client.get(AREA_CHANGELIST, {"q": "第2街道1社区"})

    assert response.status_code == 200
    found = listed(response)
    assert {a.pk for a in found} == set(
        Area.objects.filter(path__startswith=tree.communities[2].path).values_list("pk", flat=True)
    )


def test_it_searches_areas_by_exact_code_only(admin_client, tree):
    grid = tree.grids[3]

    exact = admin_client.get(AREA_CHANGELIST, {"q": grid.code})
    prefix = admin_client.get(AREA_CHANGELIST, {"q": grid.code[:-1]})

    assert listed(exact) == [grid]
    assert listed(prefix) == []


def test_it_filters_areas_by_level(admin_client, tree):
    response = admin_client.get(AREA_CHANGELIST, {"level__exact": AreaLevel.COMMUNITY})

    assert response.status_code == 200
    assert listed(response) == tree.communities


def test_it_shows_the_breadcrumb_path_of_each_area(admin_client, tree):
    response = admin_client.get(AREA_CHANGELIST, {"q": tree.micro_grids[0].code})

    content = response.content.decode()
    assert (
        "测试区 / 第1街道 / 第1街道1社区 / 第1街道1社区1网格 / 第1街道1社区1网格1微网格" in content
    )


def make_flat_tree(total: int) -> list[Area]:
    district = make_area(AreaLevel.DISTRICT, name="区")
    street = make_area(AreaLevel.STREET, district, name="街道")
    community = make_area(AreaLevel.COMMUNITY, street, name="社区")
    grids = [make_area(AreaLevel.GRID, community, name=f"网格{n}") for n in range(total - 3)]
    return [district, street, community, *grids]


@pytest.mark.parametrize("total", [10, 60])
def test_it_lists_areas_with_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries, total
):
    make_flat_tree(total)
    admin_client.get(AREA_CHANGELIST)  # warm the session and content-type caches

    # session, user, count, page of areas, all their ancestors at once, and the calendar
    # years the banner checks (when the calendar package lacks a year within 90 days)
    with django_assert_max_num_queries(6):
        response = admin_client.get(AREA_CHANGELIST)

    assert response.status_code == 200
    assert len(listed(response)) == min(total, 50)
    assert "区 / 街道 / 社区 / 网格0" in response.content.decode()


def test_it_shows_the_breadcrumb_on_the_change_page(admin_client, tree):
    grid = tree.grids[2]

    response = admin_client.get(reverse("admin:grids_area_change", args=[grid.pk]))

    assert response.status_code == 200
    assert area_breadcrumbs([grid])[grid.pk] in response.content.decode()


# --- autocomplete -----------------------------------------------------------------------


def autocomplete(client, term: str):
    return client.get(
        AUTOCOMPLETE,
        {"app_label": "grids", "model_name": "area", "field_name": "parent", "term": term},
    )


def test_it_offers_parents_in_the_autocomplete(admin_client, tree):
    response = autocomplete(admin_client, "第1街道1社区")

    assert response.status_code == 200
    results = response.json()["results"]
    ids = {int(r["id"]) for r in results}
    assert ids == {tree.communities[0].pk, tree.grids[0].pk, tree.grids[1].pk}
    assert all(r["text"] for r in results)


def test_it_leaves_micro_grids_out_of_the_parent_autocomplete(admin_client, tree):
    response = autocomplete(admin_client, "微网格")

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert Area.objects.filter(level=AreaLevel.MICRO_GRID, name__contains="微网格").count() == 16


def test_it_finds_a_parent_by_exact_code_in_the_autocomplete(admin_client, tree):
    response = autocomplete(admin_client, tree.streets[1].code)

    assert [int(r["id"]) for r in response.json()["results"]] == [tree.streets[1].pk]


def test_it_refuses_the_autocomplete_to_a_user_who_is_not_staff(client, tree):
    client.force_login(UserFactory())

    response = autocomplete(client, "第1街道")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- move action ------------------------------------------------------------------------


def test_it_asks_where_to_move_the_selected_areas(admin_client, tree):
    grid = tree.grids[0]

    response = admin_client.post(
        AREA_CHANGELIST, {"action": "move_to_parent", "_selected_action": [grid.pk]}
    )

    assert response.status_code == 200
    assert "admin/grids/area/move.html" in [t.name for t in response.templates]
    assert grid.code in response.content.decode()
    assert 'name="new_parent"' in response.content.decode()
    assert Area.objects.get(pk=grid.pk).parent == tree.communities[0]


def test_it_moves_the_selected_grid_with_the_move_action(admin_client, tree):
    grid, target = tree.grids[0], tree.communities[3]

    response = admin_client.post(
        AREA_CHANGELIST,
        {
            "action": "move_to_parent",
            "_selected_action": [grid.pk],
            "apply": "1",
            "new_parent": target.pk,
        },
    )

    assert response.status_code == 302
    moved = Area.objects.get(pk=grid.pk)
    assert moved.parent == target
    assert moved.path.startswith(target.path)
    assert [m.level for m in messages_of(response)] == [INFO]
    assert_tree_is_sound()


def test_it_reports_a_refused_move_and_moves_nothing(admin_client, tree):
    micro = tree.micro_grids[0]
    paths = dict(Area.objects.values_list("pk", "path"))

    response = admin_client.post(
        AREA_CHANGELIST,
        {
            "action": "move_to_parent",
            "_selected_action": [tree.grids[1].pk, micro.pk],
            "apply": "1",
            "new_parent": tree.communities[1].pk,
        },
    )

    assert response.status_code == 302
    assert [m.level for m in messages_of(response)] == [ERROR]
    assert dict(Area.objects.values_list("pk", "path")) == paths
    assert_tree_is_sound()


# --- add and change an area -------------------------------------------------------------


def area_form(**overrides):
    data = {
        "code": "NEW1",
        "name": "新网格",
        "level": AreaLevel.GRID,
        "dedicated_kind": "",
        "parent": "",
        "households": "120",
        "latitude": "",
        "longitude": "",
    }
    return {**data, **overrides}


def test_it_adds_an_area_through_the_admin_form(admin_client, tree):
    community = tree.communities[1]

    response = admin_client.post(reverse("admin:grids_area_add"), area_form(parent=community.pk))

    assert response.status_code == 302
    area = Area.objects.get(code="NEW1")
    assert (area.name, area.level, area.households) == ("新网格", AreaLevel.GRID, 120)
    assert area.parent == community
    assert area.path.startswith(community.path)
    community.refresh_from_db()
    assert community.numchild == 3
    assert_tree_is_sound()


def test_it_adds_a_district_without_parent_through_the_admin_form(admin_client):
    response = admin_client.post(
        reverse("admin:grids_area_add"),
        area_form(code="D9", name="新区", level=AreaLevel.DISTRICT),
    )

    assert response.status_code == 302
    assert Area.objects.get(code="D9").depth == 1


def test_it_shows_one_clear_error_for_a_bad_parent_in_the_admin_form(admin_client, tree):
    count = Area.objects.count()

    response = admin_client.post(
        reverse("admin:grids_area_add"),
        area_form(level=AreaLevel.MICRO_GRID, parent=tree.communities[0].pk),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["parent"]
    assert len(errors["parent"]) == 1
    assert str(AreaLevel.GRID.label) in errors["parent"][0]
    assert Area.objects.count() == count


def test_it_moves_an_area_when_its_parent_changes_in_the_admin_form(admin_client, tree):
    grid = tree.grids[0]

    response = admin_client.post(
        reverse("admin:grids_area_change", args=[grid.pk]),
        area_form(code=grid.code, name="改名网格", parent=tree.communities[2].pk),
    )

    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.name, grid.parent) == ("改名网格", tree.communities[2])
    assert grid.path.startswith(tree.communities[2].path)
    assert_tree_is_sound()


def test_it_offers_deletion_only_of_leaf_areas(admin_client, tree):
    leaf = admin_client.get(reverse("admin:grids_area_delete", args=[tree.micro_grids[0].pk]))
    branch = admin_client.get(reverse("admin:grids_area_delete", args=[tree.grids[0].pk]))

    assert leaf.status_code == 200
    assert branch.status_code == 403


# --- users and assignments --------------------------------------------------------------


def user_change_data(user: User, **inline) -> dict:
    data = {
        "username": user.username,
        "real_name": user.real_name,
        "phone": user.phone,
        "email": user.email,
        "is_active": "on",
        "assignments-TOTAL_FORMS": "1" if inline else "0",
        "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
        "_save": "1",
    }
    if inline:
        row = {
            "id": "",
            "user": str(user.pk),
            "department": "",
            "started_at_0": "2025-03-01",
            # Early morning in Shanghai is still the previous day in UTC.
            "started_at_1": "07:00:00",
            "ended_at_0": "",
            "ended_at_1": "",
            "note": "",
            **inline,
        }
        data |= {f"assignments-0-{key}": value for key, value in row.items()}
    return data


def history_section(response) -> str:
    content = response.content.decode()
    start = content.index('class="assignment-history"')
    return content[start : content.index("</table>", start)]


def test_it_adds_an_assignment_inline_on_the_user_page(admin_client, admin_user, tree):
    user = UserFactory(real_name="张网格")
    url = reverse("admin:grids_user_change", args=[user.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(
        url, user_change_data(user, role=Role.GRID_WORKER, area=str(tree.grids[0].pk))
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    assignment = Assignment.objects.get(user=user)
    assert (assignment.role, assignment.area) == (Role.GRID_WORKER, tree.grids[0])
    assert assignment.history.get().history_user == admin_user
    section = history_section(admin_client.get(url))
    assert tree.grids[0].name in section
    assert "2025-03-01" in section
    assert admin_user.username in section


def test_it_refuses_an_inline_assignment_at_the_wrong_level(admin_client, tree):
    user = UserFactory()
    url = reverse("admin:grids_user_change", args=[user.pk])

    response = admin_client.post(
        url, user_change_data(user, role=Role.STREET_STAFF, area=str(tree.grids[0].pk))
    )

    assert response.status_code == 200
    assert not Assignment.objects.filter(user=user).exists()
    formset = response.context["inline_admin_formsets"][0].formset
    assert "area" in formset.errors[0]


def test_it_says_when_a_user_has_no_assignments_yet(admin_client):
    user = UserFactory()

    response = admin_client.get(reverse("admin:grids_user_change", args=[user.pk]))

    assert response.status_code == 200
    assert 'class="assignment-history"' not in response.content.decode()
    assert response.context["adminform"].form.instance == user


def test_it_ends_the_selected_assignments_with_the_admin_action(admin_client, admin_user, tree):
    user = UserFactory()
    chosen = [
        assign(user, Role.GRID_WORKER, tree.grids[0]),
        assign(user, Role.MEDIATOR, tree.communities[0]),
    ]
    other = assign(UserFactory(), Role.GRID_WORKER, tree.grids[1])

    response = admin_client.post(
        reverse("admin:grids_assignment_changelist"),
        {"action": "end_assignments", "_selected_action": [a.pk for a in chosen], "index": "0"},
    )

    assert response.status_code == 302
    for assignment in chosen:
        assignment.refresh_from_db()
        assert assignment.ended_at is not None
        assert assignment.history.latest().history_user == admin_user
    other.refresh_from_db()
    assert other.ended_at is None
    assert Assignment.objects.count() == 3


def test_it_ends_every_active_assignment_of_the_selected_users(admin_client, tree):
    user = UserFactory()
    assign(user, Role.GRID_WORKER, tree.grids[0])
    assign(user, Role.MEDIATOR, tree.communities[0])

    response = admin_client.post(
        reverse("admin:grids_user_changelist"),
        {"action": "end_all_assignments", "_selected_action": [user.pk], "index": "0"},
    )

    assert response.status_code == 302
    assert not Assignment.objects.active().filter(user=user).exists()
    assert Assignment.objects.filter(user=user).count() == 2


def test_it_offers_no_deletion_of_assignments(admin_client, tree):
    assignment = assign(UserFactory(), Role.GRID_WORKER, tree.grids[0])

    response = admin_client.get(reverse("admin:grids_assignment_delete", args=[assignment.pk]))

    assert response.status_code == 403
    assert Assignment.objects.filter(pk=assignment.pk).exists()


def test_it_creates_an_assignment_through_the_assignment_admin(admin_client, tree):
    user = UserFactory()
    department = DepartmentFactory()

    response = admin_client.post(
        reverse("admin:grids_assignment_add"),
        {
            "user": user.pk,
            "role": Role.DEPARTMENT_LIAISON,
            "area": "",
            "department": department.pk,
            "started_at_0": "2025-03-01",
            "started_at_1": "09:00:00",
            "ended_at_0": "",
            "ended_at_1": "",
            "note": "",
        },
    )

    assert response.status_code == 302
    assert Assignment.objects.get(user=user).department == department


@pytest.mark.parametrize("active_roles", [1, 4])
def test_it_lists_users_with_a_fixed_number_of_queries(
    admin_client, tree, django_assert_max_num_queries, active_roles
):
    for _ in range(10):
        user = UserFactory()
        for grid in tree.grids[:active_roles]:
            assign(user, Role.GRID_WORKER, grid)
    admin_client.get(reverse("admin:grids_user_changelist"))

    # session, user, count, full count, page of users, their assignments, the groups filter,
    # the calendar years the banner checks
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:grids_user_changelist"))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 11  # and the admin


# --- CSV upload -------------------------------------------------------------------------

GOOD_AREAS = """\
code,name,level,parent_code,households
D1,测试区,district,,1000
S1,第一街道,street,D1,300
C1,一社区,community,S1,120
"""
BAD_AREAS = """\
code,name,level,parent_code,households
D1,测试区,district,,1000
S1,第一街道,province,D1,300
C1,一社区,community,NOPE,many
"""


def upload(client, kind: str, text: str, name: str = "import.csv", encoding: str = "utf-8"):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(reverse("admin:grids_importjob_upload"), {"kind": kind, "file": file})


@pytest.fixture
def run_jobs(celery_eager, django_capture_on_commit_callbacks):
    """Uploads whose Celery task runs in-process when the request's transaction commits."""

    def post(client, kind, text, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client, kind, text, **kwargs)
        return response

    return post


def progress_page(client, job: ImportJob):
    """In English (the footer's language switch), so the sentences can be compared."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("admin:grids_importjob_progress", args=[job.pk]))


def test_it_shows_the_upload_form(admin_client):
    response = admin_client.get(reverse("admin:grids_importjob_upload"))

    assert response.status_code == 200
    assert 'type="file"' in response.content.decode()
    assert admin_client.get(reverse("admin:grids_importjob_add")).status_code == 302


def test_it_imports_an_uploaded_area_file_and_reports_success(admin_client, admin_user, run_jobs):
    response = run_jobs(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS, name="areas.csv")

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:grids_importjob_progress", args=[job.pk])
    assert (job.status, job.original_name, job.created_by) == ("succeeded", "areas.csv", admin_user)
    assert (job.total_rows, job.created_count, job.errors) == (3, 3, [])
    assert job.finished_at is not None
    assert Area.objects.count() == 3
    page = progress_page(admin_client, job)
    content = page.content.decode()
    assert page.status_code == 200
    assert 'data-status="succeeded"' in content
    assert "3 created, 0 updated, 0 unchanged." in content
    assert 'value="100"' in content
    assert "hx-get" not in content  # finished: the page stops polling
    assert_tree_is_sound()


def test_it_reports_a_second_upload_of_the_same_file_as_unchanged(admin_client, run_jobs):
    run_jobs(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS)

    run_jobs(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS)

    job = ImportJob.objects.order_by("pk").last()
    assert (job.status, job.created_count, job.unchanged_count) == ("succeeded", 0, 3)
    assert "0 created, 0 updated, 3 unchanged." in progress_page(admin_client, job).content.decode()
    assert Area.objects.count() == 3


def test_it_reports_every_error_of_an_uploaded_bad_file_and_imports_nothing(admin_client, run_jobs):
    run_jobs(admin_client, ImportJob.Kind.AREAS, BAD_AREAS)

    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert [e["line"] for e in job.errors] == [3, 4, 4]
    assert Area.objects.count() == 0
    content = progress_page(admin_client, job).content.decode()
    assert 'data-status="failed"' in content
    assert "3 errors; nothing was imported." in content
    assert content.count("<tr><td>3</td>") == 1
    assert content.count("<tr><td>4</td>") == 2
    assert "province" in content
    assert "many" in content


def test_it_reports_a_gbk_upload_as_a_failed_job(admin_client, run_jobs):
    run_jobs(
        admin_client,
        ImportJob.Kind.AREAS,
        "编码,名称,层级,上级编码\nQ1,渝中区,区,\n",
        encoding="gbk",
    )

    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert "UTF-8" in job.errors[0]["message"]
    assert "UTF-8" in progress_page(admin_client, job).content.decode()
    assert Area.objects.count() == 0


def test_it_imports_an_uploaded_staff_file(admin_client, run_jobs, tree):
    text = (
        "username,real_name,role,area_code\n"
        f"zhang,张网格,grid_worker,{tree.grids[0].code}\n"
        f"wang,王书记,社区书记,{tree.communities[0].code}\n"
    )

    run_jobs(admin_client, ImportJob.Kind.STAFF, text)

    job = ImportJob.objects.get()
    assert (job.status, job.created_count) == ("succeeded", 2)
    assert set(Assignment.objects.values_list("user__username", flat=True)) == {"zhang", "wang"}


def test_it_refuses_an_upload_that_is_not_a_csv_file(admin_client, run_jobs):
    response = run_jobs(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS, name="areas.xlsx")

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_it_waits_for_the_commit_before_running_the_job(admin_client, celery_eager):
    upload(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS)

    job = ImportJob.objects.get()
    assert job.status == "pending"
    page = progress_page(admin_client, job)
    assert 'data-status="pending"' in page.content.decode()
    assert "hx-get" in page.content.decode()  # still running: the page keeps polling
    assert Area.objects.count() == 0


def test_it_serves_only_the_progress_fragment_to_htmx(admin_client, run_jobs):
    run_jobs(admin_client, ImportJob.Kind.AREAS, GOOD_AREAS)
    job = ImportJob.objects.get()

    response = admin_client.get(
        reverse("admin:grids_importjob_progress", args=[job.pk]), HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="import-progress"')
    assert "<html" not in content


def test_it_keeps_staff_without_permission_away_from_the_upload(client):
    client.force_login(UserFactory(is_staff=True))

    response = client.get(reverse("admin:grids_importjob_upload"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
