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
