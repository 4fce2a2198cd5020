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
    from components.config.stack_files import read_stack_file

    path = root / f"Pulumi.{stack}.yaml"
    return path.is_file() and read_stack_file(path).config.get("fleet:cells") is True


def environment_rounds(environment: str, root: Path = ROOT) -> tuple[tuple[cells.Cell, ...], tuple[cells.Cell, ...]]:
    """The environment's cells, and those deployed again in the join round."""
    spec = read_spec(root / f"Pulumi.{environment}.yaml")
    return cells.cells_of(environment, spec), cells.joining_cells(environment, spec)


def create_or_select_stack(stack: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
    """A cell's stack, created on its first up (a cluster added to the environment's file has none yet)."""
    options = auto.LocalWorkspaceOptions(env_vars=dict(env)) if env else None
    return auto.create_or_select_stack(stack_name=stack, work_dir=str(work_dir), opts=options)


class _Prefixed:
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


@dataclass
class EnvironmentSummary:
    environment: str
    operation: str
    rounds: list[list[DeploySummary]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Cells left out of the join round: their first round failed."""

    @property
    def failed(self) -> list[str]:
        return sorted({s.stack for r in self.rounds for s in r if s.exit_code not in SUCCESS} | set(self.skipped))

    @property
    def exit_code(self) -> ExitCode:
        codes = {s.exit_code for r in self.rounds for s in r}
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
            "rounds": [[s.as_json() for s in r] for r in self.rounds],
        }


def deploy_environment(
    request: DeployRequest,
    open_stack: StackOpener,
    parallel_for: Callable[[str], int | None],
    cells_at_once: int = DEFAULT_CELLS_AT_ONCE,
    root: Path = ROOT,
    progress: TextIO | None = None,
) -> EnvironmentSummary:
    """Every round of the environment ``request.stack``; never raises for a cell's failure."""
    environment = request.stack
    stream = progress if progress is not None else sys.stderr
    lock = threading.Lock()
    first, join = environment_rounds(environment, root)
    summary = EnvironmentSummary(environment, request.operation)

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
            return list(pool.map(lambda r: deploy(r, open_stack, progress=_Prefixed(r.stack, stream, lock)), requests))

    summary.rounds.append(run_round(first))
    if request.operation != "up":
        return summary
    failed = {s.stack for s in summary.rounds[0] if s.exit_code not in SUCCESS}
    summary.skipped = sorted(c.stack for c in join if c.stack in failed)
    joining = tuple(c for c in join if c.stack not in failed)
    if joining:
        summary.rounds.append(run_round(joining))
    return summary
