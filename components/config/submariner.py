"""Cross-cluster networking (fleet:submariner): the broker, the members, gateways, Globalnet and the IPsec key."""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from ..aws import cidr
from .types import (
    DnsLabel,
    InstanceType,
    Model,
    Network,
)


class CableDriver(StrEnum):
    LIBRESWAN = "libreswan"
    WIREGUARD = "wireguard"
    VXLAN = "vxlan"


GLOBALNET_DEFAULT_RANGE = "242.0.0.0/8"
# Submariner must be able to route between any pair of members, so an IPsec PSK shorter than
# this is refused rather than silently weakening every tunnel in the clusterset.
MIN_PSK_LENGTH = 32


def _psk(value: SecretStr) -> SecretStr:
    if len(value.get_secret_value()) < MIN_PSK_LENGTH:
        raise ValueError(f"psk must be at least {MIN_PSK_LENGTH} characters (omit it to have one generated)")
    return value


class GatewayPeers(StrEnum):
    """Who may open tunnels to a member's gateways."""

    POOLS = "pools"
    ANYWHERE = "anywhere"


class SubmarinerSpec(Model):
    enabled: bool = True
    """False: no broker, no joins, no gateways (the rest of the section is still validated)."""
    broker: DnsLabel | None = None
    """Cluster hosting the broker; defaults to the hub."""
    clusters: list[DnsLabel] | None = None
    """Clusters joined to the clusterset; defaults to every cluster in the stack."""
    cable_driver: CableDriver = CableDriver.LIBRESWAN
    """Tunnel implementation between gateways."""
    globalnet: bool = False
    """Give each member a global CIDR so overlapping pod/service ranges can still be joined."""
    globalnet_cidr_range: Network = Field(default_factory=lambda: IPv4Network(GLOBALNET_DEFAULT_RANGE))
    """The range global CIDRs are cut from."""
    globalnet_cluster_prefix: Annotated[int, Field(ge=8, le=28)] = 16
    """Prefix length of each member's global CIDR (16 = Submariner's default 65536 addresses)."""
    global_cidrs: dict[DnsLabel, Network] = Field(default_factory=dict)
    """Pinned global CIDRs per cluster; others are allocated from the range."""
    gateways_per_cluster: Annotated[int, Field(ge=1, le=cidr.MAX_AZS)] = 2
    """Gateway nodes per member, each in its own AZ; two or more for active/passive HA."""
    keep_gateway_addresses: Annotated[int, Field(ge=1)] | None = None
    """Pool addresses kept per member, the ones past the new pool draining, in the deploy that lowers
    gatewaysPerCluster (set it to the old pool size, 3 x the old count); remove it in the next deploy."""
    gateway_peers: GatewayPeers = GatewayPeers.POOLS
    """pools: only peer gateways' pool addresses (a security group and prefix list per 10 peers, so past
    about 40 members a raised quota of groups per interface); anywhere: the tunnel ports open to the
    internet, authenticated by the PSK or WireGuard keys, one group per member at any fleet size."""
    gateway_instance_type: InstanceType = "c6i.large"
    """EC2 type of the gateway nodes (IPsec throughput scales with it)."""
    chart_version: str = "0.24.1"
    """submariner-k8s-broker and submariner-operator chart version, pinned."""
    chart_repository: str = "https://submariner-io.github.io/submariner-charts/charts"
    """Helm repository of both charts."""
    psk: Annotated[SecretStr, AfterValidator(_psk)] | None = None
    """The shared IPsec key (a Pulumi secret); generated when absent."""
    psk_version: Annotated[int, Field(ge=1)] = 1
    """Bump to rotate the generated PSK."""

    @model_validator(mode="after")
    def _consistent(self) -> SubmarinerSpec:
        problems = []
        if self.global_cidrs and not self.globalnet:
            problems.append("globalCidrs is only used with globalnet: true")
        if self.gateway_peers is GatewayPeers.ANYWHERE and self.cable_driver is CableDriver.VXLAN:
            problems.append(
                "gatewayPeers: anywhere would open unencrypted VXLAN tunnels to the internet; use libreswan or wireguard"
            )
        if self.psk is not None and "psk_version" in self.model_fields_set:
            problems.append("pskVersion rotates a generated PSK; with psk set, rotate by changing psk")
        if self.globalnet_cluster_prefix < self.globalnet_cidr_range.prefixlen:
            problems.append(
                f"globalnetClusterPrefix /{self.globalnet_cluster_prefix} is larger than "
                f"globalnetCidrRange {self.globalnet_cidr_range}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self
