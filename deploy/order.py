"""In which order stacks deploy: a stack that joins another stack's hub (``fleet:hub``) after that stack.

Staging reads prod's hub outputs through a StackReference; on a new account staging fails until
prod has deployed once, so the order follows that dependency, not the promotion habit of
"staging first".
"""

from __future__ import annotations

from pathlib import Path

from deploy.touched import ROOT, hub_of, stacks_in


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
