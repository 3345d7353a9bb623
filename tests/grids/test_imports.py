"""CSV import of areas and staff, through the importer functions and `manage.py`."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from grids.imports import ImportFileError, import_areas, import_staff
from grids.models import Area, AreaLevel, Assignment, Role, User
from tests.factories import (
    DepartmentFactory,
    SuperuserFactory,
    Tree,
    UserFactory,
    assert_tree_is_sound,
    assign,
    make_area,
)

pytestmark = pytest.mark.django_db

# The micro-grid comes before its grid and the grids before their community on purpose:
# a spreadsheet is not sorted by level, and the importer must not care.
GOOD_AREAS = """\
code,name,level,parent_code,households,dedicated_kind,latitude,longitude
D1,测试区,district,,260000,,29.557000,106.577000
M1,一网格1号楼,micro_grid,G1,70,,,
G1,一网格,grid,C1,500,,,
G2,二网格,grid,C1,480,,,
C1,民生路社区,community,S1,3500,,,
S1,解放碑街道,street,D1,30000,,,
X1,解放碑小学,dedicated,S1,0,school,,
"""


def areas_csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def write_csv(tmp_path, text: str, name: str = "file.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def lines_of(result) -> list[int]:
    return [error["line"] for error in result.errors]


def message_on(result, line: int) -> str:
    return " ".join(e["message"] for e in result.errors if e["line"] == line)


# --- areas: a good file -----------------------------------------------------------------


def test_it_creates_the_area_tree_from_a_good_file():
    result = import_areas(areas_csv(GOOD_AREAS))

    assert result.errors == []
    assert (result.total, result.created, result.updated, result.unchanged) == (7, 7, 0, 0)
    areas = {a.code: a for a in Area.objects.all()}
    assert set(areas) == {"D1", "S1", "C1", "G1", "G2", "M1", "X1"}
    expected_parent = {
        "D1": None,
        "S1": "D1",
        "C1": "S1",
        "G1": "C1",
        "G2": "C1",
        "M1": "G1",
        "X1": "S1",
    }
    expected_numchild = {"D1": 1, "S1": 2, "C1": 2, "G1": 1, "G2": 0, "M1": 0, "X1": 0}
    expected_depth = {"D1": 1, "S1": 2, "C1": 3, "G1": 4, "G2": 4, "M1": 5, "X1": 3}
    for code, area in areas.items():
        parent_code = expected_parent[code]
        parent = areas[parent_code] if parent_code else None
        assert area.parent_id == (parent.pk if parent else None), code
        assert area.depth == expected_depth[code], code
        assert len(area.path) == area.depth * Area.steplen, code
        assert area.numchild == expected_numchild[code], code
        if parent:
            assert area.path.startswith(parent.path), code
    assert areas["D1"].path == "0001"
    assert len({a.path for a in areas.values()}) == len(areas)
    assert_tree_is_sound()


def test_it_stores_every_column_of_a_good_file():
    import_areas(areas_csv(GOOD_AREAS))

    district = Area.objects.get(code="D1")
    school = Area.objects.get(code="X1")
    micro = Area.objects.get(code="M1")
    assert (district.name, district.level, district.households) == ("测试区", "district", 260000)
    assert district.latitude == Decimal("29.557000")
    assert district.longitude == Decimal("106.577000")
    assert (school.level, school.dedicated_kind) == (AreaLevel.DEDICATED, "school")
    assert (micro.level, micro.households, micro.latitude) == (AreaLevel.MICRO_GRID, 70, None)


def test_it_makes_the_imported_tree_usable_by_treebeard():
    import_areas(areas_csv(GOOD_AREAS))

    community = Area.objects.get(code="C1")
    assert [a.code for a in Area.objects.get_children(community)] == ["G1", "G2"]
    assert [a.code for a in Area.objects.get_ancestors(Area.objects.get(code="M1"))] == [
        "D1",
        "S1",
        "C1",
        "G1",
    ]
    assert Area.objects.all().subtree_of(community).count() == 4


def test_it_changes_nothing_when_the_same_file_is_imported_twice():
    import_areas(areas_csv(GOOD_AREAS))
    before = {a.code: (a.path, a.numchild, a.parent_id, a.updated_at) for a in Area.objects.all()}

    result = import_areas(areas_csv(GOOD_AREAS))

    assert result.errors == []
    assert (result.total, result.created, result.updated, result.unchanged) == (7, 0, 0, 7)
    after = {a.code: (a.path, a.numchild, a.parent_id, a.updated_at) for a in Area.objects.all()}
    assert after == before
    assert_tree_is_sound()


def test_it_updates_only_the_rows_whose_attributes_changed():
    import_areas(areas_csv(GOOD_AREAS))
    changed = GOOD_AREAS.replace("G2,二网格,grid,C1,480", "G2,二网格（新）,grid,C1,490")

    result = import_areas(areas_csv(changed))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 6)
    grid = Area.objects.get(code="G2")
    assert (grid.name, grid.households) == ("二网格（新）", 490)
    assert_tree_is_sound()


def test_it_accepts_utf8_with_bom_chinese_headers_and_chinese_level_names():
    text = (
        "编码,名称,层级,上级编码,户数\n"
        "Q1,渝中区,区,,1000\n"
        "J1,七星岗街道,街道,Q1,500\n"
        "S1,通远门社区,社区,J1,300\n"
        "W1,通远门第1网格,网格,S1,100\n"
        "V1,1号楼微网格,微网格,W1,20\n"
    )

    result = import_areas(areas_csv(text, "utf-8-sig"))

    assert result.errors == []
    assert result.created == 5
    levels = dict(Area.objects.values_list("code", "level"))
    assert levels == {
        "Q1": "district",
        "J1": "street",
        "S1": "community",
        "W1": "grid",
        "V1": "micro_grid",
    }
    assert Area.objects.get(code="Q1").name == "渝中区"
    assert Area.objects.get(code="V1").households == 20
    assert_tree_is_sound()


def test_it_reads_an_excel_csv_with_crlf_line_ends_and_quoted_commas():
    text = (
        "\ufeffcode,name,level,parent_code\r\n"
        "D1,渝中区,district,\r\n"
        'S1,"解放碑街道,东片",street,D1\r\n'
        "\r\n"
        "C1,民生路社区,community,S9\r\n"
    )

    result = import_areas(areas_csv(text))

    assert lines_of(result) == [5]
    assert "S9" in message_on(result, 5)
    fixed = import_areas(areas_csv(text.replace("S9", "S1")))
    assert fixed.created == 3
    assert Area.objects.get(code="S1").name == "解放碑街道,东片"


def test_it_reports_progress_while_writing():
    calls = []

    import_areas(areas_csv(GOOD_AREAS), progress=lambda done, total: calls.append((done, total)))

    assert calls
    assert calls[-1] == (7, 7)
    assert [done for done, _total in calls] == sorted(done for done, _total in calls)


def test_it_refuses_a_gbk_file_with_a_clear_error():
    text = "编码,名称,层级,上级编码\nQ1,渝中区,区,\n"

    with pytest.raises(ImportFileError, match="UTF-8"):
        import_areas(areas_csv(text, "gbk"))

    assert Area.objects.count() == 0


def test_it_refuses_a_file_without_the_required_columns():
    with pytest.raises(ImportFileError, match="parent_code"):
        import_areas(areas_csv("code,name,level\nD1,区,district\n"))


def test_it_refuses_an_empty_file():
    with pytest.raises(ImportFileError):
        import_areas(b"")


def test_it_appends_imported_children_after_existing_ones():
    district = make_area(AreaLevel.DISTRICT, code="D1")
    street = make_area(AreaLevel.STREET, district, code="S1")
    community = make_area(AreaLevel.COMMUNITY, street, code="C1")
    existing = [make_area(AreaLevel.GRID, community, code=f"G{n}") for n in (1, 2)]
    text = (
        "code,name,level,parent_code\n"
        "G3,三网格,grid,C1\n"
        "G4,四网格,grid,C1\n"
        "M1,三网格1号楼,micro_grid,G3\n"
        "S2,第二街道,street,D1\n"
        "D2,另一个区,district,\n"
    )

    result = import_areas(areas_csv(text))

    assert result.errors == []
    assert result.created == 5
    community.refresh_from_db()
    children = list(Area.objects.get_children(community))
    assert [a.code for a in children] == ["G1", "G2", "G3", "G4"]
    assert all(a.path > existing[-1].path for a in children[2:])
    assert community.numchild == 4
    assert Area.objects.get(code="S2").path > street.path
    assert Area.objects.get(code="D2").path > district.path
    assert Area.objects.get(code="M1").parent == Area.objects.get(code="G3")
    assert Area.objects.values("path").distinct().count() == Area.objects.count()
    assert_tree_is_sound()


# --- areas: a bad file ------------------------------------------------------------------

BAD_AREAS = """\
code,name,level,parent_code,households,latitude
D1,测试区,district,,10,
S1,第一街道,province,D1,,
C1,一社区,community,NOPE,,

