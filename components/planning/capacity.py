"""Whether the clusters that keep answering can carry the traffic that moves to them.

Load is declared per DNS name (``fleet:dns.records[].demand``: vCPU and memory at 100% of the
name's traffic); each cluster carries its share of every name (components/planning/dns_answers.py).
Capacity is what the cluster's autoscaled node groups reach at ``maxSize`` (GPU groups and the
Submariner gateways excluded: web traffic does not land there), spread evenly over its zones, so a
zone outage takes that zone's share; each group counts its smallest instance type
(components/aws/ec2_sizes.py, what EC2 describes). A type whose size is unknown makes the verdict unknown, not a guess.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..aws import ec2_sizes
from ..config.model import ClusterSpec, FleetSpec
from . import dns_answers


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


def cluster_capacity(cluster: ClusterSpec) -> Resources | None:
    """What the cluster's general node groups reach at maxSize; None when an instance size is unknown."""
    total = NOTHING
    for group in cluster.node_groups:
        if group.ami_type.is_gpu:
            continue
        sizes = [(ec2_sizes.vcpus(t), ec2_sizes.memory_gib(t)) for t in group.instance_types]
        if any(v is None or m is None for v, m in sizes):
            return None
        vcpu = min(v for v, _ in sizes if v is not None)
        memory = min(m for _, m in sizes if m is not None)
        total = total + Resources(vcpu, memory).scaled(group.max_size)
    return total


@dataclass
class Verdict:
    """Per cluster that answers after the failure: its load and capacity, and what it lacks."""

    load: dict[str, Resources] = field(default_factory=dict)
    capacity: dict[str, Resources | None] = field(default_factory=dict)

    def short(self) -> dict[str, Resources]:
        return {
            c: cap.short_of(self.load[c])
            for c, cap in self.capacity.items()
            if cap is not None and cap.short_of(self.load[c]) != NOTHING
        }

    @property
    def unknown(self) -> list[str]:
        return sorted(c for c, cap in self.capacity.items() if cap is None and self.load.get(c, NOTHING) != NOTHING)

    @property
    def carries(self) -> bool:
        return not self.short() and not self.unknown

    def as_dict(self) -> dict[str, object]:
        short = self.short()
        return {
            "carries": self.carries,
            "clusters": {
                c: {
                    "load": {"vcpu": round(self.load[c].vcpu, 2), "memoryGib": round(self.load[c].memory_gib, 2)},
                    "capacity": None
                    if self.capacity[c] is None
                    else {"vcpu": round(self.capacity[c].vcpu, 2), "memoryGib": round(self.capacity[c].memory_gib, 2)},  # type: ignore[union-attr]
                    **(
                        {"shortBy": {"vcpu": round(short[c].vcpu, 2), "memoryGib": round(short[c].memory_gib, 2)}}
                        if c in short
                        else {}
                    ),
                }
                for c in sorted(self.load)
            },
        }


def verdict(
    spec: FleetSpec,
    down: set[str],
    lost_zones: Mapping[str, int] | None = None,
    measured: Mapping[str, Resources] | None = None,
) -> Verdict:
    """Loads and capacities while the clusters in ``down`` are unhealthy and ``lost_zones`` (cluster ->
    zones lost) shrink the others; ``measured`` gives, per record name, a demand found elsewhere
    (the GitOps overlays, for demandFrom)."""
    result = Verdict()
    if spec.dns is None:
        return result
    regions = {c.name: c.region for c in spec.clusters}
    by_name = {c.name: c for c in spec.clusters}
    for record in spec.dns.records:
        if record.demand is not None:
            demand = Resources(record.demand.vcpu, record.demand.memory_gib)
        elif measured is not None and record.name in measured:
            demand = measured[record.name]
        else:
            continue
        for answer in dns_answers.answers(record, regions, down, frozenset(spec.drained_clusters)):
            result.load[answer.cluster] = result.load.get(answer.cluster, NOTHING) + demand.scaled(answer.share)
    for name in result.load:
        cluster = by_name[name]
        capacity = cluster_capacity(cluster)
        lost = (lost_zones or {}).get(name, 0)
        result.capacity[name] = (
            None if capacity is None else capacity.scaled(max(0, cluster.availability_zones - lost) / cluster.availability_zones)
        )
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
