"""How many steps ``python -m deploy`` lets the engine run at once: the stack's own graph decides.

The engine's default is 4 x CPUs (pulumi/pulumi defaultParallel(), since v3.100.0): 8 on a 2-vCPU
runner, where a fleet's stack holds its creates in a queue far longer than its critical path
(docs/benchmarks.md). The stack's peak concurrency, the most creates in flight at once when each
starts as soon as what it waits for is done (offline/critical_path.py), is the parallelism at which
a first ``pulumi up`` takes its critical path; the AWS providers' adaptive retries absorb the
throttling that many calls at once may meet (components/aws/api_retries.py).
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
    """The stack's peak concurrency from its offline plan, never below the engine's own default on this
    machine; None (the engine's default) when the stack does not evaluate offline, which the deploy then
    reports itself."""
    from components.config.errors import ConfigError
    from components.config.stack_files import StackFileError
    from offline.critical_path import peak_concurrency
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
    return max(engine_default(), peak_concurrency(run))
