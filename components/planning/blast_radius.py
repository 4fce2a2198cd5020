"""What else fails with a set of clusters: the services one cluster holds for many.

Clusters isolate failures (the seed document's reason for many clusters), except where one of them
serves the others: the Argo CD hub syncs every member, the Submariner broker carries the clusterset's
metadata, and the interconnect hub carries the private path. A what-if that only counts web capacity
would call a region's loss survivable while the fleet's control loops stop with it.

Submariner: the broker holds only the exchanged Endpoint and Cluster objects; while it is down,
established tunnels and already synced service exports keep working, but no cluster joins, no gateway
change and no new export reaches the others (Submariner docs, "Architecture: Broker").
Argo CD: Applications are reconciled by the hub's application controller; with the hub down no
member syncs, self-heals or rolls back, while its workloads keep running (Argo CD docs, "Architectural
Overview").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config.model import FleetSpec
from . import interconnect, submariner


@dataclass(frozen=True)
class SharedService:
    service: str
    cluster: str
    """The cluster holding it."""
    region: str
    effect: str
    stack: str | None = None
    """The stack holding it when it is not this one."""

    @property
    def where(self) -> str:
        return f"{self.cluster} of {self.stack}" if self.stack else self.cluster


def shared_services(spec: FleetSpec) -> list[SharedService]:
    """The services this stack's clusters depend on that live in one cluster, this stack's or its hub's."""
    found: list[SharedService] = []
    hub_spec = spec.joined_hub if spec.joined_hub is not None else spec
    hub = hub_spec.hub
    if hub is not None and hub_spec.gitops is not None:
        owner = spec.hub_stack.stack if spec.joined_hub is not None and spec.hub_stack else None
        found.append(
            SharedService(
                "Argo CD hub",
                hub.name,
                hub.region,
                "no cluster syncs, self-heals or rolls back from Git until it returns (workloads keep running)",
                owner,
            )
        )
    plan = submariner.plan_clusterset(spec)
    if plan is not None:
        broker = next(c for c in spec.clusters if c.name == plan.broker)
        found.append(
            SharedService(
                "Submariner broker",
                broker.name,
                broker.region,
                "established tunnels and exports keep working; no cluster joins and no gateway or export change "
                "reaches the others",
            )
        )
    private = interconnect.plan_interconnect(spec) or interconnect.plan_joined(spec)
    if private is not None:
        found.append(
            SharedService(
                "interconnect hub",
                f"{private.hub_region} hub VPC",
                private.hub_region,
                "calls over the private path (Argo CD to members, members to the broker) stop",
            )
        )
    return found


def failing_with(spec: FleetSpec, down: set[str], regions: set[str]) -> list[SharedService]:
    """The shared services inside the failed clusters or regions."""
    return [s for s in shared_services(spec) if (s.stack is None and s.cluster in down) or s.region in regions]
