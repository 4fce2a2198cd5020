"""The reference stacks' graphs match their lock: a refactor changes no URN and no input."""

from __future__ import annotations

import copy

import pytest

from offline.graph_lock import LOCKED_STACKS, differences, fingerprint, read_lock
from offline.harness import Run

UPDATE = "an intended change is re-locked with `python -m offline.graph_lock --update`"


@pytest.mark.parametrize("stack", LOCKED_STACKS)
def test_graph_matches_its_lock(stack: str, request: pytest.FixtureRequest) -> None:
    # Each locked stack has the session fixture of its name (tests/conftest.py), evaluated as graph_lock does.
    run: Run = request.getfixturevalue(stack)
    diff = differences(read_lock(stack), fingerprint(run))
    assert not diff, f"{stack}'s graph differs from tests/graph/{stack}.json ({UPDATE}):\n" + "\n".join(diff)


def test_an_input_change_is_a_difference(fleet: Run) -> None:
    # The lock would catch a renamed concern that changed one tag on one resource.
    changed = copy.deepcopy(fleet)
    cluster = changed.of_type("eks:index:Cluster")[0]
    cluster.inputs = {**cluster.inputs, "tags": {**cluster.inputs.get("tags", {}), "x": "y"}}
    assert differences(fingerprint(fleet), fingerprint(changed)) == [f"changed resource: {cluster.urn}"]


def test_a_moved_resource_is_a_removal_and_an_addition(fleet: Run) -> None:
    changed = copy.deepcopy(fleet)
    urn, registration = next(iter(changed.registrations.items()))
    moved = urn + "-moved"
    changed.registrations[moved] = changed.registrations.pop(urn)
    assert differences(fingerprint(fleet), fingerprint(changed)) == [f"added resource: {moved}", f"removed resource: {urn}"]
    assert registration is changed.registrations[moved]
