"""The floor: the program's own graph replayed as plain registrations, under the same mocks.

What evaluating the fleet would cost if the program did nothing but register its resources: the
same URNs, inputs, parents and dependencies, the same mock engine and the same provider SDKs
imported, none of the program's own logic, Outputs or components. ``python -m benchmarks``
reports the program's time against it, so the program's overhead is measured, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pulumi_aws  # noqa: F401  (the floor imports what the program imports)
import pulumi_eks  # noqa: F401
import pulumi_kubernetes  # noqa: F401
import pulumi_random  # noqa: F401

from offline.harness import Run


def replay(run: Run) -> Callable[[], None]:
    """A program registering exactly ``run``'s registrations, in their order."""
    registrations = list(run.registrations.values())

    def program() -> None:
        created: dict[str, pulumi.Resource] = {}
        for registration in registrations:
            opts = pulumi.ResourceOptions(
                parent=created.get(registration.parent),
                depends_on=[created[urn] for urn in registration.dependencies if urn in created],
                protect=registration.protect,
            )
            props: dict[str, Any] = dict(registration.inputs)
            if registration.custom:
                created[registration.urn] = pulumi.CustomResource(registration.type, registration.name, props, opts)
            else:
                created[registration.urn] = pulumi.ComponentResource(registration.type, registration.name, None, opts)

    return program


@contextmanager
def counting_outputs() -> Iterator[list[int]]:
    """How many ``pulumi.Output`` objects the block creates (``[count]`` once it ends).

    Nearly every Output of an evaluation is created as a resource registers: one per property its
    class declares. The floor's plain registrations declare only their inputs; a typed SDK class
    declares every input and output of its AWS or Kubernetes type, and each is an Output that the
    SDK resolves through asyncio. The count says how much of the program's cost over the floor is that.
    """
    counted = [0]
    original = pulumi.Output.__init__

    def counting(self: pulumi.Output[Any], *args: Any, **kwargs: Any) -> None:
        counted[0] += 1
        original(self, *args, **kwargs)

    pulumi.Output.__init__ = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        pulumi.Output.__init__ = original  # type: ignore[method-assign]
