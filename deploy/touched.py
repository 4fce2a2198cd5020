"""Which stacks a change touches: ``git diff --name-only A B | python -m deploy.touched``.

A stack file touches its own stack and every stack that joins its hub (``fleet:hub``): those read
the hub stack's file (interconnect mode, the hub's range and zones) and outputs. A member's file
touches the hub that lists it (``fleet:members``): the hub registers its clusters with the labels
of that file. Anything the
program, its dependencies or the policy pack is made of touches every stack; docs, tests and the
GitOps template touch none. Prints ``stacks=<JSON list>`` for ``$GITHUB_OUTPUT``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from components.config.stack_files import StackFileError, declares_cells, is_cell_file, read_stack_file

ROOT = Path(__file__).resolve().parents[1]
_STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>[^/]+)\.yaml$")
# Paths whose change can alter what any stack declares.
PROGRAM_PATHS = ("__main__.py", "Pulumi.yaml", "requirements.txt", "components/", "policy/")


def stacks_in(root: Path = ROOT) -> list[str]:
    """The environments' stacks (a cell's own file, Pulumi.<env>.<cluster>.yaml, is its environment's)."""
    return sorted(
        m["stack"] for path in root.glob("Pulumi.*.yaml") if (m := _STACK_FILE.match(path.name)) and not is_cell_file(path)
    )


def hub_of(stack: str, root: Path = ROOT) -> str | None:
    """The stack (short name) whose hub ``stack`` joins, if any."""
    hub = read_stack_file(root / f"Pulumi.{stack}.yaml").config.get("fleet:hub")
    if isinstance(hub, dict) and "stack" in hub:
        return str(hub["stack"]).rsplit("/", 1)[-1]
    return None


def members_of(stack: str, root: Path = ROOT) -> list[str]:
    """The stacks (short names) whose clusters ``stack``'s hub registers (its ``fleet:members``)."""
    members = read_stack_file(root / f"Pulumi.{stack}.yaml").config.get("fleet:members")
    return sorted(str(m).rsplit("/", 1)[-1] for m in members) if isinstance(members, list) else []


def touched_stacks(
    changed_paths: Iterable[str],
    stacks: Iterable[str],
    hubs: Mapping[str, str | None] | None = None,
    members: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """The stacks the changed paths touch; ``hubs`` maps a stack to the stack whose hub it joins,
    ``members`` a hub stack to the stacks it registers."""
    known = sorted(set(stacks))
    touched: set[str] = set()
    for raw in changed_paths:
        path = raw.strip()
        if not path:
            continue
        if any(path == prefix or (prefix.endswith("/") and path.startswith(prefix)) for prefix in PROGRAM_PATHS):
            return known
        match = _STACK_FILE.match(path)
        if match and match["stack"] in known:
            touched.add(match["stack"])
    joins = dict(hubs or {})
    registers = dict(members or {})
    while grown := {stack for stack in known if joins.get(stack) in touched or set(registers.get(stack, [])) & touched} - touched:
        touched |= grown
    return sorted(touched)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.touched",
        description="Read changed paths on stdin (git diff --name-only A B); print stacks=<JSON list> and cells=<JSON list> "
        "for $GITHUB_OUTPUT.",
    )
    parser.add_argument(
        "--root", type=Path, default=root, help="the folder with the Pulumi.<stack>.yaml files (default: this project)"
    )
    root = parser.parse_args(argv).root
    if sys.stdin.isatty():
        parser.print_usage(sys.stderr)
        print("python -m deploy.touched: pipe the changed paths in (git diff --name-only A B | ...)", file=sys.stderr)
        return 2
    stacks = stacks_in(root)
    try:
        hubs = {stack: hub_of(stack, root) for stack in stacks}
        members = {stack: members_of(stack, root) for stack in stacks}
    except StackFileError as exc:
        print(f"python -m deploy.touched: {exc}", file=sys.stderr)
        return 1
    touched = touched_stacks(sys.stdin, stacks, hubs, members)
    try:
        celled = {stack: cells_of(stack, root) for stack in touched}
    except StackFileError as exc:
        print(f"python -m deploy.touched: {exc}", file=sys.stderr)
        return 1
    # An environment of cells is previewed cell by cell (the program runs only as a cell), each in its
    # environment's preview environment (its reviewers, its read-only role).
    print(f"stacks={json.dumps([stack for stack in touched if not celled[stack]])}")
    entries = [{"stack": cell, "environment": stack} for stack in touched for cell in celled[stack]]
    print(f"cells={json.dumps(entries)}")
    return 0


def cells_of(stack: str, root: Path = ROOT) -> list[str]:
    """The cells of an environment of cells (``<stack>.<cluster>``, components/planning/cells.py), by cluster
    name; [] for an environment that is one stack. From the stack file alone (PyYAML)."""
    path = root / f"Pulumi.{stack}.yaml"
    if not declares_cells(path):
        return []
    config = read_stack_file(path).config
    clusters = config.get("fleet:clusters") or []
    return sorted(f"{stack}.{c['name']}" for c in clusters if isinstance(c, dict) and isinstance(c.get("name"), str))


if __name__ == "__main__":
    sys.exit(main())
