"""The docs stay true: the README fits on a screen, every link lands, every module has its room in
the layout page, every runbook names tests that exist, and the config reference is the model's."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import reference
from components.config.model import FleetSpec
from offline.harness import ROOT, stack_file_config

DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found, fenced = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^#{1,6} (.+)$", line)):
            found.add(re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-"))
    return found


def test_the_readme_fits_on_a_screen() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_lands_on_a_file_and_heading(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no {destination.relative_to(ROOT)}")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {destination.relative_to(ROOT)}")
    assert not broken, broken


def test_a_broken_anchor_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "a.md"
    page.write_text("# Title\n\n## Run fewer gateways\n")
    assert "run-fewer-gateways" in anchors(page)
    assert "run-more-gateways" not in anchors(page)


PACKAGES = ["components/aws", "components/config", "components/planning", "components/resources", "offline"]


def test_the_layout_page_names_every_module_and_only_modules_that_exist() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text()
    missing = [
        f"{package}/{module.name}"
        for package in PACKAGES
        for module in sorted((ROOT / package).glob("*.py"))
        if module.name != "__init__.py" and f"`{module.name}`" not in layout
    ]
    assert not missing, f"docs/layout.md does not place: {missing}"
    for page in PAGES:
        for path in re.findall(r"`((?:components|offline|tests|plan|deploy|policy|benchmarks)/[\w/]+\.py)", page.read_text()):
            assert (ROOT / path).exists(), f"{page.name} names {path}, which does not exist"


def _test_functions() -> set[str]:
    names = set()
    for module in (ROOT / "tests").glob("test_*.py"):
        tree = reference.parse_python(module.read_text())
        names |= {f"tests/{module.name}::{node.name}" for node in tree.body if isinstance(node, ast.FunctionDef)}
    return names


def test_every_runbook_names_the_tests_that_replay_it() -> None:
    text = (ROOT / "docs" / "runbooks.md").read_text()
    sections = re.split(r"(?m)^## ", text)[1:]
    assert len(sections) >= 10
    existing = _test_functions()
    for section in sections:
        title = section.splitlines()[0]
        named = (
            re.findall(r"`(tests/test_\w+\.py::test_\w+)`", section.split("Tested by:")[-1]) if "Tested by:" in section else []
        )
        assert named, f"runbook {title!r} names no test"
        unknown = [n for n in named if n not in existing]
        assert not unknown, f"runbook {title!r} names tests that do not exist: {unknown}"


def test_the_config_reference_is_generated_from_the_model() -> None:
    assert (ROOT / "docs" / "config-reference.md").read_text() == reference.render(), (
        "docs/config-reference.md is stale: run python -m components.config.reference"
    )


def test_every_config_key_has_a_docstring() -> None:
    assert reference.undocumented() == []


def _paths(value: Any, path: str) -> set[str]:
    """Every key path of a stack file value, written as the reference writes them."""
    found = set()
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else key
            found.add(child_path)
            found |= _paths(child, child_path)
    elif isinstance(value, list):
        for item in value:
            found |= _paths(item, f"{path}[]")
    return found


def _documented() -> dict[str, str]:
    """Every key path the reference lists (record variants folded together), with its type."""
    documented = {}
    for section in reference.sections():
        base = re.sub(r" \(\w+\)", "", section.path)
        for row in section.rows:
            documented[f"{base}:{row.key}" if base == "fleet" else f"{base}.{row.key}"] = row.type
    return documented


@pytest.mark.parametrize("stack", ["mgmt", "prod", "staging"])
def test_every_key_the_reference_stacks_use_is_in_the_reference(stack: str) -> None:
    documented = _documented()
    maps = [path for path, kind in documented.items() if kind.startswith("map")]
    used = set()
    for key, value in stack_file_config(stack).items():
        if key.startswith("fleet:"):
            used.add(key)
            used |= {f"{key}.{p}" if not p.startswith("[") else f"{key}{p}" for p in _paths(value, "")}
    # Maps whose keys are the user's (labels, weights, selectors) are documented as the map.
    undocumented = sorted(p for p in used if p not in documented and not any(p.startswith(m + ".") for m in maps))
    assert not undocumented, undocumented


def test_pulumi_yaml_defaults_are_the_models() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    fields = {info.alias or name: info for name, info in FleetSpec.model_fields.items()}
    wrong = []
    for key, declaration in project.items():
        assert key in fields, f"Pulumi.yaml declares {key}, which the model does not have"
        if "default" not in declaration:
            assert fields[key].is_required(), f"Pulumi.yaml declares no default for {key}, but the model has one"
            continue
        info = fields[key]
        model_default = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
        model_default = getattr(model_default, "value", model_default)
        if declaration["default"] != model_default:
            wrong.append(f"{key}: Pulumi.yaml {declaration['default']!r}, model {model_default!r}")
    assert not wrong, wrong


def test_parsing_survives_cpythons_spurious_ast_depth_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # CPython gh-106905 (before 3.11.8) fails a parse after threaded work; the layer and docs checks
    # must not fail with it.
    def spurious(*args: object, **kwargs: object) -> None:
        raise SystemError("AST constructor recursion depth mismatch (before=126, after=180)")

    monkeypatch.setattr(ast, "parse", spurious)
    tree = reference.parse_python("import os\nx = 1\n")
    assert [type(node).__name__ for node in tree.body] == ["Import", "Assign"]
