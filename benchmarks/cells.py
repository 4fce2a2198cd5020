"""Cells at scale: ``python -m benchmarks.cells <clusters>`` prints JSON for one generated celled fleet.

The fleet is prod's stack file (joining mgmt's hub, global DNS, a clusterset) with ``fleet:cells: true``
and N clusters round-robin over three regions (benchmarks/fleets.py's clusters), every one in one
weighted record. Its clusterset holds the first three clusters: over public endpoints the broker's API
admits every member's addresses, and EKS takes at most 40 entries (planning/flows.py), so a clusterset
of more needs a private path to the broker, which cells do not split (planning/cells.py).

Every cell is evaluated as ``python -m deploy.order`` runs it: all cells, then the clusterset's cells
again with the first round's outputs; mgmt's hub then registers every cell's cluster. Each stack's
critical path and total create time come from offline/critical_path.py's create-time table.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from typing import Any

from benchmarks.fleets import MAX_SIZE, REGIONS, _cluster
from offline import cells as offline_cells
from offline.critical_path import (
    DEFAULT_PARALLEL_PER_CPU,
    bound_minutes,
    critical_path,
    enough_parallel,
    snapshot_writes,
    total_create_minutes,
)
from offline.harness import Run, creator_session, deployer_session, run_program, stack_config

ENVIRONMENT = "prod"
CLUSTERSET_SIZE = 3
RAISED_QUOTAS = {"elasticIps": 5000, "onDemandVcpus": {"Standard": 100000, "G": 1000}, "spotVcpus": {"Standard": 100000}}
ENGINE_DEFAULT = 2 * DEFAULT_PARALLEL_PER_CPU
"""The engine's default on a 2-vCPU runner (GitHub's ubuntu-latest): 8 steps."""


def generated_cells(size: int) -> dict[str, Any]:
    """Stack config (``fleet:*`` keys) of a celled environment of ``size`` clusters named c01..cNN."""
    if not 2 <= size <= MAX_SIZE:
        raise ValueError(f"fleet size {size}: between 2 and {MAX_SIZE} clusters")
    config = copy.deepcopy(stack_config(ENVIRONMENT))
    config.pop("fleet:quotas", None)
    config["fleet:cells"] = True
    clusters = [_cluster(i) for i in range(1, size + 1)]
    config["fleet:clusters"] = clusters
    names = [c["name"] for c in clusters]
    config["fleet:dns"]["records"] = [{"name": "api.example.com", "routing": "weighted", "weights": dict.fromkeys(names, 10)}]
    clusterset = config["fleet:submariner"]
    clusterset["broker"] = names[0]
    clusterset["clusters"] = names[:CLUSTERSET_SIZE]
    return config


def evaluate_cells(config: dict[str, Any]) -> tuple[dict[str, Run], dict[str, Run]]:
    return offline_cells.evaluate_cells(ENVIRONMENT, config)


def _new_only(before: Run, after: Run) -> Run:
    """``after`` with what ``before`` already created as done: the join round's own creates."""
    kept = {urn: r for urn, r in after.registrations.items() if urn not in before.registrations}
    return Run(kept, after.exports, after.secret_exports, after.warnings)


def _stack_row(stack: str, run: Run, deploy_parallel: int) -> dict[str, Any]:
    path = critical_path(run).minutes
    total = total_create_minutes(run)
    return {
        "stack": stack,
        "resources": len(run.registrations),
        "criticalPathMinutes": path,
        "totalCreateMinutes": total,
        "totalOver8Minutes": round(total / ENGINE_DEFAULT, 1),
        "deployParallel": deploy_parallel,
        "totalOverDeployParallelMinutes": round(total / deploy_parallel, 1),
        "boundAt8Minutes": bound_minutes(run, ENGINE_DEFAULT),
        "diySnapshotWrites": snapshot_writes(run),
    }


