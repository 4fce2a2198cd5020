"""Project folders of stack files for the tests: Pulumi.yaml and only the stack files named, so tests
that list or scan stack files (stacks joining a hub, deploy order) never see a user's own
Pulumi.<stack>.yaml."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_STACKS = ("mgmt", "prod", "staging")
FIXTURES = ROOT / "tests" / "stacks"
# Stack files only the tests evaluate (tests/stacks/Pulumi.<name>.yaml).
FIXTURE_STACKS = tuple(sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in FIXTURES.glob("Pulumi.*.yaml")))


def _project(prefix: str, files: dict[str, str]) -> Path:
    """A new folder holding the project's Pulumi.yaml and ``files`` (name -> text)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    for name, text in {"Pulumi.yaml": (ROOT / "Pulumi.yaml").read_text(), **files}.items():
        (directory / name).write_text(text)
    return directory


def _shipped(stack: str) -> tuple[str, str]:
    return f"Pulumi.{stack}.yaml", (ROOT / f"Pulumi.{stack}.yaml").read_text()


@cache
def reference_project() -> Path:
    """The stack files this repository ships."""
    return _project("fleet-reference-project-", dict(map(_shipped, REFERENCE_STACKS)))


@cache
def test_project() -> Path:
    """The shipped stack files and the fixture stacks: where tests read stacks from."""
    fixtures = {f"Pulumi.{s}.yaml": (FIXTURES / f"Pulumi.{s}.yaml").read_text() for s in FIXTURE_STACKS}
    return _project("fleet-test-project-", {**dict(map(_shipped, REFERENCE_STACKS)), **fixtures})


@cache
def fleet_hub_project() -> Path:
    """Staging joining the single-stack fleet's hub (as stack prod, the shape before mgmt had its own
    stack): for tests of a hub stack whose campaign or quotas span a joining stack."""
    _, staging = _shipped("staging")
    return _project(
        "fleet-hub-project-",
        {
            "Pulumi.prod.yaml": (FIXTURES / "Pulumi.fleet.yaml").read_text(),
            "Pulumi.staging.yaml": staging.replace("stack: organization/fleet/mgmt", "stack: organization/fleet/prod"),
        },
    )


@cache
def cells_project() -> Path:
    """The shipped stacks with prod deployed as cells (fleet:cells) and registered by mgmt's hub."""
    _, mgmt = _shipped("mgmt")
    _, prod = _shipped("prod")
    _, staging = _shipped("staging")
    return _project(
        "fleet-cells-project-",
        {
            "Pulumi.mgmt.yaml": mgmt.replace("config:\n", "config:\n  fleet:members:\n    - organization/fleet/prod\n", 1),
            "Pulumi.prod.yaml": prod.replace("config:\n", "config:\n  fleet:cells: true\n", 1),
            "Pulumi.staging.yaml": staging,
        },
    )
