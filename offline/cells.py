"""A celled environment evaluated offline as ``python -m deploy`` deploys it (components/planning/cells.py):
every cell, then the clusterset's cells again with the first round's outputs; and what moving a running
single stack into those cells takes (offline/state_move.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.planning import cells
from components.planning.checks import load_fleet
from offline.harness import PROJECT, Run, creator_session, deployer_session, run_program
from offline.stacks import ORGANIZATION

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
SHARED_COMPONENTS = ("fleet:index:GlobalTraffic",)
"""Components every cell has one of (``traffic``): a move leaves them behind and takes their children."""


def evaluate_cells(
    environment: str, config: dict[str, Any], run: Callable[..., Run] = run_program
) -> tuple[dict[str, Run], dict[str, Run]]:
    """Both rounds of a celled environment: every cell, then the clusterset's cells with the first round's outputs."""
    spec = load_fleet({key.removeprefix("fleet:"): value for key, value in config.items()})
    # One account: the Elastic IPs one cell allocates are what EC2 lists to the next (cell_reads.py).
    who = {"caller_arn": deployer_session(config), "creator_arn": creator_session(config), "addresses": {}}
    # Every cell's stack exists before the first round (deploy/cells.py creates them), none with outputs yet.
    empty: dict[str, dict[str, Any]] = {
        f"{ORGANIZATION}/{PROJECT}/{cell.stack}": {} for cell in cells.cells_of(environment, spec)
    }
    first = {cell.stack: run(config, stack=cell.stack, stack_outputs=empty, **who) for cell in cells.cells_of(environment, spec)}
    exported = {f"{ORGANIZATION}/{PROJECT}/{stack}": r.exports for stack, r in first.items()}
    joining = cells.joining_cells(environment, spec)
    joined = {cell.stack: run(config, stack=cell.stack, stack_outputs=exported, **who) for cell in joining}
    return first, joined


def whole_cells(environment: str, config: dict[str, Any]) -> dict[str, Run]:
    """Each cell as it stands after both rounds: what its state holds once deployed."""
    first, joined = evaluate_cells(environment, config)
    return {stack: joined.get(stack, run) for stack, run in first.items()}


def move_urns(environment: str, stack: str, cell: Run) -> list[str]:
    """What ``pulumi state move --source <environment> --dest <stack>`` lists: the cell's top-level
    resources and the children of the shared components, as URNs of the environment's stack."""
    return sorted(
        urn.replace(f"urn:pulumi:{stack}::", f"urn:pulumi:{environment}::") for urn in top_level(cell, SHARED_COMPONENTS)
    )


def engine_urn(urn: str) -> str:
    """A URN as the engine writes it: Pulumi's mocks put the root stack's type before a top-level
    resource's (``pulumi:pulumi:Stack$``), the engine leaves it out (offline/recording.py)."""
    head, project, qualified, name = urn.split("::", 3)
    return f"{head}::{project}::{qualified.removeprefix(STACK_TYPE + '$')}::{name}"


def merged(runs: dict[str, Run]) -> Run:
    """The cells' registrations as one graph (their URNs name their own stacks, so none collide): what
    the offline tools that read one graph (cost, upgrade gates) read for a celled environment."""
    registrations = {urn: r for run in runs.values() for urn, r in run.registrations.items()}
    warnings = sorted({w for run in runs.values() for w in run.warnings})
    return Run(registrations, {}, set(), warnings)


def _is_root(urn: str) -> bool:
    return not urn or urn.split("::")[2] == STACK_TYPE


def top_level(run: Run, shared_types: tuple[str, ...]) -> list[str]:
    """What goes to a cell: its top-level resources, and its children of the components every cell has
    one of (``shared_types``). Providers go with the resources that use them."""
    listed = []
    for urn, registration in run.registrations.items():
        if registration.type.startswith(PROVIDER_TYPE_PREFIX):
            continue
        parent = run.registrations.get(registration.parent)
        top = _is_root(registration.parent) and registration.type not in shared_types
        if top or (parent is not None and parent.type in shared_types):
            listed.append(urn)
    return listed
