"""The layering the README's Architecture section describes, checked on the imports themselves.

Flask is imported only by the web layer, by `routes.py` and by `serving.py`; `core/`, `net/`,
`upstream/`, `storage/`, `media/` and every pure mapping import no Flask and no family; families never import
each other; module-level imports form no cycle; no module grows past ~400 lines. The console has a
`routes.py` but is no endpoint family: it is named here, held to the rule that it imports no family, and
keeps Flask in its `routes.py`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "openai_compat"
WEB_FRAMEWORKS = ("flask", "werkzeug", "jinja2")
FLASK_FREE_PACKAGES = ("core", "net", "upstream", "storage", "media", "sound", "quotas")
MAPPING_FILES = ("protocol.py", "to_workers.py", "from_workers.py", "profiles.py")
FAMILY_STORE = "store.py"  # where a family keeps its objects in the storage layer: no Flask either
SERVING_FILES = ("routes.py", "serving.py")
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
NOT_FAMILIES = ("console",)
"""Packages with a blueprint that are not OpenAI endpoint families: pages for people, which call the
families over HTTP like any client and so import none of them."""
FAMILIES = sorted(p.parent.name for p in PACKAGE.glob("*/routes.py") if p.parent.name not in NOT_FAMILIES)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_imports(path: Path) -> Iterator[str]:
    """Modules imported at module level (not under TYPE_CHECKING, not inside functions)."""
    tree = ast.parse(path.read_text())
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def internal(name: str) -> str | None:
    """The gateway module an import name refers to (a `from pkg import module` counts as the module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


GRAPH = {
    name: {target for imported in module_imports(path) if (target := internal(imported)) and target != name}
    for name, path in MODULES.items()
}


def family_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FAMILIES else None


def may_import_flask(module: str) -> bool:
    path = MODULES[module]
    parts = module.split(".")
    return (len(parts) > 1 and parts[1] == "web") or path.name in SERVING_FILES or module == "openai_compat"


def test_the_families_are_found() -> None:
    assert {"chat", "completions", "embeddings", "models"} <= set(FAMILIES)


@pytest.mark.parametrize("package", NOT_FAMILIES)
def test_the_console_imports_no_family(package: str) -> None:
    modules = [m for m in MODULES if m.split(".")[1:2] == [package]]
    assert f"openai_compat.{package}.routes" in modules
    bad = {m: sorted(t for t in GRAPH[m] if family_of(t) is not None) for m in modules}
    assert not any(bad.values()), f"{package} imports families: {bad}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_flask_only_in_the_web_layer_routes_and_serving(module: str) -> None:
    if may_import_flask(module):
        return
    found = [i for i in module_imports(MODULES[module]) if i.split(".")[0] in WEB_FRAMEWORKS]
    assert not found, f"{module} imports {found}; only web/, routes.py and serving.py may"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_shared_layers_and_mappings_import_no_family_and_no_web_module(module: str) -> None:
    parts = module.split(".")
    shared = len(parts) > 1 and parts[1] in (*FLASK_FREE_PACKAGES, "textgen") and not module.endswith(".serving")
    mapping = MODULES[module].name in (*MAPPING_FILES, FAMILY_STORE)
    if not (shared or mapping):
        return
    own = family_of(module)
    bad = [t for t in GRAPH[module] if (family_of(t) not in (None, own)) or t.startswith("openai_compat.web")]
    if shared:
        bad += [t for t in GRAPH[module] if family_of(t) is not None]
    assert not bad, f"{module} imports {sorted(set(bad))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_families_never_import_each_other(module: str) -> None:
    own = family_of(module)
    others = sorted(t for t in GRAPH[module] if family_of(t) not in (None, own))
    if own is None and not module.startswith("openai_compat.web"):
        others = sorted(t for t in GRAPH[module] if family_of(t) is not None)
    if module == "openai_compat.web.app":
        others = [t for t in others if not t.endswith(".routes")]  # the factory registers every blueprint
    if module == "openai_compat.web.openapi":
        others = [t for t in others if not t.endswith(".protocol")]  # the document lists every family's models
    assert not others, f"{module} imports {others}"


def test_no_import_cycles() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(GRAPH[node]):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by what it holds"


def test_every_family_has_the_same_files() -> None:
    for family in FAMILIES:
        files = {p.name for p in (PACKAGE / family).glob("*.py")}
        assert {"__init__.py", "protocol.py", "routes.py", "serving.py"} <= files, family
        extra = files - {"__init__.py", "protocol.py", "routes.py", "serving.py", FAMILY_STORE, *MAPPING_FILES}
        assert not extra, f"{family} has {sorted(extra)}: name new modules for one of the convention's jobs"
