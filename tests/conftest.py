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
