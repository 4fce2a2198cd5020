"""A folder with Pulumi.yaml and only the stack files this repository ships, so tests that list or
scan stack files (stacks joining a hub, deploy order) never see a user's own Pulumi.<stack>.yaml."""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_STACKS = ("mgmt", "prod", "staging")


@cache
def reference_project() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="fleet-reference-project-"))
    for name in ("Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in REFERENCE_STACKS)):
        shutil.copy(ROOT / name, directory / name)
    return directory


# Stack files only the tests evaluate (tests/stacks/Pulumi.<name>.yaml).
FIXTURE_STACKS = tuple(
    sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "tests" / "stacks").glob("Pulumi.*.yaml"))
)


@cache
def test_project() -> Path:
    """The reference project plus the fixture stacks: where tests read stacks from."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-test-project-"))
    for name in ("Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in REFERENCE_STACKS)):
        shutil.copy(ROOT / name, directory / name)
    for stack in FIXTURE_STACKS:
        shutil.copy(ROOT / "tests" / "stacks" / f"Pulumi.{stack}.yaml", directory / f"Pulumi.{stack}.yaml")
    return directory


@cache
def fleet_hub_project() -> Path:
    """Staging joining the single-stack fleet's hub (as stack prod, the shape before mgmt had its own
    stack): for tests of a hub stack whose campaign or quotas span a joining stack."""
    directory = Path(tempfile.mkdtemp(prefix="fleet-hub-project-"))
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    shutil.copy(ROOT / "tests" / "stacks" / "Pulumi.fleet.yaml", directory / "Pulumi.prod.yaml")
    staging = (ROOT / "Pulumi.staging.yaml").read_text()
    (directory / "Pulumi.staging.yaml").write_text(
        staging.replace("stack: organization/fleet/mgmt", "stack: organization/fleet/prod")
    )
    return directory
