"""``python -m plan ENV`` for an environment of cells (fleet:cells): every cell planned as it deploys.

The preflight over the whole environment (quotas and limits are the account's, whichever stack counts
them), then each cell after both rounds (offline/cells.py): its resources, its critical path and create
time at the parallelism ``python -m deploy`` gives it, the rounds, and the environment's bound.
``--cost`` prices every cell's registrations together. One cell's full plan (flows, DNS, --compare,
--upgrade-to, --what-if): ``python -m plan ENV.CLUSTER``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from components.config.errors import ConfigError
from components.planning import cells, checks, preflight
from offline import cells as offline_cells
from offline.critical_path import bound_minutes, critical_path, enough_parallel, total_create_minutes
from offline.harness import Run
from offline.stacks import stack_config

ENGINE_DEFAULT_ON_CI = 8
"""The engine's default steps on a 2-vCPU runner (4 x CPUs): what a stack gets when nothing sizes it."""
ONE_STACK_OPTIONS = ("diagram", "compare", "upgrade_to", "what_if", "to")


def _new_only(before: Run, after: Run) -> Run:
    return Run({u: r for u, r in after.registrations.items() if u not in before.registrations}, {}, set(), [])


def build(environment: str) -> dict[str, Any]:
    config = stack_config(environment)
    spec = checks.environment_fleet({key.removeprefix("fleet:"): value for key, value in config.items()}, environment)
    checked = preflight.run(spec)
    plan: dict[str, Any] = {"environment": environment, "preflight": checked.as_dict()}
    if not checked.passed:
        return plan
    started = time.perf_counter()
    first, joined = offline_cells.evaluate_cells(environment, config)
    rows: list[dict[str, Any]] = []
    bounds: list[float] = []
    for stack, run in sorted(first.items()):
        whole = joined.get(stack, run)
        parallel = enough_parallel(run, ENGINE_DEFAULT_ON_CI)
        bounds.append(bound_minutes(run, parallel))
        rows.append(
            {
                "stack": stack,
                "cluster": cells.cell_of(stack),
                "resources": len(whole.registrations),
                "criticalPathMinutes": critical_path(run).minutes,
                "totalCreateMinutes": total_create_minutes(run),
                "parallel": parallel,
                "boundMinutes": bounds[-1],
                "joins": stack in joined,
            }
        )
    join_bound = max((bound_minutes(_new_only(first[s], r), ENGINE_DEFAULT_ON_CI) for s, r in joined.items()), default=0.0)
    rounds = [max(bounds), join_bound]
    plan.update(
        {
            "cells": rows,
            "rounds": [sorted(first), sorted(joined)],
            "roundMinutes": rounds,
            "boundMinutes": round(sum(rounds), 1),
            # Each cell's warnings as it stands after both rounds (the first round's waits are the join's to end).
            "warnings": sorted(
                {w for s, run in first.items() for w in joined.get(s, run).warnings if not w.startswith("preflight: ")}
            ),
            "evaluationSeconds": round(time.perf_counter() - started, 1),
        }
    )
    return plan


def text(plan: dict[str, Any]) -> str:
    lines = [f"{plan['environment']}: {len(plan['cells'])} cells (fleet:cells), deployed in {len(plan['rounds'])} rounds"]
    lines.append("  stack                          resources  critical path  create total  parallel  bound")
    for row in plan["cells"]:
        joins = "  (joins)" if row["joins"] else ""
        lines.append(
            f"  {row['stack']:<30} {row['resources']:>9}  {row['criticalPathMinutes']:>10.1f} min"
            f"  {row['totalCreateMinutes']:>8.1f} min  {row['parallel']:>8}  {row['boundMinutes']:>5.1f} min{joins}"
        )
    lines.append(
        f"  rounds: {' + '.join(f'{m:.1f}' for m in plan['roundMinutes'])} = {plan['boundMinutes']:.1f} min "
        "(the slowest cell of each round; the join round's own creates)"
    )
    lines += [f"  warning: {w}" for w in plan["warnings"]]
    return "\n".join(lines) + "\n"


def main(environment: str, args: argparse.Namespace) -> int:
    given = [name for name in ONE_STACK_OPTIONS if getattr(args, name, None)]
    if given:
        print(
            f"--{given[0].replace('_', '-')} plans one stack: run it on a cell (python -m plan {environment}.<cluster>)",
            file=sys.stderr,
        )
        return 1
    try:
        plan = build(environment)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    if plan["preflight"]["verdict"] != "pass":
        print(json.dumps(plan, indent=2) if args.json else preflight.text(plan["preflight"]), end="\n" if args.json else "")
        return 1
    if getattr(args, "cost", False):
        from offline import cost

        first, joined = offline_cells.evaluate_cells(environment, stack_config(environment))
        found = cost.estimate(offline_cells.merged({s: joined.get(s, r) for s, r in first.items()}))
        print(json.dumps(found, indent=2) if args.json else cost.text(found), end="\n" if args.json else "")
        return 0
    print(json.dumps(plan, indent=2) if args.json else text(plan), end="\n" if args.json else "")
    return 0
