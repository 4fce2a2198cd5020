import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The program imports `components` the way `pulumi up` runs it: from the project root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from offline.harness import Run, run_stack  # noqa: E402


@pytest.fixture(scope="session")
def prod() -> Run:
    """The real prod stack, evaluated once under mocks."""
    return run_stack("prod")


@pytest.fixture(scope="session")
def staging(prod: Run) -> Run:
    """The staging stack, its StackReference answered with the prod run's real exports."""
    hub_outputs = {"argocdHub": prod.exports["argocdHub"], "hubKubeconfig": prod.exports["hubKubeconfig"]}
    return run_stack("staging", stack_outputs={"organization/fleet/prod": hub_outputs})


# The stacks this repository ships; tests that list stack files read a copy of exactly these, so a
# user's own Pulumi.<stack>.yaml beside them never changes what the tests expect.
REFERENCE_STACKS = ("prod", "staging")


@pytest.fixture(scope="session")
def reference_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with Pulumi.yaml and the reference stack files only."""
    directory = tmp_path_factory.mktemp("reference-project")
    for name in ("Pulumi.yaml", *(f"Pulumi.{stack}.yaml" for stack in REFERENCE_STACKS)):
        shutil.copy(ROOT / name, directory / name)
    return directory
