"""``python -m deploy --stack <env>`` for a celled environment (fleet:cells, components/planning/cells.py).

The environment's rounds, in order: every cell, then the clusterset's cells again (the join). The cells
of a round run side by side, each its own Automation API deploy (a ``pulumi`` process) with the
environment's file as its config and its own parallelism from its own graph. A cell that fails stops
only itself: it is left out of the join round, the others go on, and the summary names it.

A preview runs the first round only: the join round's inputs are the first round's outputs, which a
preview does not write. CI runs each round as a matrix instead (``python -m deploy.order --json``).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pulumi import automation as auto

from components.config.hub_stack import read_spec
from components.planning import cells
from deploy.runner import ROOT, DeployableStack, DeployRequest, DeploySummary, ExitCode, StackOpener, deploy

DEFAULT_CELLS_AT_ONCE = 8
"""Cells deployed at once on one machine: each is a ``pulumi`` process with its provider plugins (hundreds
of MB each). ``--cells-at-once`` raises it; CI runs a round as a matrix of jobs instead."""
SUCCESS = (ExitCode.OK, ExitCode.CHANGES_PENDING)


def is_celled(stack: str, root: Path = ROOT) -> bool:
    from components.config.stack_files import declares_cells

    return declares_cells(root / f"Pulumi.{stack}.yaml")


def environment_of_cell(stack: str, root: Path = ROOT) -> str | None:
    """The celled environment ``stack`` is a cell of, or None."""
    environment = cells.environment_of(stack)
    return environment if environment != stack and is_celled(environment, root) else None


def environment_rounds(environment: str, root: Path = ROOT) -> tuple[tuple[cells.Cell, ...], tuple[cells.Cell, ...]]:
    """The environment's cells, and those deployed again in the join round."""
    spec = read_spec(root / f"Pulumi.{environment}.yaml")
    return cells.cells_of(environment, spec), cells.joining_cells(environment, spec)