M1,微网格,micro_grid,D1,,
D1,重复的区,district,,,
S2,第二街道,street,D1,many,
S3,第三街道,street,D1,,95
S4,第四街道,street,D1,,north
"""


def test_it_reports_every_error_of_a_bad_area_file_with_its_line_number():
    result = import_areas(areas_csv(BAD_AREAS))

    # Line 5 is blank: it is skipped but still counts, as in the spreadsheet.
    assert lines_of(result) == [3, 4, 6, 7, 8, 9, 10]
    assert "province" in message_on(result, 3)
    assert "NOPE" in message_on(result, 4)
    assert message_on(result, 6)  # a micro-grid cannot hang under a district
    assert "D1" in message_on(result, 7)
    assert "2" in message_on(result, 7)  # points at the first occurrence
    assert "many" in message_on(result, 8)
    assert "90" in message_on(result, 9)
    assert "north" in message_on(result, 10)


def test_it_creates_nothing_from_a_file_with_errors():
    result = import_areas(areas_csv(BAD_AREAS))

    assert not result.ok
    assert result.created == 0
    assert Area.objects.count() == 0


def test_it_refuses_to_change_the_level_or_parent_of_an_existing_area():
    import_areas(areas_csv(GOOD_AREAS))
    moved = GOOD_AREAS.replace("G2,二网格,grid,C1", "G2,二网格,grid,S1").replace(
        "X1,解放碑小学,dedicated,S1,0,school", "X1,解放碑小学,grid,S1,0,"
    )

    result = import_areas(areas_csv(moved))

    assert lines_of(result) == [5, 8]
    assert "G2" in message_on(result, 5)
    assert "X1" in message_on(result, 8)
    assert Area.objects.get(code="G2").parent == Area.objects.get(code="C1")
    assert Area.objects.get(code="X1").level == AreaLevel.DEDICATED


def test_it_checks_dedicated_grid_kinds():
    text = (
        "code,name,level,parent_code,dedicated_kind\n"
        "D1,区,district,,\n"
        "S1,街道,street,D1,\n"
        "X1,专属网格,dedicated,S1,\n"
        "X2,专属网格二,dedicated,S1,zoo\n"
        "G1,网格,grid,S1,school\n"
        "X3,医院网格,专属网格,S1,医院\n"
    )

    result = import_areas(areas_csv(text))

    assert lines_of(result) == [4, 5, 6]
    assert "zoo" in message_on(result, 5)
    assert Area.objects.count() == 0


# --- areas: the management command --------------------------------------------------------


def test_it_imports_areas_with_the_management_command(tmp_path):
    path = write_csv(tmp_path, GOOD_AREAS, "areas.csv")
    out = StringIO()

    call_command("import_areas", str(path), stdout=out, stderr=StringIO())

    assert Area.objects.count() == 7
    assert "7 created" in out.getvalue()
    assert_tree_is_sound()


def test_it_makes_the_area_command_fail_listing_file_and_line_of_each_error(tmp_path):
    path = write_csv(tmp_path, BAD_AREAS, "bad-areas.csv")
    err = StringIO()

    with pytest.raises(CommandError, match="7 error"):
        call_command("import_areas", str(path), stdout=StringIO(), stderr=err)

    reported = [line for line in err.getvalue().splitlines() if line.startswith(f"{path}:")]
    assert [int(line.split(":")[1]) for line in reported] == [3, 4, 6, 7, 8, 9, 10]
    assert f"{path}:4: " in err.getvalue()
    assert "NOPE" in err.getvalue()
    assert Area.objects.count() == 0


def test_it_makes_the_area_command_fail_on_a_gbk_file(tmp_path):
    path = write_csv(tmp_path, "编码,名称,层级,上级编码\nQ1,渝中区,区,\n", "gbk.csv", "gbk")

    with pytest.raises(CommandError, match="UTF-8") as excinfo:
        call_command("import_areas", str(path), stdout=StringIO(), stderr=StringIO())

    assert str(path) in str(excinfo.value)
    assert Area.objects.count() == 0


def test_it_makes_the_area_command_fail_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_areas", str(tmp_path / "missing.csv"))


# --- staff ------------------------------------------------------------------------------


@pytest.fixture
def tree():
    return Tree()


@pytest.fixture
def department():
    return DepartmentFactory(code="HRSS", name="区人力资源和社会保障局")


def good_staff(tree, department) -> str:
    return (
        "username,real_name,phone,email,role,area_code,department_code,started_at\n"
        f"zhang,张网格,13800000001,zhang@example.com,grid_worker,{tree.grids[0].code},,2025-01-01\n"
        f"zhang,张网格,13800000001,zhang@example.com,mediator,{tree.communities[0].code},,\n"
        f"li,李综治,13800000002,,street_staff,{tree.streets[0].code},,2025/03/01\n"
        f"wu,吴人社,,,department_liaison,,{department.code},\n"
        f"zhao,赵法官,,,法官,{tree.communities[1].code},,\n"
    )


def test_it_creates_users_and_assignments_from_a_good_staff_file(tree, department):
    result = import_staff(good_staff(tree, department).encode())

    assert result.errors == []
    assert (result.total, result.created, result.updated, result.unchanged) == (5, 5, 0, 0)
    zhang = User.objects.get(username="zhang")
    assert (zhang.real_name, zhang.phone, zhang.email) == (
        "张网格",
        "13800000001",
        "zhang@example.com",
    )
    assert not zhang.has_usable_password()
    places = set(
        Assignment.objects.values_list("user__username", "role", "area_id", "department_id")
    )
    assert places == {
        ("zhang", Role.GRID_WORKER, tree.grids[0].pk, None),
        ("zhang", Role.MEDIATOR, tree.communities[0].pk, None),
        ("li", Role.STREET_STAFF, tree.streets[0].pk, None),
        ("wu", Role.DEPARTMENT_LIAISON, None, department.pk),
        ("zhao", Role.JUDGE, tree.communities[1].pk, None),
    }
    started = Assignment.objects.get(user=zhang, role=Role.GRID_WORKER).started_at
    assert timezone.localtime(started).date().isoformat() == "2025-01-01"
    assert Assignment.objects.filter(ended_at__isnull=True).count() == 5


def test_it_changes_nothing_when_the_same_staff_file_is_imported_twice(tree, department):
    data = good_staff(tree, department).encode()
    import_staff(data)
    before_users = {u.username: (u.real_name, u.phone, u.email) for u in User.objects.all()}
    before_assignments = sorted(Assignment.objects.values_list("pk", "updated_at"))

    result = import_staff(data)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
    assert {u.username: (u.real_name, u.phone, u.email) for u in User.objects.all()} == (
        before_users
    )
    assert sorted(Assignment.objects.values_list("pk", "updated_at")) == before_assignments


def test_it_updates_a_changed_phone_without_a_second_assignment(tree, department):
    import_staff(good_staff(tree, department).encode())
    changed = good_staff(tree, department).replace("13800000002", "13900000002")

    result = import_staff(changed.encode())

    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert User.objects.get(username="li").phone == "13900000002"
    assert Assignment.objects.filter(user__username="li").count() == 1


def test_it_adds_a_new_assignment_for_a_user_whose_old_one_ended(tree, department):
    user = UserFactory(
        username="zhang", real_name="张网格", phone="13800000001", email="zhang@example.com"
    )
    old = assign(user, Role.GRID_WORKER, tree.grids[0])
    old.ended_at = old.started_at
    old.save()

    import_staff(good_staff(tree, department).encode())

    assert Assignment.objects.filter(user=user, role=Role.GRID_WORKER).count() == 2
    assert Assignment.objects.active().filter(user=user, role=Role.GRID_WORKER).count() == 1


def test_it_accepts_chinese_staff_headers_and_role_names_with_a_bom(tree):
    text = (
        "用户名,姓名,手机,角色,区域编码\n"
        f"wang,王书记,13800000004,社区书记,{tree.communities[0].code}\n"
        f"sun,孙楼长,,微网格长,{tree.micro_grids[0].code}\n"
    )

    result = import_staff(text.encode("utf-8-sig"))

    assert result.errors == []
    roles = dict(Assignment.objects.values_list("user__username", "role"))
    assert roles == {"wang": Role.COMMUNITY_SECRETARY, "sun": Role.MICRO_GRID_HEAD}


def bad_staff(tree, department) -> str:
    return (
        "username,real_name,role,area_code,department_code,started_at\n"
        f"boss,老板,boss,{tree.grids[0].code},,\n"
        "zhang,张网格,grid_worker,NOPE,,\n"
        f"li,李综治,street_staff,{tree.grids[0].code},,\n"
        "wu,吴人社,department_liaison,,,\n"
        f"ok,好人,grid_worker,{tree.grids[1].code},,\n"
        f"zhao,赵,mediator,{tree.communities[0].code},,yesterday\n"
        f"qian,钱,district_staff,{tree.district.code},{department.code},\n"
        f"bad name,孙,grid_worker,{tree.grids[1].code},,\n"
    )


def test_it_reports_every_error_of_a_bad_staff_file_with_its_line_number(tree, department):
    result = import_staff(bad_staff(tree, department).encode())

    assert lines_of(result) == [2, 3, 4, 5, 7, 8, 9]
    assert "boss" in message_on(result, 2)
    assert "NOPE" in message_on(result, 3)
    assert message_on(result, 4)  # street staff cannot be assigned to a grid
    assert message_on(result, 5)  # a department liaison needs a department
    assert "yesterday" in message_on(result, 7)
    assert message_on(result, 8)  # an area and a department at once
    assert "bad name" in message_on(result, 9)


def test_it_creates_no_user_and_no_assignment_from_a_bad_staff_file(tree, department):
    users_before = User.objects.count()

    result = import_staff(bad_staff(tree, department).encode())

    assert not result.ok
    assert result.created == 0
    assert User.objects.count() == users_before
    assert not User.objects.filter(username="ok").exists()
    assert Assignment.objects.count() == 0


def test_it_refuses_one_user_with_two_different_names_in_the_file(tree):
    text = (
        "username,real_name,role,area_code\n"
        f"zhang,张网格,grid_worker,{tree.grids[0].code}\n"
        f"zhang,张三,mediator,{tree.communities[0].code}\n"
    )

    result = import_staff(text.encode())

    assert lines_of(result) == [3]
    assert "zhang" in message_on(result, 3)
    assert not User.objects.filter(username="zhang").exists()


def test_it_imports_staff_with_the_management_command(tmp_path, tree, department):
    path = write_csv(tmp_path, good_staff(tree, department), "staff.csv")
    out = StringIO()

    call_command("import_staff", str(path), stdout=out, stderr=StringIO())

    assert "5 created" in out.getvalue()
    assert Assignment.objects.count() == 5


def test_it_makes_the_staff_command_fail_listing_file_and_line_of_each_error(
    tmp_path, tree, department
):
    path = write_csv(tmp_path, bad_staff(tree, department), "bad-staff.csv")
    err = StringIO()

    with pytest.raises(CommandError, match="7 error"):
        call_command("import_staff", str(path), stdout=StringIO(), stderr=err)

    reported = [line for line in err.getvalue().splitlines() if line.startswith(f"{path}:")]
    assert [int(line.split(":")[1]) for line in reported] == [2, 3, 4, 5, 7, 8, 9]
    assert f"{path}:2: " in err.getvalue()
    assert "boss" in err.getvalue()
    assert Assignment.objects.count() == 0


def test_it_makes_the_staff_command_fail_on_a_gbk_file(tmp_path, tree):
    text = f"用户名,姓名,角色,区域编码\nzhang,张网格,网格员,{tree.grids[0].code}\n"
    path = write_csv(tmp_path, text, "gbk.csv", "gbk")

    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import_staff", str(path), stdout=StringIO(), stderr=StringIO())

    assert not User.objects.filter(username="zhang").exists()


def test_it_records_who_imported_each_assignment(tree, department):
    admin = SuperuserFactory()

    import_staff(good_staff(tree, department).encode(), actor=admin)

    histories = Assignment.history.filter(history_type="+")
    assert histories.count() == 5
    assert {h.history_user_id for h in histories} == {admin.pk}
