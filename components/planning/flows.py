"""Every cross-cluster network flow the fleet needs, as pure data, and the allow lists derived from it.

A flow is "who must reach whom, on what": Argo CD on the hub calls each member's Kubernetes API;
every clusterset member calls the broker's API; gateways tunnel to each other; the edge NLB
forwards to pods; Route53's health checkers probe each edge. The program derives every allow
list and firewall opening from this list (never from a second copy of the same reasoning), the
offline tests check that each flow has a path in what the program registers, and the fleet-wide
limits of those allow lists are checked here before any resource exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from ..config.model import ClusterSpec, FleetSpec, NatGateways
from . import interconnect, submariner

KUBERNETES_API_PORT = 443

# Parties outside this stack's clusters.
ROUTE53_HEALTH_CHECKERS = "route53-health-checkers"
# A hub in another stack leaves through at most one NAT gateway per AZ it spans.
MAX_FOREIGN_HUB_NAT = 6
EDGE_NLB = "edge-nlb"


def hub_stack_party(stack: str) -> str:
    """A hub that runs in another stack (fleet:hub), as a flow's source."""
    return f"hub-stack:{stack}"


class FlowKind(StrEnum):
    ARGOCD_API = "argocd-api"
    """Argo CD on the hub -> a registered member's Kubernetes API."""
    BROKER_API = "broker-api"
    """A clusterset member's Submariner agents -> the broker cluster's Kubernetes API."""
    TUNNEL = "gateway-tunnel"
    """A member's gateways -> a peer member's gateways (IPsec/WireGuard/VXLAN)."""
    EDGE_TO_PODS = "nlb-to-pods"
    """The edge NLB -> the ingress pods it targets (pod IP, the Service's target port)."""
    HEALTH_CHECK = "health-check"
    """Route53 health checkers -> a cluster's edge listener."""


class Route(StrEnum):
    """How a flow's packets get from source to destination."""

    INTERNET = "internet"
    """Over the internet, admitted by the destination's allow list or security group."""
    PEERING = "peering"
    """Over the hub's VPC peering, to the destination's private endpoint (components/planning/interconnect.py)."""
    TRANSIT_GATEWAY = "transitGateway"
    """Over the regions' transit gateways, to the destination's private endpoint."""


class Egress(StrEnum):
    """Which public addresses a cluster's traffic leaves from."""

    NAT = "nat"
    """Pods on nodes in private subnets: the VPC's NAT gateways."""
    GATEWAY = "gateway"
    """Submariner gateway pods: the gateway nodes' Elastic IPs (they sit in public subnets)."""


@dataclass(frozen=True)
class Flow:
    kind: FlowKind
    source: str
    """A cluster of this stack, or an outside party (another stack's hub, Route53, the edge NLB)."""
    destination: str
    """A cluster of this stack."""
    protocol: str
    ports: tuple[int, ...]
    egress: tuple[Egress, ...] = ()
    """For flows from a cluster over the internet: which of its addresses the traffic comes from."""
    route: Route = Route.INTERNET

    @property
    def name(self) -> str:
        return f"{self.kind.value}: {self.source} -> {self.destination}"

    @property
    def to_api(self) -> bool:
        return self.kind in (FlowKind.ARGOCD_API, FlowKind.BROKER_API)


def fleet_flows(spec: FleetSpec) -> tuple[Flow, ...]:
    """Memoised per spec (FleetSpec.planned): see _fleet_flows."""
    return spec.planned("flows.fleet", lambda: _fleet_flows(spec))


