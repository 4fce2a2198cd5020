"""Other stacks' outputs, read and checked before this stack registers a cloud resource.

A StackReference's outputs are Outputs; used as such, a forged value would reach resources before
anything could refuse it (an apply raises only once the resources around it are underway). So the
values are read here, synchronously, checked by planning/trust.py against this stack's config, and
handed on as plain values: a refusal stops the program with every problem, having created nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
from pulumi.runtime.sync_await import _sync_await

from ..config import hub_stack
from ..config.model import FleetSpec
from ..config.validation import ConfigError
from ..planning import gitops as gitops_plan
from ..planning import interconnect, trust

T = TypeVar("T")


@dataclass(frozen=True)
class OtherStacks:
    """What this stack read from the stacks it trusts, after the checks."""

    hub: dict[str, Any]
    """The hub stack's outputs (fleet:hub), checked: argocdHub, and interconnectHub when peered."""
    registrations: dict[str, Any]
    """Per fleet:members stack, its checked argocdRegistration."""
    references: dict[str, pulumi.StackReference]
    """Per stack read, its reference: what the values came from, kept as their resources' dependency."""

    def hub_value(self, pick: Callable[[dict[str, Any]], T]) -> pulumi.Output[T]:
        """A checked value of the hub's outputs, depending on its reference as a read output would."""
        assert self.hub, "fleet:hub is set"
        checked = self.hub
        return self.references["hub"].outputs.apply(lambda _: pick(checked))

    def registration(self, member: str) -> pulumi.Output[Any]:
        """A member stack's checked registration, depending on its reference as a read output would."""
        checked = self.registrations[member]
        return self.references[member].outputs.apply(lambda _: checked)


def read(reference: pulumi.StackReference, name: str) -> Any:
    """One output of another stack, now (the SDK's own synchronous wait, as its invokes use)."""
    details = _sync_await(reference.get_output_details(name))
    return details.value if details.value is not None else details.secret_value


def read_other_stacks(spec: FleetSpec, hub_provider: aws.Provider | None, account_id: str) -> OtherStacks:
    """Every value this stack takes from another, checked; ConfigError naming each refused output and value."""
    problems = trust.reference_problems(spec, pulumi.get_organization() or trust.DIY_ORGANIZATION, _in_project(spec))
    if problems:
        raise ConfigError(problems)
    hub: dict[str, Any] = {}
    references: dict[str, pulumi.StackReference] = {}
    if spec.hub_stack is not None:
        reference = references["hub"] = pulumi.StackReference("hub", stack_name=spec.hub_stack.stack)
        hub[trust.HUB_OUTPUT] = read(reference, trust.HUB_OUTPUT)
        problems += trust.hub_output_problems(spec, hub)
        joined = interconnect.plan_joined(spec)
        if joined is not None:
            hub[trust.INTERCONNECT_OUTPUT] = read(reference, trust.INTERCONNECT_OUTPUT)
            problems += trust.interconnect_output_problems(spec, hub, joined.hub_region, str(joined.hub_cidr))
    registrations: dict[str, Any] = {}
    claimed: dict[str, str] = {}
    peered = interconnect.member_plans(spec)
    for reference_name, member in spec.member_specs.items():
        reference = references[reference_name] = pulumi.StackReference(
            f"member-{reference_name.rsplit('/', 1)[-1]}", stack_name=reference_name
        )
        exported = read(reference, gitops_plan.REGISTRATION_OUTPUT)
        found = trust.registration_problems(reference_name, member, exported, claimed, reference_name in peered)
        problems += found
        if not found and reference_name in peered and spec.hub is not None:
            assert hub_provider is not None  # a hub that peers its members has a provider in its region
            for spoke in peered[reference_name].spokes:
                problems += _peering_problems(spec, reference_name, member, spoke.name, exported, hub_provider, account_id)
        registrations[reference_name] = exported
    if problems:
        raise ConfigError(problems)
    return OtherStacks(hub, registrations, references)


def _peering_problems(
    spec: FleetSpec, reference: str, member: FleetSpec, cluster: str, exported: Any, provider: aws.Provider, account_id: str
) -> list[str]:
    """The member's peering request as AWS describes it, before this hub accepts it."""
    assert spec.hub is not None
    link = exported["clusters"][cluster].get("interconnect") or {}
    peering_id = link.get("peeringConnectionId")
    if not isinstance(peering_id, str):
        return []  # gitops.pulled_link says what to deploy first
    described = aws.ec2.get_vpc_peering_connection(id=peering_id, opts=pulumi.InvokeOptions(provider=provider))
    seen = {
        "id": described.id,
        "ownerId": described.owner_id,
        "cidrBlock": described.cidr_block,
        "requesterRegion": described.requester_region,
        "peerOwnerId": described.peer_owner_id,
        "peerRegion": described.peer_region,
    }
    return trust.peering_problems(reference, cluster, member, account_id, spec.hub.region, seen)


def _in_project(spec: FleetSpec) -> dict[str, bool]:
    references = [*([spec.hub_stack.stack] if spec.hub_stack else []), *spec.members]
    return {r: hub_stack.stack_file_of(r) is not None for r in references}
