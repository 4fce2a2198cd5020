"""``python -m deploy.move_into_cells --stack ENV [--json]``: the commands that move a running single
stack into its cells (docs/runbooks.md, "Move a running environment into cells").

Run once ``fleet:cells: true`` is in ``Pulumi.<ENV>.yaml``. The URNs are the program's own: each cell's
top-level resources and its children of the component every cell has one of, evaluated offline as
``python -m deploy`` deploys the cells (offline/cells.py). The move of exactly these is what the tests
check creates, replaces and deletes nothing (tests/test_cells.py).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

MIN_CLI = "3.226.0"
"""pulumi state move re-parents a resource whose parent stays behind with its type rebuilt since 3.224.0
(pulumi/pulumi#21953) and keeps copied providers' dependencies consistent since 3.226.0 (#22141)."""


def plan(environment: str) -> dict[str, Any]:
    """Per cell, its stack and the URNs to move into it."""
    from components.config.errors import ConfigError
    from offline.cells import engine_urn, move_urns, whole_cells
    from offline.stacks import stack_config

    config = stack_config(environment)
    if config.get("fleet:cells") is not True:
        raise ConfigError([f"Pulumi.{environment}.yaml: set fleet:cells: true first (the move is for a celled environment)"])
    cells = whole_cells(environment, config)
    return {
        "environment": environment,
        "minCli": MIN_CLI,
        # As the engine names them (the offline run's mocks qualify top-level types with the root stack's).
        "cells": {s: [engine_urn(u) for u in move_urns(environment, s, run)] for s, run in sorted(cells.items())},
    }


def commands(moves: dict[str, Any]) -> list[str]:
    environment = moves["environment"]
    lines = [f"# Pulumi CLI {moves['minCli']} or newer (pulumi version)."]
    for stack in moves["cells"]:
        lines.append(
            f"pulumi stack init {shlex.quote(stack)} --no-select  # with {environment}'s secrets provider (docs/cells.md)"
        )
    for stack, urns in moves["cells"].items():
        quoted = " ".join(shlex.quote(u) for u in urns)
        lines.append(f"pulumi state move --source {shlex.quote(environment)} --dest {shlex.quote(stack)} --yes {quoted}")
    lines.append(f"python -m deploy --stack {shlex.quote(environment)}  # every cell's preview: no create, replace or delete")
    lines.append(f"python -m deploy --stack {shlex.quote(environment)} --up")
    return lines


def main(argv: list[str] | None = None) -> int:
    from components.config.errors import ConfigError
    from components.config.stack_files import StackFileError

    parser = argparse.ArgumentParser(prog="python -m deploy.move_into_cells", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the environment's stack (its file sets fleet:cells: true)")
    parser.add_argument("--json", action="store_true", help='print {"environment", "minCli", "cells": {stack: [urn, ...]}}')
    args = parser.parse_args(argv)
    try:
        moves = plan(args.stack)
    except (ConfigError, StackFileError) as error:
        print(f"python -m deploy.move_into_cells: {error}", file=sys.stderr)
        return 1
    print(json.dumps(moves, indent=2) if args.json else "\n".join(commands(moves)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
