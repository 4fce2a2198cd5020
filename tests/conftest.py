import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The program imports `components` the way `pulumi up` runs it: from the project root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components.config import clock, hub_stack  # noqa: E402
from offline import charts, stacks  # noqa: E402
from offline.harness import Run, run_stack  # noqa: E402
from tests.reference_stacks import test_project  # noqa: E402

# Tests read stacks from a project folder holding the shipped stack files and the fixtures'
# (tests/stacks/), so a user's own Pulumi.<stack>.yaml never changes what a test sees.
stacks.STACK_DIR = hub_stack.PROJECT_DIR = test_project()

# The day the tests read EKS's support calendar on (components/config/clock.py): the suite never
# depends on the machine's clock. Each test starts on it (a test may move it, --today does).
TODAY = "2026-12-07"
os.environ[clock.ENV] = TODAY


@pytest.fixture(autouse=True)
def _pinned_today() -> None:
    os.environ[clock.ENV] = TODAY


# FLEET_REFERENCE_FETCH=0: never fetch missing charts (stop with the message instead).
FETCH_ENV = "FLEET_REFERENCE_FETCH"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before any test when no source has the pinned charts' sources (after fetching them into
    the cache, when that is allowed and reachable): one message naming the three sources, never a
    failure or a skip per chart test."""
    from offline.fetch_reference import FetchError, default_dest, fetch, pins_of
    from tests.reference import PINNED

    missing = charts.missing_charts(PINNED.values())
    if not missing:
        return
    why = f"turned off ({FETCH_ENV}=0)"
    # Under pytest -n, the controller fetches before its workers start; a worker never writes the cache.
    if os.environ.get(FETCH_ENV, "1") != "0" and "PYTEST_XDIST_WORKER" not in os.environ:
        try:
            fetch(pins_of(), default_dest())
            missing = charts.missing_charts(PINNED.values())
            why = "done, and still incomplete"
        except (FetchError, OSError) as exc:
            why = f"failed: {exc}"
        if not missing:
            return
    pytest.exit(charts.where_charts_come_from(missing, why), returncode=3)


@pytest.fixture(scope="session")
def fleet() -> Run:
    """The single-stack fleet (tests/stacks/Pulumi.fleet.yaml: the hub and both production regions),
    evaluated once under mocks."""
    return run_stack("fleet")


@pytest.fixture(scope="session")
def mgmt() -> Run:
    """The shipped mgmt stack (the Argo CD hub), evaluated once under mocks."""
    return run_stack("mgmt")


@pytest.fixture(scope="session")
def prod(mgmt: Run) -> Run:
    """The shipped prod stack, its StackReference answered with the mgmt run's real exports."""
    return run_stack("prod", stack_outputs={"organization/fleet/mgmt": {"argocdHub": mgmt.exports["argocdHub"]}})


@pytest.fixture(scope="session")
def staging(mgmt: Run) -> Run:
    """The staging stack, its StackReference answered with the mgmt run's real exports."""
    hub_outputs = {"argocdHub": mgmt.exports["argocdHub"]}
    return run_stack("staging", stack_outputs={"organization/fleet/mgmt": hub_outputs})


@pytest.fixture(scope="session")
def reference_project() -> Path:
    """A folder with Pulumi.yaml and the reference stack files only (tests/reference_stacks.py)."""
    from tests.reference_stacks import reference_project as folder

    return folder()
