"""``python -m deploy.move_into_cells --stack ENV``: the steps that move a running single stack into its
cells (docs/runbooks.md, "Move a running environment into cells"); ``--split EXPORT --out DIR`` writes
each cell's state, and what stays in the environment's, from ``pulumi stack export --show-secrets``.

Run once ``fleet:cells: true`` is in ``Pulumi.<ENV>.yaml``. Which resources go to which cell is the
program's own answer: each cell's top-level resources and its children of the component every cell has
one of, evaluated offline as ``python -m deploy`` deploys the cells (offline/cells.py). The split is
offline/state_split.py; tests/test_cells.py checks that every cell's program then finds its state as
it would leave it: nothing to create, change or delete.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

MIN_CLI = "3.200.0"
"""The deploys' own minimum (components/aws/pulumi_engine.py); ``stack export``/``import`` are older."""


def plan(environment: str) -> dict[str, Any]:
    """Per cell, its stack and the environment's URNs that go to it (as the engine names them)."""
    from components.config.errors import ConfigError
    from offline.cells import engine_urn, move_urns, whole_cells
    from offline.stacks import stack_config

    config = stack_config(environment)
    if config.get("fleet:cells") is not True:
        raise ConfigError([f"Pulumi.{environment}.yaml: set fleet:cells: true first (the move is for a celled environment)"])
    cells = whole_cells(environment, config)
    moves = {stack: [engine_urn(u) for u in move_urns(environment, stack, run)] for stack, run in sorted(cells.items())}
    return {"environment": environment, "minCli": MIN_CLI, "cells": moves}


def commands(moves: dict[str, Any]) -> list[str]:
    environment = shlex.quote(moves["environment"])
    private = "$HOME/fleet-move"
    lines = [
        f"# Pulumi CLI {moves['minCli']} or newer; nothing deploys {environment} until the last step.",
        f"# Before: on the commit without fleet:cells, python -m deploy --stack {environment} --expect-no-changes exits 0.",
        "gh workflow disable deploy.yml",
        "gh run list --workflow deploy.yml --status in_progress  # wait until it lists none",
        f"export PULUMI_CONFIG_PASSPHRASE=...  # {environment}'s passphrase (none with a KMS secrets provider)",
        f"install -d -m 700 {private}",
        f"pulumi stack export --stack {environment} --show-secrets --file {private}/{environment}.json",
        f"python -m deploy.move_into_cells --stack {environment} --split {private}/{environment}.json --out {private}",
    ]
    for stack in moves["cells"]:
        cell = shlex.quote(stack)
        lines.append(
            f"pulumi stack select --create {cell} --secrets-provider <{environment}'s>  # passphrase, or its awskms:// key"
        )
        lines.append(f"pulumi stack import --stack {cell} --file {private}/{stack}.json")
    lines += [
        f"pulumi stack import --stack {environment} --file {private}/{environment}.rest.json",
        f"rm -r {private}",
        f"python -m deploy --stack {environment}  # every cell's preview: no change",
        f"python -m deploy --stack {environment} --up",
        "python -m deploy --stack mgmt --up  # the hub reads each cell's registration (when it lists the environment)",
        "gh workflow enable deploy.yml",
    ]
    return lines


def write_split(environment: str, export_file: Path, out: Path) -> list[Path]:
    from offline.cells import SHARED_COMPONENTS
    from offline.state_split import split

    moves = plan(environment)["cells"]
    export = json.loads(export_file.read_text())
    cells, rest = split(export, environment, moves, SHARED_COMPONENTS)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in [*cells.items(), (f"{environment}.rest", rest)]:
        path = out / f"{name}.json"
        # Secrets in the clear, as exported: readable by the owner alone.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(document, handle, indent=2)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    from components.config.errors import ConfigError
    from components.config.stack_files import StackFileError
    from offline.state_split import SplitRefusedError

    parser = argparse.ArgumentParser(prog="python -m deploy.move_into_cells", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the environment's stack (its file sets fleet:cells: true)")
    parser.add_argument("--json", action="store_true", help='print {"environment", "minCli", "cells": {stack: [urn, ...]}}')
    parser.add_argument("--split", type=Path, metavar="EXPORT", help="pulumi stack export --show-secrets of the environment")
    parser.add_argument("--out", type=Path, help="where --split writes <cell>.json and <env>.rest.json (mode 0600)")
    args = parser.parse_args(argv)
    try:
        if args.split is not None:
            if args.out is None:
                parser.error("--split needs --out")
            for path in write_split(args.stack, args.split, args.out):
                print(path)
            return 0
        moves = plan(args.stack)
    except (ConfigError, StackFileError, SplitRefusedError, OSError, json.JSONDecodeError) as error:
        print(f"python -m deploy.move_into_cells: {error}", file=sys.stderr)
        return 1
    print(json.dumps(moves, indent=2) if args.json else "\n".join(commands(moves)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
