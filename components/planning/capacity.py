"""Whether the clusters that keep answering can carry the traffic that moves to them.

Load is declared per DNS name (``fleet:dns.records[].demand``: vCPU and memory at 100% of the
name's traffic); each cluster carries its share of every name (components/planning/dns_answers.py).
Capacity counts only what the failed-over workloads can be scheduled on and keep: on-demand groups
(Spot can be reclaimed when the whole region is short), without taints (GPU groups carry the NVIDIA
taint; the Submariner gateways are a group of their own), of the architecture the demand declares
(``demand.architecture``, amd64 unless said). Each node counts at what its kubelet can allocate, not
its raw size (components/aws/ec2_sizes.py: the EKS AMI's kube-reserved and eviction threshold), its
group at its smallest instance type, spread evenly over the cluster's zones (a zone outage takes
its share). Two figures: ``now`` (the groups at desiredSize, what runs) and ``capacity`` (at
maxSize, what the autoscaler can add), the latter no more than the account's on-demand vCPU quota
of the class leaves (the preflight's count: every group of the region at maxSize). A type whose
size is unknown makes the verdict unknown, not a guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..aws import ec2_quotas, ec2_sizes
from ..config.model import CapacityType, ClusterSpec, FleetSpec, NodeGroupSpec
from . import autoscaling, dns_answers, instances


@dataclass(frozen=True)
class Resources:
    vcpu: float
    memory_gib: float

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.vcpu + other.vcpu, self.memory_gib + other.memory_gib)

    def scaled(self, factor: float) -> Resources:
        return Resources(self.vcpu * factor, self.memory_gib * factor)

    def short_of(self, load: Resources) -> Resources:
        return Resources(max(0.0, load.vcpu - self.vcpu), max(0.0, load.memory_gib - self.memory_gib))


NOTHING = Resources(0.0, 0.0)


def eligible(group: NodeGroupSpec, architecture: str) -> bool:
    """Whether failed-over web workloads can be scheduled on the group's nodes and keep them."""
    if group.capacity_type is not CapacityType.ON_DEMAND or group.effective_taints:
        return False
    return architecture == "any" or group.ami_type.architecture == architecture


def cluster_capacity(
    cluster: ClusterSpec, architecture: str = "amd64", at: str = "max", shares: Mapping[str, float] | None = None
) -> Resources | None:
    """What pods can be given on the cluster's eligible groups at maxSize (``at="max"``, each group no
    further than ``shares`` of its quota class allow) or desiredSize; None when a type's size is unknown."""
    total = NOTHING
    for group in cluster.node_groups:
        if not eligible(group, architecture):
            continue
        sizes = [ec2_sizes.allocatable(t) for t in group.instance_types]
        if any(size is None for size in sizes):
            return None
        vcpu = min(size[0] for size in sizes if size is not None)
        memory = min(size[1] for size in sizes if size is not None)
        nodes = group.max_size * group_share(group, shares or {}) if at == "max" else group.desired_size
        total = total + Resources(vcpu, memory).scaled(nodes)
    return total


def group_share(group: NodeGroupSpec, shares: Mapping[str, float]) -> float:
    classes = {ec2_quotas.vcpu_class(t, False) for t in group.instance_types} - {None}
    return min((shares.get(str(k), 1.0) for k in classes), default=1.0)


def quota_shares(spec: FleetSpec, region: str) -> dict[str, float]:
    """Per on-demand quota class of the region, the share (0..1) of the groups' maxSize the declared
    vCPU quota lets them reach (every group of the region at maxSize: the preflight's count). An
    undeclared quota is not assumed to be AWS's default (accounts have their own applied values):
    the preflight warns about those instead."""
    needs, _ = instances.vcpu_needs(spec)
    shares: dict[str, float] = {}
    for need in needs:
        if need.region != region or need.spot or not need.vcpus:
            continue
        limit, declared = instances.vcpu_limit(spec, need.region, need.klass, spot=False)
        if declared:
            shares[need.klass] = min(1.0, limit / need.vcpus)
    return shares


def _round(r: Resources | None) -> dict[str, float] | None:
    return None if r is None else {"vcpu": round(r.vcpu, 2), "memoryGib": round(r.memory_gib, 2)}


Key = tuple[str, str]
"""(cluster, architecture): load lands only on nodes of its architecture."""


def label(key: Key) -> str:
    cluster, architecture = key
    return cluster if architecture == "amd64" else f"{cluster} ({architecture})"


