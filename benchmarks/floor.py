"""The floor: the program's own graph replayed as plain registrations, under the same mocks.

What evaluating the fleet would cost if the program did nothing but register its resources: the
same URNs, inputs, parents and dependencies, the same mock engine and the same provider SDKs
imported, none of the program's own logic, Outputs or components. ``python -m benchmarks``
reports the program's time against it, so the program's overhead is measured, not guessed.
"""

from __future__ import annotations

from collections.abc import Callable
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
