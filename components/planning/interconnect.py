"""The private path for cross-cluster API calls, as pure data: hub-and-spoke VPC peering.

Argo CD on the hub calls every member's API; every clusterset member calls the broker's API on
the hub. Nothing else crosses between clusters' APIs, so the hub's VPC is peered with each other
cluster's VPC and members never reach each other (their tunnels stay on the gateways).

What AWS does with it, and what that requires (each fact is enforced by validation, the
preflight or the offline reachability check):

- A peering connection carries traffic only where both route tables point at it: every route
  table of the member routes the hub's range to it, every route table of the hub routes the
  member's range to it. A route table holds one route per destination, and the longest prefix
  wins, so the hub can route to members only if their ranges are disjoint from its own and from
  each other's. Globalnet cannot help here: it translates pod traffic between clusters, not the
  nodes' calls to an API endpoint.
- AWS refuses to peer VPCs whose CIDRs overlap.
- EKS answers for a cluster's endpoint name from a private hosted zone associated only with the
  cluster's own VPC. While the public endpoint is on, the same name resolves to public addresses
  everywhere else, peered VPCs included (EKS user guide, "Cluster API server endpoint"). So the
  caller's VPC forwards that one name through a Route 53 Resolver outbound endpoint to an inbound
  endpoint in the destination's VPC, which answers with the private addresses. With the public
  endpoint off (``fleet:apiAccessCidrs: []``), EKS publishes the private addresses in public DNS
  and no resolver is needed.
- The private endpoint's network interfaces carry the EKS cluster security group: it must admit
  the caller's VPC range on 443.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network
from urllib.parse import urlsplit

from ..config.model import FleetSpec, InterconnectMode

DNS_PORT = 53


@dataclass(frozen=True)
class Spoke:
    """A cluster joined to the hub's VPC."""

    name: str
    region: str
    vpc_cidr: IPv4Network
    argocd: bool
    """Argo CD on the hub calls this cluster's API (it needs an inbound resolver endpoint)."""
    broker_client: bool
    """This cluster calls the broker's API on the hub (it needs an outbound resolver endpoint)."""


@dataclass(frozen=True)
class InterconnectPlan:
    mode: InterconnectMode
    """peering or transitGateway (a plan exists only for a private path)."""
    hub: str
    hub_region: str
    hub_cidr: IPv4Network
    spokes: tuple[Spoke, ...]
    """Sorted by name."""
    resolvers: bool
    """Whether endpoint names must be forwarded (the public endpoints are on)."""
    argocd_hub: bool = False
    """Argo CD runs on the hub: stacks that join it (fleet:hub) are called too."""

    def spoke(self, name: str) -> Spoke:
        return next(s for s in self.spokes if s.name == name)

    def joins(self, source: str, destination: str) -> bool:
        """Whether a call from ``source`` to ``destination`` can take the private path."""
        names = {s.name for s in self.spokes}
        return (source == self.hub and destination in names) or (destination == self.hub and source in names)

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region the interconnect spans, the hub's first."""
        others = sorted({s.region for s in self.spokes} - {self.hub_region})
        return (self.hub_region, *others)

    @property
    def transit(self) -> bool:
        return self.mode is InterconnectMode.TRANSIT_GATEWAY

    @property
    def hub_calls_out(self) -> bool:
        """The hub resolves spokes' names (an outbound endpoint), its own or joining stacks' clusters'."""
        return self.argocd_hub or any(s.argocd for s in self.spokes)

    @property
    def hub_is_called(self) -> bool:
        """Spokes resolve the hub's name (an inbound endpoint)."""
        return any(s.broker_client for s in self.spokes)


def center(spec: FleetSpec) -> str | None:
    """The cluster every API call starts or ends at: the Argo CD hub, else the Submariner broker."""
    if spec.hub is not None:
        return spec.hub.name
    return spec.broker_cluster()


