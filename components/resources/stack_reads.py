"""Other stacks' outputs, read and checked before this stack registers a cloud resource.

A StackReference's outputs are Outputs; used as such, a forged value would reach resources before
anything could refuse it (an apply raises only once the resources around it are underway). So the
values are read here, synchronously, checked by planning/trust.py against this stack's config, and
handed on as plain values: a refusal stops the program with every problem, having created nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
from pulumi.runtime.sync_await import _sync_await

from ..config import hub_stack
from ..config.errors import ConfigError
from ..config.model import FleetSpec
from ..planning import cells, interconnect, trust
from ..planning import gitops as gitops_plan
from . import providers

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
    cell_references: dict[str, list[pulumi.StackReference]] = field(default_factory=dict)
    """Per celled member stack, each of its cells' references."""
    absent: dict[str, set[str]] = field(default_factory=dict)
    """Per celled member stack, the clusters whose cells have not deployed yet (registered later)."""

    def hub_value(self, pick: Callable[[dict[str, Any]], T]) -> pulumi.Output[T]:
        """A checked value of the hub's outputs, depending on its reference as a read output would."""
        assert self.hub, "fleet:hub is set"
        checked = self.hub
        return self.references["hub"].outputs.apply(lambda _: pick(checked))

    def registration(self, member: str) -> pulumi.Output[Any]:
        """A member stack's checked registration, depending on its reference (each of its cells' for an
        environment of cells) as a read output would."""
        checked = self.registrations[member]
        read_from = [self.references[member], *self.cell_references.get(member, [])]
        return pulumi.Output.all(*[r.outputs for r in read_from]).apply(lambda _: checked)


def read(reference: pulumi.StackReference, name: str) -> Any:
    """One output of another stack, now (the SDK's own synchronous wait, as its invokes use)."""
    details = _sync_await(reference.get_output_details(name))
    return details.value if details.value is not None else details.secret_value


def read_other_stacks(spec: FleetSpec, aws_providers: dict[str, aws.Provider], account_id: str, preview: bool) -> OtherStacks:
    """Every value this stack takes from another, checked; ConfigError naming each refused output and value.
    ``aws_providers`` act in this stack's own account (``account_id``)."""
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
    cell_references: dict[str, list[pulumi.StackReference]] = {}
    absent: dict[str, set[str]] = {}
    claimed: dict[str, str] = {}
    peered = interconnect.member_plans(spec)
    for reference_name, member in spec.member_specs.items():
        if member.cells:
            exported, found, waiting = _read_cell_registrations(reference_name, member, references, cell_references)
            if waiting:
                absent[reference_name] = waiting
                # Checked and registered: the cells that have deployed.
                member = member.model_copy(update={"clusters": [c for c in member.clusters if c.name not in waiting]})
        else:
            reference = references[reference_name] = pulumi.StackReference(
                f"member-{reference_name.rsplit('/', 1)[-1]}", stack_name=reference_name
            )
            exported, found = read(reference, gitops_plan.REGISTRATION_OUTPUT), []
        found = found or trust.registration_problems(reference_name, member, exported, claimed, reference_name in peered)
        if not found:
            found = _described_problems(spec, reference_name, member, exported, aws_providers, account_id, preview)
        problems += found
        if not found and reference_name in peered and spec.hub is not None:
            hub_end = trust.HubEnd(account_id, spec.hub.region, str(spec.hub.vpc_cidr))
            provider = aws_providers[hub_end.region]
            for spoke in peered[reference_name].spokes:
                if spoke.name in absent.get(reference_name, set()):
                    continue
                problems += _peering_problems(reference_name, member, spoke.name, exported, provider, hub_end)
        registrations[reference_name] = exported
    if problems:
        raise ConfigError(problems)
    return OtherStacks(hub, registrations, references, cell_references, absent)


def _read_cell_registrations(
    reference: str,
    member: FleetSpec,
    references: dict[str, pulumi.StackReference],
    cell_references: dict[str, list[pulumi.StackReference]],
) -> tuple[Any, list[str], set[str]]:
    """A celled member's registration (planning/cells.py): each cell's, holding its own cluster only,
    merged into the environment's; a cell that registers another cell's cluster is refused."""
    environment = reference.rsplit("/", 1)[-1]
    prefix = reference.rsplit("/", 1)[0]
    merged: dict[str, Any] = {}
    problems: list[str] = []
    waiting: set[str] = set()
    for cell in cells.cells_of(environment, member):
        name = f"{prefix}/{cell.stack}"
        cell_reference = pulumi.StackReference(f"member-{cell.stack}", stack_name=name)
        references[reference] = references.get(reference, cell_reference)
        references[name] = cell_reference
        cell_references.setdefault(reference, []).append(cell_reference)
        exported = read(cell_reference, gitops_plan.REGISTRATION_OUTPUT)
        clusters = exported.get("clusters") if isinstance(exported, dict) else None
        if exported is None:
            # A cell that has not deployed yet (a cluster just added): the hub registers it once it has,
            # in the register round; the others are not held back by it.
            waiting.add(cell.cluster)
            continue
        if not isinstance(clusters, dict):
            continue  # registration_problems names the missing cluster
        for cluster in sorted(set(clusters) - {cell.cluster}):
            problems.append(
                f"stack {name} output {gitops_plan.REGISTRATION_OUTPUT}.clusters.{cluster}: the cell of {cell.cluster} "
                f"registers only its own cluster: refused"
            )
        if cell.cluster in clusters:
            merged[cell.cluster] = clusters[cell.cluster]
    for cluster in sorted(waiting):
        pulumi.log.warn(
            f"{prefix}/{cells.cell_stack(environment, cluster)} has not deployed yet: {cluster} is registered in Argo CD "
            "once it has (this hub's register round)"
        )
    return {"clusters": merged}, problems, waiting


