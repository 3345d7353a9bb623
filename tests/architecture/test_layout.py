"""The house's shape, checked: no module hides an import inside a function to dodge a
cycle, no private name crosses a module boundary, no product module outgrows a reader.
(The layers themselves are import-linter's contract in pyproject.toml, run by make test.)"""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["grid_governance", "dashboards", "assessment", "casefiles", "residents",
        "reception_days", "mediation", "referrals",
        "disputes", "instructions", "sla", "notifications", "grids", "common"]  # fmt: skip
MAX_LINES = 600


def product_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


MODULES = list(product_modules())


def test_it_finds_the_product_modules():
    assert len(MODULES) > 100
    assert any(rel(p) == "disputes/models.py" for p in MODULES)


def _function_level_imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield node.name, inner.lineno


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_no_import_hides_inside_a_function(path):
    # AppConfig.ready() is Django's documented place to connect signal receivers.
    if path.name == "apps.py":
        return
    found = list(_function_level_imports(ast.parse(path.read_text(), str(path))))
    assert found == [], f"{rel(path)}: imports inside functions {found}"


def _private_imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name.startswith("_") and alias.name not in ("__version__",):
                    yield node.module, alias.name, node.lineno


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_no_private_name_crosses_modules(path):
    found = list(_private_imports(ast.parse(path.read_text(), str(path))))
    assert found == [], f"{rel(path)} imports private names {found}"


@pytest.mark.parametrize("path", MODULES, ids=rel)
def test_no_product_module_is_over_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{rel(path)} has {lines} lines"


def test_the_layer_contract_names_every_app_once():
    """Deleting an app's layer from the contract would let anything import it unchecked."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    named = [app.strip() for layer in layers for app in layer.split("|")]
    assert sorted(named) == sorted(APPS) == sorted(config["root_packages"])
    acyclic = next(c for c in config["contracts"] if c["type"] == "acyclic_siblings")
    assert sorted(acyclic["ancestors"]) == sorted(APPS)
