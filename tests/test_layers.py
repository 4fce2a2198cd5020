"""Imports run one way: AWS/Kubernetes facts -> config -> planning -> resources -> the tools on top.

A fact that imports config, a config rule that runs a planner, or an offline check that reaches
into the plan CLI is a layer running backwards; this test names each such import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components.config.reference import parse_python

ROOT = Path(__file__).resolve().parents[1]

# Rank per layer. A module may import its own layer or a lower rank, never a sibling of the same
# rank (the tools on top stay independent of one another).
LAYERS: dict[str, int] = {
    "components.aws": 0,
    "components.config": 1,
    "components.planning": 2,
    "components.resources": 3,
    "__main__": 4,
    "policy": 4,
    "offline": 5,
    "plan": 6,
    "deploy": 7,
    "benchmarks": 7,
}


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "components":
        return ".".join(parts[:2]) if len(parts) > 1 and ".".join(parts[:2]) in LAYERS else None
    return parts[0] if parts[0] in LAYERS else None


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in ``path``, relative imports resolved."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(parse_python(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
            # "from components import aws" imports a layer by name.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names if layer_of(f"{module}.{alias.name}")]
    return found


def program_files() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if not {".venv", "tests", ".git"} & set(p.relative_to(ROOT).parts) and layer_of(module_name(p)) is not None
    )


def backward_imports(paths: list[Path]) -> list[str]:
    found: dict[tuple[Path, int, str], str] = {}
    for path in paths:
        source = layer_of(module_name(path))
        assert source is not None
        for line, module in imported_modules(path):
            target = layer_of(module)
            if target is None or target == source or LAYERS[target] < LAYERS[source]:
                continue
            problem = f"{path.relative_to(ROOT)}:{line}: {source} imports {module} ({target} is not below it)"
            found.setdefault((path, line, target), problem)
    return list(found.values())


def test_every_program_module_is_in_a_layer() -> None:
    tops = {p.relative_to(ROOT).parts[0] for p in ROOT.glob("*") if p.suffix == ".py" or (p / "__init__.py").exists()}
    components = {f"components.{p.name}" for p in (ROOT / "components").iterdir() if (p / "__init__.py").exists()}
    unplaced = {t.removesuffix(".py") for t in tops} - {"tests", "components"} | components
    assert unplaced <= set(LAYERS), f"modules in no layer: {sorted(unplaced - set(LAYERS))}"


def test_no_import_runs_against_the_layers() -> None:
    found = backward_imports(program_files())
    assert not found, "imports against the layers:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("where", "source", "layer"),
    [
        ("components/config/bad.py", "from ..planning import gitops\n", "components.planning"),
        ("components/aws/bad.py", "from components.config.model import FleetSpec\n", "components.config"),
        ("offline/bad.py", "from plan.__main__ import main\n", "plan"),
        ("components/planning/bad.py", "from .. import resources\n", "components.resources"),
    ],
)
def test_a_backward_import_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, source: str, layer: str) -> None:
    path = tmp_path / where
    path.parent.mkdir(parents=True)
    path.write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    [problem] = backward_imports([path])
    assert f"({layer} is not below it)" in problem


def import_cycles(paths: list[Path]) -> list[list[str]]:
    """Cycles among the given modules' imports (type-checking imports included: a cycle hidden behind
    TYPE_CHECKING is still two modules that cannot be understood apart)."""
    names = {module_name(p): p for p in paths}
    edges = {
        name: sorted(
            {m for _, m in imported_modules(path) if m in names and m != name}
            | {
                m.rsplit(".", 1)[0]
                for _, m in imported_modules(path)
                if m.rsplit(".", 1)[0] in names and m.rsplit(".", 1)[0] != name
            }
        )
        for name, path in names.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in edges[node]:
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name)
    return cycles


def test_no_two_modules_import_each_other() -> None:
    found = import_cycles(program_files())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_a_cycle_behind_type_checking_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "offline").mkdir()
    (tmp_path / "offline" / "a.py").write_text("from offline.b import thing\n")
    (tmp_path / "offline" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from offline.a import other\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert import_cycles(sorted((tmp_path / "offline").glob("*.py"))) == [["offline.a", "offline.b", "offline.a"]]