def plan_interconnect(spec: FleetSpec) -> InterconnectPlan | None:
    """Memoised per spec (FleetSpec.planned): see _plan_interconnect."""
    return spec.planned("interconnect.plan", lambda: _plan_interconnect(spec))


def _plan_interconnect(spec: FleetSpec) -> InterconnectPlan | None:
    """The peering plan of a validated spec, or None when API calls go over the internet."""
    hub_name = center(spec)
    if spec.interconnect_mode is InterconnectMode.NONE or hub_name is None:
        return None
    by_name = {c.name: c for c in spec.clusters}
    hub = by_name[hub_name]
    argocd = {c.name for c in spec.clusters} if spec.gitops is not None and spec.hub is not None else set()
    clients = set(spec.clusterset_members()) if spec.clusterset is not None else set()
    spokes = tuple(
        Spoke(name, by_name[name].region, by_name[name].vpc_cidr, name in argocd, name in clients)
        for name in sorted((argocd | clients) - {hub_name})
    )
    return InterconnectPlan(
        spec.interconnect_mode,
        hub_name,
        hub.region,
        hub.vpc_cidr,
        spokes,
        resolvers=bool(spec.api_access_cidrs),
        argocd_hub=spec.gitops is not None and spec.hub is not None,
    )


def plan_joined(spec: FleetSpec) -> InterconnectPlan | None:
    """Memoised per spec (FleetSpec.planned): see _plan_joined."""
    return spec.planned("interconnect.joined", lambda: _plan_joined(spec))


def _plan_joined(spec: FleetSpec) -> InterconnectPlan | None:
    """This stack's clusters as spokes of the hub it joins (fleet:hub), when that hub peers its members.

    The hub stays in its own stack: this stack creates the peering, both sides' routes, its own
    API opening and the forwarding of its endpoint names from the hub's VPC.
    """
    hub_spec = spec.joined_hub
    if spec.hub_stack is None or hub_spec is None:
        return None
    hub_plan = plan_interconnect(hub_spec)
    if hub_plan is None or not hub_plan.argocd_hub:
        return None
    spokes = tuple(Spoke(c.name, c.region, c.vpc_cidr, True, False) for c in sorted(spec.clusters, key=lambda c: c.name))
    # Whatever the hub's own mode, a joining stack peers with the hub's VPC: a transit gateway
    # belongs to the hub's stack, while a peering needs nothing of it but its VPC and route tables.
    return InterconnectPlan(
        InterconnectMode.PEERING,
        hub_plan.hub,
        hub_plan.hub_region,
        hub_plan.hub_cidr,
        spokes,
        resolvers=bool(spec.api_access_cidrs),
    )


def hub_owner(spec: FleetSpec) -> str | None:
    """The hub's account for a joining stack's peering request, when it is another account than this
    stack's: AWS takes the request's peer as this account's VPC unless told its owner (PeerOwnerId)."""
    hub = spec.joined_hub
    if hub is None or hub.account is None or spec.account is None or hub.account.id == spec.account.id:
        return None
    return hub.account.id


def member_plans(spec: FleetSpec) -> dict[str, InterconnectPlan]:
    """Per fleet:members stack (fully qualified) that peers with this hub, its plan_joined: the hub
    stack builds the hub's side of each (acceptance, routes, forwarding) from it."""
    plans: dict[str, InterconnectPlan] = {}
    for reference, member in spec.member_specs.items():
        if (joined := plan_joined(member.with_joined_hub(spec))) is not None:
            plans[reference] = joined
    return plans


def hub_forwards_for_members(spec: FleetSpec) -> bool:
    """Whether the hub needs an outbound resolver endpoint for its members' names: a member stack
    with public endpoints resolves publicly from the hub's VPC, even when the hub's own are private."""
    return any(p.resolvers and any(s.argocd for s in p.spokes) for p in member_plans(spec).values())


def endpoint_host(endpoint: str) -> str:
    """The name a Resolver rule forwards: the API endpoint URL's host."""
    host = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}").hostname
    if not host:
        raise ValueError(f"{endpoint!r} has no host")
    return host