def _described_problems(
    spec: FleetSpec,
    reference: str,
    member: FleetSpec,
    exported: Any,
    aws_providers: dict[str, aws.Provider],
    account_id: str,
    preview: bool,
) -> list[str]:
    """Each of the member's clusters as EKS describes it in the member's account: in this stack's account
    with its own provider, in another as the member's read-only preview role (fleet:deployer.preview)."""
    if member.account_id == account_id:
        provider = aws_providers[sorted(aws_providers)[0]]
    elif member.deployer.preview is None:
        return [
            f"fleet:members: {reference} deploys into account {member.account_id}: this hub describes its clusters "
            "(eks:DescribeCluster) as its read-only preview role, so set fleet:deployer.preview in its stack file and let "
            "that role trust this stack's deploy and preview roles (docs/ci.md, 'Multi-account')"
        ]
    else:
        provider = providers.reader_provider(f"read-{reference.rsplit('/', 1)[-1]}", member.account_id, member.deployer.preview)
    problems: list[str] = []
    for cluster in sorted(member.clusters, key=lambda c: c.name):
        found, error = describe_cluster(cluster.name, provider, cluster.region)
        if error is not None:
            problems.append(
                f"fleet:members: cannot describe {reference}'s cluster {cluster.name} in account {member.account_id}, "
                f"{cluster.region} (eks:DescribeCluster): {error}"
            )
            continue
        described: dict[str, Any] | None = (
            None
            if found is None
            else {
                "endpoint": found.endpoint,
                "ca": found.certificate_authorities[0].data if found.certificate_authorities else None,
                "arn": found.arn,
            }
        )
        problems += trust.described_cluster_problems(
            reference, member, cluster.name, exported["clusters"][cluster.name], described
        )
    return problems


def _peering_problems(
    reference: str, member: FleetSpec, cluster: str, exported: Any, provider: aws.Provider, hub: trust.HubEnd
) -> list[str]:
    """The member's peering request as AWS describes it, before this hub accepts it."""
    link = exported["clusters"][cluster].get("interconnect") or {}
    peering_id = link.get("peeringConnectionId")
    if not isinstance(peering_id, str):
        return []  # gitops.pulled_link says what to deploy first
    try:
        described = aws.ec2.get_vpc_peering_connection(id=peering_id, opts=pulumi.InvokeOptions(provider=provider))
    except Exception as error:
        if "NotFound" not in str(error) and "no matching" not in str(error).lower():
            raise
        return [
            f"stack {reference} output argocdRegistration.clusters.{cluster}.interconnect.peeringConnectionId: "
            f"{peering_id!r}: EC2 knows no such peering connection in {hub.region}: refused"
        ]
    seen = {
        "id": described.id,
        "ownerId": described.owner_id,
        "cidrBlock": described.cidr_block,
        "requesterRegion": described.requester_region,
        "peerOwnerId": described.peer_owner_id,
        "peerRegion": described.peer_region,
        "peerCidrBlock": described.peer_cidr_block,
    }
    return trust.peering_problems(reference, cluster, member, hub, seen)


def _in_project(spec: FleetSpec) -> dict[str, bool]:
    references = [*([spec.hub_stack.stack] if spec.hub_stack else []), *spec.members]
    return {r: hub_stack.stack_file_of(r) is not None for r in references}


def describe_cluster(name: str, provider: pulumi.ProviderResource, region: str | None = None) -> tuple[Any, str | None]:
    """EKS's description of a cluster (DescribeCluster, through ``provider``): None when EKS does not
    know it (not created yet), or the error EKS answered instead."""
    try:
        return aws.eks.get_cluster(name=name, region=region, opts=pulumi.InvokeOptions(provider=provider)), None
    except Exception as error:  # the invoke raises what EKS answered
        if "ResourceNotFound" in str(error) or "No cluster found" in str(error):
            return None, None
        return None, str(error)