def _fleet_flows(spec: FleetSpec) -> tuple[Flow, ...]:
    """Every flow the validated spec implies, sorted for a stable order."""
    flows: list[Flow] = []
    names = sorted(c.name for c in spec.clusters)
    private = interconnect.plan_interconnect(spec)
    hub = spec.hub
    api = ("tcp", (KUBERNETES_API_PORT,))
    if spec.gitops is not None and hub is not None:
        # Argo CD runs on the hub's ordinary (private-subnet) nodes.
        flows += [Flow(FlowKind.ARGOCD_API, hub.name, name, *api, (Egress.NAT,)) for name in names if name != hub.name]
    if spec.hub_stack is not None:
        party = hub_stack_party(spec.hub_stack.stack)
        flows += [Flow(FlowKind.ARGOCD_API, party, name, *api, (Egress.NAT,)) for name in names]
    plan = submariner.plan_clusterset(spec)
    if plan is not None:
        # The gateway engine runs on the gateway nodes; Lighthouse and the route agents on ordinary nodes.
        flows += [
            Flow(FlowKind.BROKER_API, m.name, plan.broker, *api, (Egress.NAT, Egress.GATEWAY))
            for m in plan.members
            if m.name != plan.broker
        ]
        ports = tuple(sorted(r.port for r in submariner.gateway_ports(plan.cable_driver) if r.port is not None))
        flows += [
            Flow(FlowKind.TUNNEL, a.name, b.name, "udp", ports, (Egress.GATEWAY,))
            for a in plan.members
            for b in plan.members
            if a.name != b.name
        ]
    by_name = {c.name: c for c in spec.clusters}
    for name in sorted(spec.served_clusters()):
        cluster = by_name.get(name)
        if cluster is None or cluster.edge.external:
            continue  # an edge the program does not own routes itself
        ingress = cluster.edge.ingress
        flows.append(Flow(FlowKind.EDGE_TO_PODS, EDGE_NLB, name, "tcp", (ingress.effective_target_port,)))
        flows.append(Flow(FlowKind.HEALTH_CHECK, ROUTE53_HEALTH_CHECKERS, name, "tcp", (ingress.port,)))
    if private is not None:
        route = Route.TRANSIT_GATEWAY if private.transit else Route.PEERING
        flows = [replace(f, route=route) if f.to_api and private.joins(f.source, f.destination) else f for f in flows]
    if spec.hub_stack is not None and interconnect.plan_joined(spec) is not None:
        party = hub_stack_party(spec.hub_stack.stack)
        flows = [replace(f, route=Route.PEERING) if f.to_api and f.source == party else f for f in flows]
    return tuple(sorted(flows, key=lambda f: (f.kind.value, f.source, f.destination)))


@dataclass(frozen=True)
class ApiSource:
    """One party whose addresses a cluster's public API endpoint must admit."""

    source: str
    egress: tuple[Egress, ...]


def api_sources(flows: Iterable[Flow], destination: str, *, keep_internet_path: bool = False) -> tuple[ApiSource, ...]:
    """Who must reach ``destination``'s public API endpoint, each once with every egress kind any of its flows uses.

    With ``keep_internet_path`` (fleet:interconnect.keepInternetPath) callers on the private path stay
    admitted too, so the allow lists shrink only in a later deploy, once that path exists.
    """
    kinds: dict[str, set[Egress]] = {}
    for flow in flows:
        if flow.to_api and flow.destination == destination and (flow.route is Route.INTERNET or keep_internet_path):
            kinds.setdefault(flow.source, set()).update(flow.egress)
    return tuple(ApiSource(source, tuple(sorted(kinds[source]))) for source in sorted(kinds))


def nat_addresses(cluster: ClusterSpec) -> int:
    """Public addresses a cluster's private subnets leave from: one per NAT gateway."""
    return cluster.availability_zones if cluster.nat_gateways is NatGateways.ONE_PER_AZ else 1


def egress_addresses(spec: FleetSpec, cluster: ClusterSpec, kinds: Iterable[Egress]) -> int:
    """How many public addresses of ``cluster`` the given egress kinds stand for."""
    plan = submariner.plan_clusterset(spec)
    count = 0
    for kind in set(kinds):
        if kind is Egress.NAT:
            count += nat_addresses(cluster)
        elif plan is not None and cluster.name in {m.name for m in plan.members}:
            count += plan.pool_addresses
    return count


def foreign_hub_addresses(spec: FleetSpec) -> int:
    """The NAT addresses of the hub fleet:hub names: from its stack file when this project has it,
    else the most it can have (one per AZ of the largest region layout)."""
    hub = spec.joined_hub.hub if spec.joined_hub is not None else None
    return nat_addresses(hub) if hub is not None else MAX_FOREIGN_HUB_NAT


def public_access_entries(spec: FleetSpec, destination: str, flows: Iterable[Flow]) -> int:
    """How many CIDRs ``destination``'s publicAccessCidrs holds: the configured ones plus each source's addresses."""
    by_name = {c.name: c for c in spec.clusters}
    total = len(spec.api_access_cidrs)
    for source in api_sources(flows, destination, keep_internet_path=spec.interconnect.keep_internet_path):
        cluster = by_name.get(source.source)
        total += egress_addresses(spec, cluster, source.egress) if cluster is not None else foreign_hub_addresses(spec)
    return total