def create_or_select_stack(stack: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
    """A cell's stack, created on its first up (a cluster added to the environment's file has none yet)."""
    options = auto.LocalWorkspaceOptions(env_vars=dict(env)) if env else None
    return auto.create_or_select_stack(stack_name=stack, work_dir=str(work_dir), opts=options)


class Prefixed:
    """One cell's engine output, line by line, each line naming the cell (cells write side by side)."""

    def __init__(self, stack: str, stream: TextIO, lock: threading.Lock) -> None:
        self.stack, self.stream, self.lock = stack, stream, lock

    def write(self, text: str) -> int:
        with self.lock:
            for line in text.splitlines():
                self.stream.write(f"[{self.stack}] {line}\n")
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self.stream.flush()


# What the environment's own stack may still hold once its resources have moved into its cells: no cloud
# object (offline/cells.py: providers are copied, never moved; the shared component stays behind).
LEFT_BEHIND_TYPES = ("pulumi:pulumi:Stack", "pulumi:pulumi:StackReference", "fleet:index:GlobalTraffic")


def held_by_single_stack(deployment: Mapping[str, Any]) -> list[str]:
    """The URNs an environment's single stack (``pulumi stack export``) still holds that its cells would
    create again: everything but its root, providers, stack references and the shared component."""
    return sorted(
        str(r.get("urn"))
        for r in deployment.get("resources") or []
        if not str(r.get("type", "")).startswith("pulumi:providers:") and r.get("type") not in LEFT_BEHIND_TYPES
    )


def single_stack_state(environment: str, work_dir: Path, env: Mapping[str, str]) -> Mapping[str, Any] | None:
    """The environment's own stack's deployment, or None when the backend has no such stack."""
    options = auto.LocalWorkspaceOptions(env_vars=dict(env)) if env else None
    try:
        stack = auto.select_stack(stack_name=environment, work_dir=str(work_dir), opts=options)
    except auto.StackNotFoundError:
        return None
    return dict(stack.export_stack().deployment or {})


StateReader = Callable[[str, Path, Mapping[str, str]], Mapping[str, Any] | None]
StackLister = Callable[[Path, Mapping[str, str]], list[str]]


def backend_stacks(work_dir: Path, env: Mapping[str, str]) -> list[str]:
    """The project's stacks the backend holds (pulumi stack ls)."""
    workspace = auto.LocalWorkspace(work_dir=str(work_dir), env_vars=dict(env) if env else None)
    return [summary.name.rsplit("/", 1)[-1] for summary in workspace.list_stacks()]


def not_moved_yet(environment: str, backend_url: str | None, root: Path, read_state: StateReader) -> str | None:
    """Why no cell of ``environment`` may deploy yet: its single stack still holds what the cells would
    create a second time (a VPC, a record set: AWS would hold two, or refuse the second's name)."""
    env = {"PULUMI_BACKEND_URL": backend_url} if backend_url else {}
    try:
        state = read_state(environment, root, env)
    except Exception as error:  # a backend that cannot be read must not let cells create what it may hold
        return f"cannot read the stack {environment} to check that its resources have moved into its cells: {error}"
    if state is not None and (held := held_by_single_stack(state)):
        return (
            f"the stack {environment} still holds {len(held)} resources its cells would create a second time "
            f"(first: {held[0]}): move them into the cells first (docs/runbooks.md, 'Move a running environment into "
            f"cells'; python -m deploy.move_into_cells --stack {environment} prints the commands)"
        )
    return None


@dataclass
class EnvironmentSummary:
    environment: str
    operation: str
    rounds: list[list[DeploySummary]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Cells left out of the join round: their first round failed."""
    error: str | None = None
    """Why no cell ran."""

    @property
    def failed(self) -> list[str]:
        """The cells whose last round failed."""
        last = {s.stack: s for r in self.rounds for s in r}
        return sorted({stack for stack, s in last.items() if s.exit_code not in SUCCESS} | set(self.skipped))

    @property
    def exit_code(self) -> ExitCode:
        if self.error is not None:
            return ExitCode.FAILED
        codes = {s.exit_code for s in {s.stack: s for r in self.rounds for s in r}.values()}
        failures = codes - set(SUCCESS)
        if len(failures) == 1:
            return failures.pop()
        if failures:
            return ExitCode.FAILED
        return ExitCode.CHANGES_PENDING if ExitCode.CHANGES_PENDING in codes else ExitCode.OK

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "operation": self.operation,
            "exitCode": int(self.exit_code),
            "result": "succeeded"
            if self.exit_code is ExitCode.OK
            else ("changes-pending" if self.exit_code is ExitCode.CHANGES_PENDING else "failed"),
            "failed": self.failed,
            "skipped": self.skipped,
            "error": self.error,
            "rounds": [[s.as_json() for s in r] for r in self.rounds],
        }


def cells_left_behind(environment: str, root: Path, env: Mapping[str, str], list_stacks: StackLister) -> str | None:
    """Why no cell deploys: the backend holds a cell whose cluster has left the environment's file (it may
    still serve, its record sets and cluster, and the others would drop it from their openings)."""
    first = {c.stack for c in environment_rounds(environment, root)[0]}
    try:
        listed = [s for s in list_stacks(root, env) if cells.environment_of(s) == environment and s != environment]
    except Exception as error:  # a backend that cannot be listed must not hide a cell left behind
        return f"cannot list the backend's stacks to find cells of {environment} no longer in its file: {error}"
    if not (left := sorted(set(listed) - first)):
        return None
    return (
        f"{', '.join(left)}: a cell whose cluster has left Pulumi.{environment}.yaml still exists and may still serve (its "
        "record sets, its cluster). Its resources are protected: put its entry back with retiring: true and deploy that "
        f"cell (which lifts the protection), take it out of the records and the clusterset, then pulumi destroy --stack "
        f"{left[0]} --config-file Pulumi.{environment}.yaml and pulumi stack rm (docs/cells.md, 'Add or remove a cluster')"
    )


def ensure_cell_stacks(environment: str, open_stack: StackOpener, root: Path, env: Mapping[str, str]) -> str | None:
    """Every cell's stack of the environment, created where the backend lacks it, before any cell reads
    another (a StackReference to a stack the backend lacks fails the program: a cluster just added to
    the file). Matrix jobs may race to create one: the loser selects it. Why not, or None."""
    for cell in environment_rounds(environment, root)[0]:
        for attempt in (1, 2):
            try:
                open_stack(cell.stack, root, env)
                break
            except auto.StackAlreadyExistsError:
                if attempt == 2:
                    return f"cannot select the stack {cell.stack}, which another job created"
            except Exception as error:
                return f"cannot create or select the stack {cell.stack}: {error}"
    return None


def deploy_environment(
    request: DeployRequest,
    open_stack: StackOpener,
    parallel_for: Callable[[str], int | None],
    cells_at_once: int = DEFAULT_CELLS_AT_ONCE,
    root: Path = ROOT,
    progress: TextIO | None = None,
    read_state: StateReader = single_stack_state,
    list_stacks: StackLister = backend_stacks,
) -> EnvironmentSummary:
    """Every round of the environment ``request.stack``; never raises for a cell's failure."""
    environment = request.stack
    stream = progress if progress is not None else sys.stderr
    lock = threading.Lock()
    first, join = environment_rounds(environment, root)
    summary = EnvironmentSummary(environment, request.operation)
    if (refused := not_moved_yet(environment, request.backend_url, root, read_state)) is not None:
        summary.error = refused
        return summary

    def run_round(round_cells: tuple[cells.Cell, ...]) -> list[DeploySummary]:
        # Each cell's parallelism from its own graph, sized before the round starts: the offline
        # evaluation runs the program under process-wide mocks, one at a time.
        requests = [
            dataclasses.replace(
                request,
                stack=cell.stack,
                config_file=str(root / cell.file),
                parallel=request.parallel if request.parallel is not None else parallel_for(cell.stack),
            )
            for cell in round_cells
        ]
        with ThreadPoolExecutor(max_workers=max(1, min(cells_at_once, len(requests)))) as pool:
            return list(pool.map(lambda r: deploy(r, open_stack, progress=Prefixed(r.stack, stream, lock)), requests))

    env = {"PULUMI_BACKEND_URL": request.backend_url} if request.backend_url else {}
    if (left := cells_left_behind(environment, root, env, list_stacks)) is not None:
        summary.error = left
        return summary
    if request.operation == "up" and (refused := ensure_cell_stacks(environment, open_stack, root, env)) is not None:
        summary.error = refused
        return summary
    summary.rounds.append(run_round(first))
    if request.operation != "up":
        return summary
    # Every clusterset cell again, those whose first round failed too: a running member whose broker had
    # not exported yet (after a move into cells, or a new broker) stopped before changing anything, and
    # joins now; any other failure gets one more attempt of its own stack.
    if join:
        summary.rounds.append(run_round(join))
    return summary
