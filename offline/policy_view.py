"""What the policy pack would see of an offline run: each registration as a guardrail ``Resource``."""

from __future__ import annotations

from offline.harness import Registration, Run
from policy.guardrails import Resource, evaluate


def as_resource(registration: Registration) -> Resource:
    return Resource(
        urn=registration.urn,
        type=registration.type,
        name=registration.name,
        props=registration.inputs,
        protect=registration.protect,
        additional_secret_outputs=tuple(registration.additional_secret_outputs),
        property_dependencies={key: tuple(urns) for key, urns in registration.property_dependencies.items()},
        parent=registration.parent,
    )


def violations(run: Run) -> dict[str, list[str]]:
    """Every guardrail over the run, with its default config: violation messages by guardrail name."""
    return evaluate(as_resource(r) for r in run.registrations.values())
