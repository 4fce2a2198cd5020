"""One measurement in a fresh process: ``python -m benchmarks.measure <clusters>`` prints JSON.

A process per measurement keeps peak memory honest: nothing from an earlier, larger fleet stays
resident.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from benchmarks.fleets import generated_fleet
from benchmarks.floor import counting_outputs, replay
from components.planning import preflight
from components.planning.checks import load_fleet
from offline.critical_path import bound_minutes, critical_path, snapshot_writes, total_create_minutes
from offline.harness import run_program


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def preflight_summary(config: dict[str, Any]) -> dict[str, Any]:
    """The preflight's verdict for a generated fleet: the largest allow list and group, the quotas to raise."""
    spec = load_fleet({key.removeprefix("fleet:"): value for key, value in config.items()})
    checked = preflight.run(spec)
    allow = checked.largest_allow_list()
    group = checked.largest_security_group()
    return {
        "interconnect": spec.interconnect_mode.value,
        "gatewayPeers": spec.submariner.gateway_peers.value if spec.submariner else None,
        "preflight": "pass" if checked.passed else "fail",
        "errors": checked.errors,
        "largestAllowList": {"cluster": allow[0], "entries": allow[1]} if allow else None,
        "largestSecurityGroup": {"name": group.name, "rules": max(group.inbound, group.outbound)} if group else None,
        "quotasToRaise": [
            f"{q.region or 'account'} {q.quota.key} {q.needed} (default {q.quota.default})" for q in checked.quotas_to_raise()
        ],
    }


def measure(size: int, interconnect: str | None = None, gateway_peers: str | None = None) -> dict[str, Any]:
    config = generated_fleet(size, interconnect, gateway_peers)
    summary = {"clusters": size, **preflight_summary(config)}
    if summary["preflight"] == "fail":
        # A fleet AWS would refuse is reported, not measured: the program stops at the same preflight.
        return {**summary, "refused": summary["errors"]}
    baseline = _peak_rss_mib()
    started = time.perf_counter()
    run = run_program(config)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mib()
    # The floor: the same graph registered plainly, under the same mocks (benchmarks/floor.py). Each
    # is timed again once everything is imported and warm, in turns, so neither pays the other's setup.
    program_times, floor_times = [seconds], []
    for _ in range(2):
        started = time.perf_counter()
        run_program(config, entry=replay(run))
        floor_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_program(config)
        program_times.append(time.perf_counter() - started)
    warm, floor = min(program_times[1:]), min(floor_times)
    # Counted in runs of their own, untimed (the counter costs a call per Output).
    with counting_outputs() as program_outputs:
        run_program(config)
    with counting_outputs() as floor_outputs:
        run_program(config, entry=replay(run))
    path = critical_path(run)
    return {
        **summary,
        "resources": len(run.registrations),
        "perCluster": round(len(run.registrations) / size, 1),
        "seconds": round(seconds, 3),
        "warmSeconds": round(warm, 3),
        "floorSeconds": round(floor, 3),
        "vsFloor": round(warm / floor, 2),
        "outputs": program_outputs[0],
        "floorOutputs": floor_outputs[0],
        "peakRssMiB": round(peak, 1),
        "baselineRssMiB": round(baseline, 1),
        "criticalPathMinutes": path.minutes,
        "totalCreateMinutes": total_create_minutes(run),
        "boundAt8Minutes": bound_minutes(run, 8),
        "diySnapshotWrites": snapshot_writes(run),
        "clustersOnPath": path.count("eks:index:Cluster"),
        "path": [f"{step.name} ({step.type}, {step.minutes:g} min)" for step in path.steps if step.minutes >= 1],
    }


if __name__ == "__main__":
    # <clusters> [interconnect|-] [gatewayPeers]
    args = [None if a == "-" else a for a in sys.argv[2:]]
    print(json.dumps(measure(int(sys.argv[1]), *args)))
