"""``python -m deploy.order [--json]``: in which order stacks deploy: a stack that joins another
stack's hub (``fleet:hub``) after that stack, then each hub again that registers them.

Staging reads prod's hub outputs through a StackReference; on a new account staging fails until
prod has deployed once, so the order follows that dependency, not the promotion habit of
"staging first". The hub pulls its members' registrations (``fleet:members``) from their
outputs, so it deploys once more after them: that round writes their Argo CD cluster Secrets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.config.errors import ConfigError
from components.config.hub_stack import read_spec
from components.config.stack_files import StackFileError, read_stack_file
from components.planning import cells
from deploy.touched import ROOT, hub_of, members_of, stacks_in


def deploy_order(root: Path = ROOT) -> list[str]:
    """Every stack, each after the hub stack it joins; ValueError on a cycle or an unknown hub."""
    stacks = stacks_in(root)
    hubs = {stack: hub_of(stack, root) for stack in stacks}
    order: list[str] = []
    visiting: set[str] = set()

    def visit(stack: str) -> None:
        if stack in order:
            return
        if stack in visiting:
            raise ValueError(f"stacks join each other's hubs in a cycle through {stack}")
        visiting.add(stack)
        hub = hubs[stack]
        if hub is not None:
            if hub not in hubs:
                raise ValueError(f"Pulumi.{stack}.yaml joins the hub of stack {hub!r}, which this repository does not have")
            visit(hub)
        visiting.discard(stack)
        order.append(stack)

    for stack in stacks:
        visit(stack)
    return order


def registration_round(root: Path = ROOT) -> list[str]:
    """The hub stacks to deploy again after their members (those listing a stack of this repository in fleet:members)."""
    stacks = set(stacks_in(root))
    return [stack for stack in deploy_order(root) if set(members_of(stack, root)) & stacks]


def deploy_rounds(root: Path = ROOT) -> list[list[dict[str, str]]]:
    """The stacks in rounds: a round's stacks depend on nothing in their own round, so a CI matrix runs
    them side by side; each after the rounds of the hub it joins, and the registration round last. Each
    entry names the stack and its stack file, relative to the project (issue 37's contract for cells).

    A celled environment (fleet:cells) is its cells, all in its round, then its clusterset's cells again
    in the join round right after it (planning/cells.py)."""
    order = deploy_order(root)
    hubs = {stack: hub_of(stack, root) for stack in order}
    depth: dict[str, int] = {}
    for stack in order:  # a hub comes before the stacks joining it
        hub = hubs[stack]
        depth[stack] = 0 if hub is None else depth[hub] + 1
    # Two rounds per level: the stacks (and cells), then the cells' join.
    rounds: list[list[dict[str, str]]] = [[] for _ in range(2 * (max(depth.values(), default=-1) + 1))]
    for stack in order:
        first, join = _entries(stack, root)
        rounds[2 * depth[stack]] += first
        rounds[2 * depth[stack] + 1] += join
    again = registration_round(root)
    if again:
        rounds.append([entry for stack in again for entry in _entries(stack, root)[0]])
    return [sorted(r, key=lambda e: e["stack"]) for r in rounds if r]


def _entries(stack: str, root: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """A stack's entries in its own round and in the join round after it."""
    path = root / f"Pulumi.{stack}.yaml"
    stack_file = read_stack_file(path)
    if not stack_file.config.get("fleet:cells"):
        return [{"stack": stack, "file": path.name}], []
    if stack_file.secrets:
        # Each cell decrypts its config with the file's secrets provider settings; under Pulumi Cloud's
        # default secrets manager the keys are per stack, and no cell could (docs/cells.md).
        raise ValueError(
            f"{path.name}: fleet:cells: true with encrypted values ({', '.join(stack_file.secrets)}): a cell of a celled "
            "environment reads its file's secrets with its own stack's keys; keep secrets out of it (docs/cells.md)"
        )
    spec = read_spec(path)
    return (
        [{"stack": c.stack, "file": c.file} for c in cells.cells_of(stack, spec)],
        [{"stack": c.stack, "file": c.file} for c in cells.joining_cells(stack, spec)],
    )


def matrix_lines(root: Path = ROOT) -> list[str]:
    """``$GITHUB_OUTPUT`` lines for the deploy workflow's matrices: per environment, the stacks of its own
    round (itself, or its cells) and of its join round (``<env>-join``, [] unless it has cells)."""
    lines = []
    for stack in deploy_order(root):
        first, join = _entries(stack, root)
        lines.append(f"{stack}={json.dumps([e['stack'] for e in first])}")
        lines.append(f"{stack}-join={json.dumps([e['stack'] for e in join])}")
        lines.append(f"{stack}-celled={json.dumps(first != [{'stack': stack, 'file': f'Pulumi.{stack}.yaml'}])}")
    return lines


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.order", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--json", action="store_true", help='print {"order": [...], "hubs": {...}, "registerAfter": [...], "rounds": [[...]]}'
    )
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="print <env>=[stacks] and <env>-join=[stacks] lines for $GITHUB_OUTPUT (CI matrices)",
    )
    args = parser.parse_args(argv)
    if args.matrix:
        try:
            print("\n".join(matrix_lines(root)))
        except (StackFileError, ConfigError, ValueError) as exc:
            print(f"python -m deploy.order: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        order = deploy_order(root)
        hubs = {stack: hub_of(stack, root) for stack in order}
        again = registration_round(root)
        members = {stack: members_of(stack, root) for stack in again}
    except (StackFileError, ConfigError, ValueError) as exc:
        print(f"python -m deploy.order: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"order": order, "hubs": hubs, "registerAfter": again, "rounds": deploy_rounds(root)}))
        return 0
    if not order:
        print(f"no Pulumi.<stack>.yaml in {root}", file=sys.stderr)
        return 1
    for number, stack in enumerate(order, start=1):
        after = f" (after {hubs[stack]}: joins its hub)" if hubs[stack] else ""
        print(f"{number}. {stack}{after}")
    for number, stack in enumerate(again, start=len(order) + 1):
        print(f"{number}. {stack} again (fleet:members: registers the clusters of {', '.join(members[stack])} in Argo CD)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
