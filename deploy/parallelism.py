"""How many steps ``python -m deploy`` lets the engine run for a preview or an up: the stack's graph decides.

The engine's default is 4 x CPUs (pulumi/pulumi defaultParallel(), since v3.100.0): 8 on a 2-vCPU
runner, where a fleet's stack holds its creates in a queue far longer than its critical path
(docs/benchmarks.md). The deploy simulates the stack's first ``up`` on its offline plan
(offline/critical_path.py) and takes the smallest parallelism, doubling from the engine's default, at
which it comes within 5% of the critical path, capped at 128: more would only put more API calls in
flight. Refresh is left at the engine's default (it sends every read at once anyway,
pulumi/pulumi#19033). ``PULUMI_PARALLEL``, when set, is the operator's and is left alone.
"""

from __future__ import annotations

import os
import sys

PER_CPU = 4
"""The engine's default: 4 x GOMAXPROCS steps (pulumi/pulumi defaultParallel())."""


def engine_default() -> int:
    """What the engine would run on this machine: the floor, so the stack's figure never lowers it."""
    return PER_CPU * (os.cpu_count() or 2)


def for_stack(stack: str) -> int | None:
    """The parallelism for the stack's preview and up; None (the engine's default) when PULUMI_PARALLEL is
    set or the stack does not evaluate offline, which the deploy then reports itself."""
    if os.environ.get("PULUMI_PARALLEL"):
        return None
    from components.config.errors import ConfigError
    from components.config.stack_files import StackFileError
    from offline.critical_path import enough_parallel
    from plan.__main__ import evaluate

    try:
        _, run = evaluate(stack)
    except (ConfigError, StackFileError) as error:
        print(f"python -m deploy: the engine's default parallelism: {stack} does not evaluate offline ({error})", file=sys.stderr)
        return None
    except Exception as error:  # the offline plan only sizes the deploy: it must never stop one
        print(
            f"python -m deploy: the engine's default parallelism: the offline plan failed ({type(error).__name__})",
            file=sys.stderr,
        )
        return None
    return enough_parallel(run, engine_default())
