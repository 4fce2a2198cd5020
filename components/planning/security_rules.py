"""Every security group rule the fleet adds, as pure data, and what each group costs against AWS's limits.

The components create exactly these rules; the preflight counts them. AWS counts a rule that
references a managed prefix list as that list's ``maxEntries`` rules, allows 60 inbound (and 60
outbound) rules per group and 5 groups per network interface by default, and caps rules per
group times groups per interface at 1000 (VPC user guide, "Amazon VPC quotas"). EKS's cluster
security group already admits everything from itself, so no rule between a cluster's own nodes is
added. Rules from many peers are collapsed to the fewest CIDRs, and a rule another rule already
covers is dropped, so that rule counts grow with the fleet only where the CIDRs force it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from ..aws import cidr
from ..aws.service_quotas import INBOUND_RULES_PER_GROUP
from . import submariner
from .interconnect import DNS_PORT, InterconnectPlan
from .submariner import ClusterSet, Member, PortRule

ALL = "-1"
API_PORT = 443


@dataclass(frozen=True)
class CidrRule:
    """A rule admitting (or, on an egress group, sending) ``protocol``/``port`` from or to a CIDR."""

    protocol: str
    """tcp, udp, or -1 for every protocol."""
    port: int | None
    cidr: IPv4Network
    purpose: str

    @property
    def slug(self) -> str:
        network = str(self.cidr).replace(".", "-").replace("/", "-")
        return f"{network}" if self.protocol == ALL else f"{self.protocol}-{self.port}-{network}"

    def covers(self, other: CidrRule) -> bool:
        same_traffic = self.protocol == ALL or (self.protocol == other.protocol and self.port == other.port)
        return same_traffic and other.cidr.subnet_of(self.cidr)


def without_covered(rules: Iterable[CidrRule], existing: Iterable[CidrRule] = ()) -> tuple[CidrRule, ...]:
    """``rules`` minus any that ``existing`` or another of ``rules`` already covers (stable order)."""
    kept: list[CidrRule] = []
    others = list(existing)
    candidates = sorted(set(rules), key=lambda r: (r.cidr.prefixlen, r.protocol != ALL, str(r.cidr), r.protocol))
    for rule in candidates:
        if not any(o.covers(rule) for o in [*others, *kept]):
            kept.append(rule)
    return tuple(sorted(kept, key=lambda r: (str(r.cidr), r.protocol, r.port or 0)))


# ------------------------------------------------------------------ Submariner


def routed_rules(plan: ClusterSet, member: str) -> tuple[CidrRule, ...]:
    """Peers' pod and service ranges (or global ranges) into this member's nodes: the gateway
    forwards decapsulated traffic with the remote source address over the VPC (submariner#4100)."""
    ranges = cidr.collapse(network for peer in plan.peers_of(member) for network in peer.routed_cidrs)
    return tuple(CidrRule(ALL, None, network, "Submariner: traffic routed from peer clusters") for network in ranges)


def peers_per_shard(plan: ClusterSet) -> int:
    """How many peers' gateway pools one prefix list (one group's single rule) holds within 60 rules."""
    return max(1, INBOUND_RULES_PER_GROUP // plan.pool_addresses)


def gateway_shards(plan: ClusterSet, member: str) -> tuple[tuple[Member, ...], ...]:
    """The member's peers in groups of ``peers_per_shard``, by name: one prefix list and one
    gateway security group each, so that no group passes 60 rules however large the clusterset.
    None with open tunnels: one group admits the tunnel ports from anywhere."""
    if plan.open_tunnels:
        return ()
    peers = sorted(plan.peers_of(member), key=lambda m: m.name)
    size = peers_per_shard(plan)
    return tuple(tuple(peers[i : i + size]) for i in range(0, len(peers), size)) or ((),)


def open_tunnel_rules(plan: ClusterSet) -> tuple[PortRule, ...]:
    """With open tunnels, the one gateway group's rules: each tunnel port from anywhere."""
    return submariner.gateway_ports(plan.cable_driver) if plan.open_tunnels else ()


def gateway_groups_per_interface(plan: ClusterSet, member: str) -> int:
    """Security groups on a gateway node's interface: the cluster group, then one per shard or the open group."""
    return 1 + (1 if plan.open_tunnels else len(gateway_shards(plan, member)))


def shard_max_entries(plan: ClusterSet) -> int:
    """maxEntries of every peer-gateway prefix list: fixed, so a growing clusterset never resizes a list."""
    return peers_per_shard(plan) * plan.pool_addresses


# ------------------------------------------------------------------ interconnect


def api_rules(plan: InterconnectPlan, cluster: str, routed: Iterable[CidrRule] = ()) -> tuple[CidrRule, ...]:
    """Who may call this cluster's private API endpoint over the peering (its ENIs carry the
    cluster security group), minus what Submariner's routed-range rules already admit."""
    if cluster == plan.hub:
        sources = [s.vpc_cidr for s in plan.spokes if s.broker_client]
        purpose = "Clusterset members to the broker's private API endpoint over the peering"
    elif cluster in {s.name for s in plan.spokes} and plan.spoke(cluster).argocd:
        sources = [plan.hub_cidr]
        purpose = "Argo CD on the hub to this cluster's private API endpoint over the peering"
    else:
        return ()
    rules = [CidrRule("tcp", API_PORT, network, purpose) for network in cidr.collapse(sources)]
    return without_covered(rules, routed)


def resolver_inbound_rules(plan: InterconnectPlan, cluster: str) -> tuple[CidrRule, ...]:
    """DNS from the callers' VPCs into this cluster's inbound resolver endpoint."""
    hub = cluster == plan.hub
    sources = cidr.collapse(s.vpc_cidr for s in plan.spokes if s.broker_client) if hub else (plan.hub_cidr,)
    return _dns_rules(sources, "DNS queries forwarded from peered callers")


def resolver_outbound_rules(plan: InterconnectPlan, cluster: str) -> tuple[CidrRule, ...]:
    """DNS from this cluster's outbound resolver endpoint to the inbound endpoints it forwards to."""
    hub = cluster == plan.hub
    targets = cidr.collapse(s.vpc_cidr for s in plan.spokes if s.argocd) if hub else (plan.hub_cidr,)
    return _dns_rules(targets, "DNS queries forwarded to peered inbound endpoints")


def _dns_rules(networks: Iterable[IPv4Network], purpose: str) -> tuple[CidrRule, ...]:
    return tuple(CidrRule(protocol, DNS_PORT, n, purpose) for n in networks for protocol in ("udp", "tcp"))