def measure_cells(size: int) -> dict[str, Any]:
    config = generated_cells(size)
    started = time.perf_counter()
    first, joined = evaluate_cells(config)
    plan_seconds = time.perf_counter() - started
    # Each cell's whole graph is its joined one when it has a join round; the first round creates all but the join.
    whole = {stack: joined.get(stack, run) for stack, run in first.items()}
    rows = [_stack_row(stack, run, enough_parallel(run, ENGINE_DEFAULT)) for stack, run in sorted(whole.items())]
    join_rows = [
        _stack_row(f"{stack} (join)", _new_only(first[stack], run), ENGINE_DEFAULT) for stack, run in sorted(joined.items())
    ]
    rounds = [
        max(bound_minutes(run, enough_parallel(run, ENGINE_DEFAULT)) for run in first.values()),
        max((bound_minutes(_new_only(first[s], r), ENGINE_DEFAULT) for s, r in joined.items()), default=0.0),
    ]
    largest = max(rows, key=lambda r: r["resources"])
    single_cell = min(r["criticalPathMinutes"] for r in rows)
    return {
        "clusters": size,
        "stacks": len(rows),
        "planSeconds": round(plan_seconds, 1),
        "largestStack": {"stack": largest["stack"], "resources": largest["resources"]},
        "maxCriticalPathMinutes": max(r["criticalPathMinutes"] for r in rows),
        "maxTotalOver8Minutes": max(r["totalOver8Minutes"] for r in rows),
        "roundMinutes": [round(m, 1) for m in rounds],
        "fleetBoundMinutes": round(sum(rounds), 1),
        "oneCellCriticalPathMinutes": single_cell,
        "hubResources": hub_resources(size),
        "stacksTable": rows,
        "joinTable": join_rows,
    }


def one_stack(size: int) -> dict[str, Any]:
    """The same environment as one stack (fleet:cells off): what cells replace."""
    config = generated_cells(size)
    config.pop("fleet:cells")
    run = run_program(config, stack=ENVIRONMENT, caller_arn=deployer_session(config), creator_arn=creator_session(config))
    deploy = enough_parallel(run, ENGINE_DEFAULT)
    return {"clusters": size, **_stack_row(ENVIRONMENT, run, deploy), "boundAtDeployMinutes": bound_minutes(run, deploy)}


def markdown(cell_rows: list[dict[str, Any]], one_rows: list[dict[str, Any]]) -> str:
    """docs/benchmarks.md's cells table: per size, the cells' stacks against the same environment as one stack."""
    one = {r["clusters"]: r for r in one_rows}
    lines = [
        "| clusters | stacks | largest stack | critical path, slowest cell (min) | total ÷ 8, largest cell (min) "
        "| total ÷ deploy's p, largest cell (min) | DIY snapshot writes, largest cell | rounds (min) | fleet bound, cells (min) "
        "| hub stack (mgmt) | one stack: resources | one stack: bound at 8 (min) | one stack: bound at deploy's p (min) "
        "| planned as cells in (s) |",
        "|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in cell_rows:
        table = row["stacksTable"]
        single = one.get(row["clusters"], {})
        lines.append(
            f"| {row['clusters']} | {row['stacks']} | {row['largestStack']['stack']} ({row['largestStack']['resources']}) "
            f"| {row['maxCriticalPathMinutes']:g} | {max(r['totalOver8Minutes'] for r in table):g} "
            f"| {max(r['totalOverDeployParallelMinutes'] for r in table):g} | {max(r['diySnapshotWrites'] for r in table):,} "
            f"| {' + '.join(f'{m:g}' for m in row['roundMinutes'])} | {row['fleetBoundMinutes']:g} "
            f"| {row['hubResources']} | {single.get('resources', 0):,} | {single.get('boundAt8Minutes', 0):g} "
            f"| {single.get('boundAtDeployMinutes', 0):g} "
            f"| {row['planSeconds']:g} |"
        )
    return "\n".join(lines) + "\n"


def hub_resources(size: int) -> int:
    """What mgmt's hub stack registers once it lists the generated celled environment in fleet:members:
    the one stack that grows with the environment (it registers every cell's cluster in Argo CD)."""
    import tempfile
    from pathlib import Path

    import yaml

    from components.config import hub_stack
    from offline import stacks
    from offline.harness import ROOT

    project = Path(tempfile.mkdtemp(prefix="fleet-cells-hub-"))
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    mgmt = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    mgmt["config"]["fleet:members"] = ["organization/fleet/prod"]
    # The hub counts its members' instances against the account's quotas: a generated fleet's account has raised them.
    mgmt["config"]["fleet:quotas"] = {"regions": {region: RAISED_QUOTAS for region in REGIONS}}
    (project / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(mgmt, sort_keys=False))
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": generated_cells(size)}, sort_keys=False))
    saved = stacks.STACK_DIR, hub_stack.PROJECT_DIR
    stacks.STACK_DIR = hub_stack.PROJECT_DIR = project
    try:
        config = stack_config("mgmt")
        run = run_program(config, stack="mgmt", caller_arn=deployer_session(config), creator_arn=creator_session(config))
    finally:
        stacks.STACK_DIR, hub_stack.PROJECT_DIR = saved
    return len(run.registrations)


if __name__ == "__main__":
    # <clusters> [cells|one-stack]
    kind = sys.argv[2] if len(sys.argv) > 2 else "cells"
    print(json.dumps(measure_cells(int(sys.argv[1])) if kind == "cells" else one_stack(int(sys.argv[1]))))
