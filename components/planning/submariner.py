"""The Submariner clusterset as pure data: members, global CIDRs, gateway ports and chart values.

Nothing here creates resources. The Submariner components turn this plan into Helm releases,
security-group rules and gateway nodes; tests check the plan without mocks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any
from urllib.parse import urlsplit

from ..config.model import CableDriver, FleetSpec, GatewayPeers

BROKER_NAMESPACE = "submariner-k8s-broker"
# The broker chart names its Role "<fullname>-cluster"; with this release name the fullname is
# the chart name itself, so the Role is predictable and member bindings can point at it.
BROKER_RELEASE = "submariner-k8s-broker"
BROKER_ROLE = f"{BROKER_RELEASE}-cluster"
# No pod runs as this account and no token exists for it: the chart's own RoleBinding points here.
BROKER_UNUSED_ACCOUNT = "submariner-k8s-broker-unbound"
OPERATOR_NAMESPACE = "submariner-operator"
OPERATOR_RELEASE = "submariner-operator"
GATEWAY_LABEL = ("submariner.io/gateway", "true")
CLUSTERSET_DOMAIN = "clusterset.local"
IKE_PORT = 500
NAT_T_PORT = 4500
NAT_DISCOVERY_PORT = 4490
VXLAN_PORT = 4800
ESP_PROTOCOL = "50"


# A managed node group update surges new nodes before it drains old ones: "up to twice the number
# of Availability Zones" the group spans (EKS user guide, managed node update behavior). The
# gateway group spans one AZ per gateway, so the pool holds the gateways plus that surge.
UPDATE_SURGE_PER_AZ = 2


def gateway_pool_size(gateways: int) -> int:
    """Elastic IPs per member: every gateway node that can exist at once, during an update too,
    holds an address that peers and the broker admit."""
    return gateways + UPDATE_SURGE_PER_AZ * gateways


@dataclass(frozen=True)
class PortRule:
    """One kind of traffic the gateways accept from peer gateways."""

    protocol: str
    """udp, or an IP protocol number (50 = ESP)."""
    port: int | None
    """The UDP port; None for a protocol without ports."""
    purpose: str

    @property
    def slug(self) -> str:
        return f"{self.protocol}-{self.port}" if self.port is not None else f"proto-{self.protocol}"


def gateway_ports(cable_driver: CableDriver) -> tuple[PortRule, ...]:
    """What peer gateways send to a gateway: NAT-T and NAT discovery always; IKE and ESP for IPsec."""
    rules = [
        PortRule("udp", NAT_T_PORT, "Submariner tunnel from peer gateways (IPsec NAT-T, or the WireGuard/VXLAN cable port)"),
        PortRule("udp", NAT_DISCOVERY_PORT, "Submariner NAT discovery from peer gateways"),
    ]
    if cable_driver is CableDriver.LIBRESWAN:
        rules += [
            PortRule("udp", IKE_PORT, "Submariner IPsec IKE from peer gateways"),
            PortRule(ESP_PROTOCOL, None, "Submariner IPsec ESP from peer gateways, when a path is not NATed"),
        ]
    return tuple(rules)


@dataclass(frozen=True)
class Member:
    """One cluster joined to the clusterset."""

    name: str
    region: str
    cluster_cidr: IPv4Network
    """Pod range; the VPC range under the VPC CNI."""
    service_cidr: IPv4Network
    global_cidr: IPv4Network | None
    """Its Globalnet range, when Globalnet is on."""
    availability_zones: int

    @property
    def routed_cidrs(self) -> tuple[IPv4Network, ...]:
        """The ranges peers reach this member by: its global CIDR under Globalnet, else pods and services."""
        if self.global_cidr is not None:
            return (self.global_cidr,)
        return (self.cluster_cidr, self.service_cidr)


@dataclass(frozen=True)
class ClusterSet:
    broker: str
    members: tuple[Member, ...]
    """Sorted by name."""
    cable_driver: CableDriver
    globalnet: bool
    gateways_per_cluster: int
    kept_addresses: int = 0
    """fleet:submariner.keepGatewayAddresses: the pool keeps this many addresses while it drains."""
    open_tunnels: bool = False
    """fleet:submariner.gatewayPeers: anywhere: the tunnel ports admit every source, not only peer pools."""

    @property
    def active_addresses(self) -> int:
        """Pool addresses per member that gateways may claim."""
        return gateway_pool_size(self.gateways_per_cluster)

    @property
    def pool_addresses(self) -> int:
        """Pool addresses per member that exist (and that peers and the broker admit): the active
        ones, and while a lowered count drains, the kept ones past them."""
        return max(self.active_addresses, self.kept_addresses)

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def peers_of(self, name: str) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.name != name)

    def summary(self) -> dict[str, Any]:
        """The ``clusterset`` stack output, minus values only known after deploy."""
        return {
            "broker": self.broker,
            "brokerNamespace": BROKER_NAMESPACE,
            "cableDriver": self.cable_driver.value,
            "globalnet": self.globalnet,
            "domain": CLUSTERSET_DOMAIN,
            "members": {
                m.name: {
                    "clusterId": m.name,
                    "region": m.region,
                    "clusterCidr": str(m.cluster_cidr),
                    "serviceCidr": str(m.service_cidr),
                    **({"globalCidr": str(m.global_cidr)} if m.global_cidr is not None else {}),
                }
                for m in self.members
            },
        }


def _preferred_slot(name: str, slots: int) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % slots


def allocate_global_cidrs(
    members: Sequence[str], cidr_range: IPv4Network, prefix: int, pinned: Mapping[str, IPv4Network]
) -> dict[str, IPv4Network]:
    """A distinct ``/prefix`` out of ``cidr_range`` for every member.

    Pinned members keep their range. Every other member starts at a slot derived from a hash of
    its name and takes the next free one, so its range does not depend on list order and adding
    a cluster leaves existing ranges alone unless two names hash to the same slot (pin ranges
    to rule that out for good). Raises ValueError when the range is too small.
    """
    if prefix < cidr_range.prefixlen:
        raise ValueError(f"/{prefix} does not fit in {cidr_range}")
    slots = 2 ** (prefix - cidr_range.prefixlen)
    base = int(cidr_range.network_address)
    size = 2 ** (32 - prefix)
    unpinned = sorted(set(members) - set(pinned))
    if len(unpinned) + len(pinned) > slots:
        raise ValueError(f"{cidr_range} holds {slots} /{prefix} ranges, not {len(unpinned) + len(pinned)}")
    taken = {(int(network.network_address) - base) // size for network in pinned.values() if network.subnet_of(cidr_range)}
    allocated = {name: pinned[name] for name in members if name in pinned}
    for name in unpinned:
        slot = _preferred_slot(name, slots)
        while slot in taken:
            slot = (slot + 1) % slots
        taken.add(slot)
        allocated[name] = IPv4Network((base + slot * size, prefix))
    return allocated


def plan_clusterset(spec: FleetSpec) -> ClusterSet | None:
    """Memoised per spec (FleetSpec.planned): see _plan_clusterset."""
    return spec.planned("submariner.clusterset", lambda: _plan_clusterset(spec))


def _plan_clusterset(spec: FleetSpec) -> ClusterSet | None:
    """The clusterset a validated spec declares, or None without (enabled) Submariner."""
    config = spec.clusterset
    broker = spec.broker_cluster()
    if config is None or broker is None:
        return None
    names = spec.clusterset_members()
    global_cidrs = (
        allocate_global_cidrs(names, config.globalnet_cidr_range, config.globalnet_cluster_prefix, config.global_cidrs)
        if config.globalnet
        else {}
    )
    by_name = {c.name: c for c in spec.clusters}
    members = tuple(
        Member(
            name=name,
            region=by_name[name].region,
            cluster_cidr=by_name[name].vpc_cidr,
            service_cidr=by_name[name].service_cidr,
            global_cidr=global_cidrs.get(name),
            availability_zones=by_name[name].availability_zones,
        )
        for name in names
    )
    return ClusterSet(
        broker=broker,
        members=members,
        cable_driver=config.cable_driver,
        globalnet=config.globalnet,
        gateways_per_cluster=config.gateways_per_cluster,
        kept_addresses=config.keep_gateway_addresses or 0,
        open_tunnels=config.gateway_peers is GatewayPeers.ANYWHERE,
    )


def broker_server(endpoint: str) -> str:
    """The broker API as Submariner wants it: host:port, no scheme (443 when the URL has none)."""
    parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
    if not parts.hostname:
        raise ValueError(f"{endpoint!r} has no host")
    return f"{parts.hostname}:{parts.port or 443}"


SUBMARINER_CR_NAME = "submariner"
SUBMARINER_IMAGE_REPOSITORY = "quay.io/submariner"


def operator_values(clusterset: ClusterSet) -> dict[str, Any]:
    """submariner-operator chart values: only what its RBAC templates read. The ``Submariner``
    object the chart would render from the rest is dropped by a post-renderer and created by the
    program instead (``submariner_manifest``), so that it is deleted while the operator still runs."""
    return {"broker": {"globalnet": clusterset.globalnet}, "submariner": {"serviceDiscovery": True}}


def submariner_manifest(
    member: Member, clusterset: ClusterSet, server: Any, token: Any, ca: Any, psk: Any, version: str
) -> dict[str, Any]:
    """The ``Submariner`` object for one member, field for field what the chart's template renders
    (token, CA and PSK may be Outputs; the caller keeps the spec secret)."""
    return {
        "apiVersion": "submariner.io/v1alpha1",
        "kind": "Submariner",
        "metadata": {"name": SUBMARINER_CR_NAME, "namespace": OPERATOR_NAMESPACE},
        "spec": {
            "broker": "k8s",
            "brokerK8sApiServer": server,
            "brokerK8sApiServerToken": token,
            "brokerK8sCA": ca,
            "brokerK8sRemoteNamespace": BROKER_NAMESPACE,
            "brokerK8sInsecure": False,
            "ceIPSecDebug": False,
            "ceIPSecForceUDPEncaps": False,
            "ceIPSecIKEPort": IKE_PORT,
            "ceIPSecNATTPort": NAT_T_PORT,
            "ceIPSecPSK": psk,
            "clusterCIDR": str(member.cluster_cidr),
            "clusterID": member.name,
            "colorCodes": "blue",
            "debug": False,
            "namespace": OPERATOR_NAMESPACE,
            # Members talk across regions over the internet: gateways sit behind public IPs.
            "natEnabled": True,
            "repository": SUBMARINER_IMAGE_REPOSITORY,
            "version": version,
            "serviceCIDR": str(member.service_cidr),
            "globalCIDR": str(member.global_cidr) if member.global_cidr is not None else "",
            "serviceDiscoveryEnabled": True,
            "cableDriver": clusterset.cable_driver.value,
            "connectionHealthCheck": {"enabled": True, "intervalSeconds": 1, "maxPacketLossCount": 5},
        },
    }


def broker_values() -> dict[str, Any]:
    """submariner-k8s-broker chart values: CRDs and the broker Role, but no shared client account.

    Each member gets its own ServiceAccount and token instead, so one member can be cut off
    without re-keying the others.
    """
    # The chart installs its CRDs from crds/ whatever crd.create says (no template reads it).
    return {
        "rbac": {"create": True},
        # With create: false the chart binds its Role to this name, else to the namespace's
        # "default" ServiceAccount, which any pod there would run as.
        "serviceAccounts": {"client": {"create": False, "name": BROKER_UNUSED_ACCOUNT}},
    }
