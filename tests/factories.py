import factory
from factory.django import DjangoModelFactory

from grids.models import Area, AreaLevel, Assignment, Department, Role, User

factory.Faker._DEFAULT_LOCALE = "zh_CN"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        # The password hook saves what it changes itself (factory_boy's implicit second
        # save is going away, and it rewrote every column).
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    real_name = factory.Faker("name")
    phone = factory.Faker("phone_number")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pass12345")
        if create:
            obj.save(update_fields=["password"])


_codes = iter(range(10**6, 10**7))


def make_area(level: str, parent: Area | None = None, name: str | None = None, **extra) -> Area:
    """Areas go through treebeard (path allocation), so they are built with a helper
    rather than a plain factory."""
    code = extra.pop("code", f"T{next(_codes)}")
    area = Area(code=code, name=name or f"{AreaLevel(level).label}{code}", level=level, **extra)
    area.parent = parent
    if parent is None:
        return Area.objects.add_root(instance=area)
    parent.refresh_from_db()
    return Area.objects.add_child(parent, instance=area)


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"区第{n}局")


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


def assign(user: User, role: str, area: Area | None = None, department=None, **extra) -> Assignment:
    """A plain row, bypassing the services, for arranging a scenario (e.g. `ended_at=`)."""
    return Assignment.objects.create(
        user=user, role=role, area=area, department=department, **extra
    )


TREE_PROBLEMS = ("evil_chars", "bad_steplen", "orphans", "wrong_depth", "wrong_numchild")


def tree_problems() -> dict[str, list]:
    """Treebeard's own consistency checks, plus our redundant `parent` FK agreeing with
    the materialized path. Every list is empty for a sound tree."""
    problems = dict(zip(TREE_PROBLEMS, Area.objects.find_problems(), strict=True))
    rows = list(Area.objects.values_list("pk", "path", "parent_id"))
    pk_by_path = {path: pk for pk, path, _parent in rows}
    problems["wrong_parent_fk"] = [
        pk for pk, path, parent_id in rows if parent_id != pk_by_path.get(path[: -Area.steplen])
    ]
    return problems


def assert_tree_is_sound():
    assert tree_problems() == {name: [] for name in (*TREE_PROBLEMS, "wrong_parent_fk")}


class Tree:
    """district → 2 streets → 2 communities each → 2 grids each → 2 micro-grids each."""

    def __init__(self):
        self.district = make_area(AreaLevel.DISTRICT, name="测试区")
        self.streets, self.communities, self.grids, self.micro_grids = [], [], [], []
        for s in range(2):
            street = make_area(AreaLevel.STREET, self.district, name=f"第{s + 1}街道")
            self.streets.append(street)
            for c in range(2):
                community = make_area(AreaLevel.COMMUNITY, street, name=f"{street.name}{c + 1}社区")
                self.communities.append(community)
                for g in range(2):
                    grid = make_area(AreaLevel.GRID, community, name=f"{community.name}{g + 1}网格")
                    self.grids.append(grid)
                    for m in range(2):
                        self.micro_grids.append(
                            make_area(AreaLevel.MICRO_GRID, grid, name=f"{grid.name}{m + 1}微网格")
                        )


ROLE = Role
