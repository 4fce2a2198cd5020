"""What a stack's node groups ask of EC2 per region: vCPUs against each quota class, and instance
types in the zones the clusters span (components/aws/ec2_quotas.py, instance_offerings.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ..aws import ec2_quotas, ec2_sizes, eks_node_updates, instance_offerings, regions
from ..aws.ec2_quotas import VcpuClass
from ..config.model import CapacityType, ClusterSpec, FleetSpec
from . import autoscaling, submariner


@dataclass(frozen=True)
class Group:
    """One node group as EC2 sees it: where, which types, how many nodes at most, bought how."""

    cluster: ClusterSpec
    name: str
    path: str
    """Its config path (fleet:clusters[i].nodeGroups[k], or the Submariner gateway setting)."""
    instance_types: tuple[str, ...]
    max_nodes: int
    """At maxSize, and while EKS updates the group: it launches the larger of two more instances per
    zone and the group's maxUnavailable (components/aws/eks_node_updates.py)."""
    spot: bool
    zones: tuple[str, ...]
    """The zone IDs of the subnets it is created in (a per-zone group: every zone, one group each)."""


def groups(spec: FleetSpec) -> Iterator[Group]:
    """Every node group the stack registers, the Submariner gateways' included."""
    plan = submariner.plan_clusterset(spec)
    members = {m.name for m in plan.members} if plan else set()
    for i, cluster in enumerate(spec.clusters):
        spanned = regions.chosen_zone_ids(cluster.region, cluster.availability_zones)
        for k, group in enumerate(cluster.node_groups):
            sizes = autoscaling.registered_sizes(group, len(spanned))
            # A per-zone group is one EKS node group per zone, each updated (and surging) on its own.
            registered = [(sizes.max_size, 1)] * len(spanned) if group.zonal else [(sizes.max_size, len(spanned))]
            at_most = sum(
                size + eks_node_updates.update_surge(zones, group.update_config.nodes(size)) for size, zones in registered
            )
            yield Group(
                cluster,
                group.name,
                f"fleet:clusters[{i}].nodeGroups[{k}]",
                tuple(group.instance_types),
                at_most,
                group.capacity_type is CapacityType.SPOT,
                spanned,
            )
        if plan is not None and cluster.name in members and spec.submariner is not None:
            # The gateways' group spans the first gatewaysPerCluster public subnets (resources/submariner.py).
            yield Group(
                cluster,
                "submariner-gateway",
                "fleet:submariner.gatewayInstanceType",
                (spec.submariner.gateway_instance_type,),
                plan.pool_addresses,  # the pool already holds the gateways' update surge
                False,
                spanned[: plan.gateways_per_cluster],
            )


@dataclass(frozen=True)
class VcpuNeed:
    region: str
    klass: VcpuClass
    spot: bool
    vcpus: int
    groups: tuple[str, ...]
    """The groups counted, as cluster/group."""

    @property
    def code(self) -> str | None:
        quota = ec2_quotas.VCPU_QUOTAS[self.klass]
        return quota.spot if self.spot else quota.on_demand


def same_account_stacks(spec: FleetSpec) -> dict[str, FleetSpec]:
    """The other stacks of this project this one knows (the hub it joins and that hub's joiners, or its
    own joiners) that deploy into its account: EC2's quotas are the account's, per region."""
    known = dict(spec.joining_stacks)
    if spec.joined_hub is not None and spec.hub_stack is not None:
        known[spec.hub_stack.stack.rsplit("/", 1)[-1]] = spec.joined_hub
        known.update(spec.joined_hub.joining_stacks)
    mine = {c.name for c in spec.clusters}
    return {
        name: other
        for name, other in sorted(known.items())
        if other.account_id == spec.account_id and {c.name for c in other.clusters} != mine
    }


def vcpu_needs(spec: FleetSpec) -> tuple[list[VcpuNeed], list[str]]:
    """vCPUs at every group's maxSize plus its update surge, per region, quota class and purchase option
    (the largest type of a group, which it may launch throughout), this stack's and the other stacks'
    of its account; and the groups whose size is unknown."""
    totals: Counter[tuple[str, VcpuClass, bool]] = Counter()
    members: dict[tuple[str, VcpuClass, bool], list[str]] = {}
    unknown: list[str] = []
    regions = {c.region for c in spec.clusters}
    owned = [("", group) for group in groups(spec)]
    owned += [
        (f"stack {name}: ", group)
        for name, other in same_account_stacks(spec).items()
        for group in groups(other)
        if group.cluster.region in regions
    ]
    for owner, group in owned:
        counted: dict[VcpuClass, list[int]] = {}
        for instance_type in group.instance_types:
            klass = ec2_quotas.vcpu_class(instance_type, group.spot)
            size = ec2_sizes.vcpus(instance_type)
            if klass is None:
                continue
            if size is None:
                if not owner:
                    unknown.append(f"{group.path} ({group.cluster.name}/{group.name}: {instance_type})")
                continue
            counted.setdefault(klass, []).append(size)
        for klass, sizes in counted.items():
            key = (group.cluster.region, klass, group.spot)
            totals[key] += max(sizes) * group.max_nodes
            members.setdefault(key, []).append(f"{owner}{group.cluster.name}/{group.name}:{group.instance_types[0]}")
    needs = [
        VcpuNeed(region, klass, spot, totals[(region, klass, spot)], tuple(members[(region, klass, spot)]))
        for region, klass, spot in sorted(totals)
    ]
    return needs, sorted(set(unknown))


@dataclass(frozen=True)
class Offering:
    group: Group
    instance_type: str
    missing_zones: tuple[str, ...]
    """Zones of the cluster that do not offer the type (all of them: not in the region)."""


def offering_gaps(spec: FleetSpec) -> list[Offering]:
    """Each known instance type of each group in the zones its cluster spans, where some lack it."""
    gaps = []
    for group in groups(spec):
        spanned = group.zones
        for instance_type in group.instance_types:
            offered = instance_offerings.offered_zones(instance_type, group.cluster.region)
            if offered is None:
                continue
            missing = tuple(z for z in spanned if z not in offered)
            if missing:
                gaps.append(Offering(group, instance_type, missing))
    return gaps


def vcpu_limit(spec: FleetSpec, region: str, klass: VcpuClass, spot: bool) -> tuple[int, bool]:
    """The vCPU quota of a class in a region: (limit, declared), what fleet:quotas declares or AWS's default."""
    quotas = spec.quotas.regions.get(region)
    declared = (quotas.spot_vcpus if spot else quotas.on_demand_vcpus).get(klass) if quotas else None
    return (declared, True) if declared is not None else (ec2_quotas.VCPU_QUOTAS[klass].default, False)
