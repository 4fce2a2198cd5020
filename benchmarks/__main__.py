"""``python -m benchmarks [--sizes 3 10 30 100] [--repeat 3] [--gateway-peers anywhere] [--json]``: the program's cost.

For each fleet size, in fresh processes: the time to evaluate the program under mocks (median of
``--repeat`` runs), its peak memory, and the deploy's critical path from typical create times,
compared with a single cluster's. Prints a Markdown table (docs/benchmarks.md's) or JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from typing import Any

from offline.critical_path import CREATE_MINUTES, OTHER_MINUTES
from offline.harness import ROOT

SINGLE = 1


def measure_in_fresh_process(size: int, interconnect: str | None = None, gateway_peers: str | None = None) -> dict[str, Any]:
    modes = [interconnect or "-", gateway_peers or "-"]
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", str(size), *modes], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _fresh(module_and_args: list[str]) -> dict[str, Any]:
    """One measurement module run in a process of its own (peak memory and caches stay its own)."""
    result = subprocess.run([sys.executable, "-m", *module_and_args], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def benchmark(
    sizes: list[int], repeat: int, interconnect: str | None = None, gateway_peers: str | None = None
) -> list[dict[str, Any]]:
    rows = []
    for size in sorted(set(sizes) | {SINGLE}):
        first = measure_in_fresh_process(size, interconnect, gateway_peers)
        if "refused" in first:
            rows.append(first)
            continue
        runs = [first, *(measure_in_fresh_process(size, interconnect, gateway_peers) for _ in range(repeat - 1))]
        row = dict(runs[0])
        row["seconds"] = round(statistics.median(r["seconds"] for r in runs), 2)
        row["vsFloor"] = round(statistics.median(r["vsFloor"] for r in runs), 2)
        row["peakRssMiB"] = max(r["peakRssMiB"] for r in runs)
        rows.append(row)
    single = next((r for r in rows if r["clusters"] == SINGLE and "refused" not in r), None)
    for row in rows:
        if "refused" not in row and single is not None:
            row["vsSingleCluster"] = round(row["criticalPathMinutes"] / single["criticalPathMinutes"], 2)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| clusters | interconnect | preflight | largest allow list | largest security group | quotas to raise "
        "| resources | per cluster | evaluation (s) | vs floor | peak memory (MiB) | critical path (min) | vs one cluster "
        "| total create (min) | bound at 8 steps (min) | DIY snapshot writes |",
        "|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        allow = row.get("largestAllowList")
        group = row.get("largestSecurityGroup")
        allow_text = f"{allow['entries']}/40 ({allow['cluster']})" if allow else "none (private)"
        group_text = f"{group['rules']}/60 ({group['name']})" if group else ""
        head = (
            f"| {row['clusters']} | {row.get('interconnect', '')} | {row.get('preflight', '')} "
            f"| {allow_text} | {group_text} | {len(row.get('quotasToRaise', []))} "
        )
        if "refused" in row:
            # The problem and its limit; the full fix is in the preflight's own output.
            problems = [error.split("; fix:")[0] for error in row["refused"]]
            refused = "; ".join(problems[:2]) + (f"; and {len(problems) - 2} more like them" if len(problems) > 2 else "")
            lines.append(head + f"| refused before deploy: {refused} ||||||||||")
            continue
        lines.append(
            head + f"| {row['resources']} | {row['perCluster']:g} | {row['seconds']:.2f} | {row['vsFloor']:.2f}x "
            f"| {row['peakRssMiB']:.0f} | "
            f"{row['criticalPathMinutes']:g} | {row.get('vsSingleCluster', 1.0):.2f}x "
            f"| {row['totalCreateMinutes']:g} | {row['boundAt8Minutes']:g} | {row['diySnapshotWrites']:,} |"
        )
    for row in rows:
        if row.get("quotasToRaise"):
            lines += ["", f"Quotas to raise for {row['clusters']} clusters: " + ", ".join(row["quotasToRaise"]) + "."]
    measured = [r for r in rows if "refused" not in r]
    if measured:
        # Where the program's cost over the floor goes: Outputs, one per property a typed SDK class declares.
        lines += ["", "Outputs created per evaluation (program vs floor):"]
        lines += [
            f"- {r['clusters']} clusters: {r['outputs']:,} vs {r['floorOutputs']:,} ({r['outputs'] / r['floorOutputs']:.1f}x)"
            for r in measured
            if r.get("floorOutputs")
        ]
    if measured:
        longest = max(measured, key=lambda r: r["clusters"])
        lines += ["", f"Critical path of the {longest['clusters']}-cluster fleet (steps of a minute or more):"]
        lines += [f"{i}. {step}" for i, step in enumerate(longest["path"], start=1)]
    lines += [
        "",
        "Create times used (minutes): "
        + ", ".join(f"{t} {m:g}" for t, m in CREATE_MINUTES.items())
        + f"; anything else {OTHER_MINUTES:g}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="The program's cost as the fleet grows: evaluation time, peak memory and deploy critical path per size.",
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[3, 10, 30], help="fleet sizes (a single cluster is always measured)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="evaluations per size; the median time is reported")
    parser.add_argument(
        "--interconnect",
        choices=["none", "peering", "transitGateway"],
        help="fleet:interconnect.mode of every size (default: chosen by size)",
    )
    parser.add_argument(
        "--gateway-peers", choices=["pools", "anywhere"], help="fleet:submariner.gatewayPeers of every size (default: pools)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")
    parser.add_argument(
        "--cells",
        action="store_true",
        help="generated celled fleets (benchmarks/cells.py): each stack's bounds, the rounds, against one stack (sizes >= 2)",
    )
    args = parser.parse_args(argv)
    if args.cells:
        from benchmarks import cells

        sizes = sorted({s for s in args.sizes if s >= 2})
        celled = [_fresh(["benchmarks.cells", str(size), "cells"]) for size in sizes]
        single = [_fresh(["benchmarks.cells", str(size), "one-stack"]) for size in sizes]
        print(
            json.dumps({"cells": celled, "oneStack": single}, indent=2) if args.json else cells.markdown(celled, single), end=""
        )
        return 0
    rows = benchmark(args.sizes, args.repeat, args.interconnect, args.gateway_peers)
    print(json.dumps(rows, indent=2) if args.json else markdown(rows), end="\n" if args.json else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