@dataclass
class Verdict:
    """Per cluster (and architecture) that answers after the failure: its load, what its eligible
    nodes allocate now (desiredSize) and at maxSize within the vCPU quota, and what it lacks."""

    load: dict[Key, Resources] = field(default_factory=dict)
    capacity: dict[Key, Resources | None] = field(default_factory=dict)
    now: dict[Key, Resources | None] = field(default_factory=dict)
    quota_share: dict[Key, float] = field(default_factory=dict)
    dead: set[Key] = field(default_factory=set)
    """Load Route 53 sends to failed clusters: every set of a name unhealthy, it fails open."""

    def _short(self, capacities: Mapping[Key, Resources | None]) -> dict[Key, Resources]:
        found = {k: cap.short_of(self.load[k]) for k, cap in capacities.items() if cap is not None}
        return {k: short for k, short in found.items() if short != NOTHING}

    def short(self) -> dict[Key, Resources]:
        """What each answering cluster lacks at maxSize (within its quota)."""
        return self._short(self.capacity)

    def short_now(self) -> dict[Key, Resources]:
        """What each lacks with its groups at desiredSize, before the autoscaler adds nodes."""
        return self._short(self.now)

    @property
    def unknown(self) -> list[str]:
        return sorted(label(k) for k, cap in self.capacity.items() if cap is None and self.load.get(k, NOTHING) != NOTHING)

    @property
    def carries(self) -> bool:
        return not self.short() and not self.unknown and not self.dead

    def as_dict(self) -> dict[str, object]:
        short, short_now = self.short(), self.short_now()
        return {
            "carries": self.carries,
            "carriesNow": self.carries and not short_now,
            # What the autoscaler allows a node it asks for before it gives up on it: not a bound on growth.
            "autoscaler": {
                "scanIntervalSeconds": autoscaling.SCAN_INTERVAL_SECONDS,
                "maxNodeProvisionMinutes": autoscaling.MAX_NODE_PROVISION_MINUTES,
            },
            "clusters": {
                label(k): {
                    "load": _round(self.load[k]),
                    "capacity": _round(self.capacity[k]),
                    "now": _round(self.now[k]),
                    **({"quotaShare": round(self.quota_share[k], 3)} if self.quota_share.get(k, 1.0) < 1.0 else {}),
                    **({"shortBy": _round(short[k])} if k in short else {}),
                    **({"shortNowBy": _round(short_now[k])} if k in short_now and k not in short else {}),
                    **({"failedOpenTo": True} if k in self.dead else {}),
                }
                for k in sorted(self.load)
            },
        }


def verdict(
    spec: FleetSpec,
    down: set[str],
    lost_zones: Mapping[str, int] | None = None,
    measured: Mapping[str, Resources] | None = None,
    switched_off: frozenset[str] = frozenset(),
) -> Verdict:
    """Loads and capacities while the clusters in ``down`` have failed, those in ``switched_off`` are
    out of DNS (their ARC control Off) and ``lost_zones`` (cluster -> zones lost) shrink the others;
    ``measured`` gives, per record name, a demand found elsewhere (the GitOps overlays, for demandFrom)."""
    result = Verdict()
    if spec.dns is None:
        return result
    regions = {c.name: c.region for c in spec.clusters}
    by_name = {c.name: c for c in spec.clusters}
    for record in spec.dns.records:
        architecture: str = record.demand.architecture if record.demand is not None else "amd64"
        if record.demand is not None:
            demand = Resources(record.demand.vcpu, record.demand.memory_gib)
        elif measured is not None and record.name in measured:
            demand = measured[record.name]
        else:
            continue
        for answer in dns_answers.answers(record, regions, down | switched_off, frozenset(spec.drained_clusters)):
            key = (answer.cluster, architecture)
            result.load[key] = result.load.get(key, NOTHING) + demand.scaled(answer.share)
            if answer.cluster in down:
                result.dead.add(key)
    for key in result.load:
        name, architecture = key
        cluster = by_name[name]
        left = max(0, cluster.availability_zones - (lost_zones or {}).get(name, 0)) / cluster.availability_zones
        shares = quota_shares(spec, cluster.region)
        # The autoscaler cannot grow past the quota; what runs now already does.
        at_max = cluster_capacity(cluster, architecture, "max", shares)
        at_desired = cluster_capacity(cluster, architecture, "desired")
        result.quota_share[key] = min(
            (group_share(g, shares) for g in cluster.node_groups if eligible(g, architecture)), default=1.0
        )
        result.capacity[key] = None if at_max is None else at_max.scaled(left)
        result.now[key] = None if at_desired is None else at_desired.scaled(left)
    return result


def survive_regions(spec: FleetSpec) -> int:
    """fleet:dns.survive, or its default: 1 when some record declares demand, else 0."""
    if spec.dns is None:
        return 0
    if spec.dns.survive is not None:
        return spec.dns.survive
    return 1 if any(r.demand is not None for r in spec.dns.records) else 0


def region_failures(spec: FleetSpec) -> list[tuple[tuple[str, ...], Verdict]]:
    """For every set of ``survive`` serving regions failing together, the survivors' verdict."""
    count = survive_regions(spec)
    served = spec.served_clusters() - spec.drained_clusters
    regions = sorted({c.region for c in spec.clusters if c.name in served})
    found = []
    if count == 0 or count >= len(regions):
        return []  # nothing to survive, or nothing left to survive it (the preflight says so)
    for failed in itertools.combinations(regions, count):
        down = {c.name for c in spec.clusters if c.region in failed}
        found.append((failed, verdict(spec, down)))
    return found
