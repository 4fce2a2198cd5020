"""What an update of a running stack does to a resource, and whether AWS or a controller accepts it.

Mocks give a replaced resource the same id and ARN; the real provider does not. This module says
which input changes force a replacement (the provider's ForceNew properties), what a replacement
does to the resources that read its ARN, in which order Pulumi replaces them, and what the AWS
Load Balancer Controller's TargetGroupBinding webhook says to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.aws.force_new import FORCE_NEW, forced_by
from offline.harness import Registration, Run
from offline.transition import changed_paths

BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"


@dataclass(frozen=True)
class Step:
    name: str
    action: str
    """same, update, or replace."""
    delete_first: bool = False
    changed: frozenset[str] = frozenset()


def step(before: Registration, after: Registration, replaced_ids: set[str]) -> Step:
    """The step Pulumi takes from ``before`` to ``after``; inputs naming a replaced resource's id or ARN change too."""
    changed = changed_paths(before.inputs, after.inputs)
    for path, value in _flatten(after.inputs):
        if isinstance(value, str) and any(replaced in value for replaced in replaced_ids):
            changed.add(path)
    if not changed:
        return Step(after.name, "same")
    replace = bool(after.type in FORCE_NEW and forced_by(after.type, changed)) or any(
        path == key or path.startswith((f"{key}.", f"{key}[")) for path in changed for key in after.replace_on_changes
    )
    return Step(after.name, "replace" if replace else "update", after.delete_before_replace, frozenset(changed))


def _flatten(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for key, child in value.items() for item in _flatten(child, f"{path}.{key}" if path else key)]
    return [(path, value)]


def plan(before: Run, after: Run) -> dict[str, Step]:
    """Steps for every resource in both runs, following replaced resources' new ARNs into their readers."""
    replaced: set[str] = set()
    steps: dict[str, Step] = {}
    # Registration order is dependency order: a reader comes after what it reads.
    for urn, new in after.registrations.items():
        old = before.registrations.get(urn)
        if old is None:
            continue
        result = step(old, new, replaced)
        if result.action == "replace" and new.custom:
            replaced |= {new.id, str(new.outputs.get("arn", new.id))}
        steps[new.name] = result
    return steps


def binding_webhook_verdict(result: Step) -> str | None:
    """What the controller's webhook answers to this step of a TargetGroupBinding (None: accepted)."""
    if result.action == "update" and "spec.targetGroupARN" in result.changed:
        return "admission webhook denied the request: TargetGroupBinding update may not change these fields: spec.targetGroupARN"
    if result.action == "replace" and not result.delete_first:
        return f'targetgroupbindings.elbv2.k8s.aws "{result.name}" already exists (the old one is deleted after the new one)'
    return None
