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

from benchmarks.critical_path import critical_path
from benchmarks.fleets import generated_fleet
from components.validation import ConfigError
from offline.harness import run_program


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size: int) -> dict[str, Any]:
    config = generated_fleet(size)
    baseline = _peak_rss_mib()
    started = time.perf_counter()
    try:
        run = run_program(config)
    except ConfigError as exc:
        # A fleet AWS would refuse (an allow list past its limit) is reported, not measured.
        return {"clusters": size, "refused": exc.problems}
    seconds = time.perf_counter() - started
    path = critical_path(run)
    return {
        "clusters": size,
        "resources": len(run.registrations),
        "seconds": round(seconds, 3),
        "peakRssMiB": round(_peak_rss_mib(), 1),
        "baselineRssMiB": round(baseline, 1),
        "criticalPathMinutes": path.minutes,
        "clustersOnPath": path.count("eks:index:Cluster"),
        "path": [f"{step.name} ({step.type}, {step.minutes:g} min)" for step in path.steps if step.minutes >= 1],
    }


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
