"""The registrations of a run indexed as AWS identifies them: ids, egress addresses, security group rules.

The reachability checks (``reachability.py``, ``private_path.py``) walk this graph the way AWS would
route a packet, following ids from resource to resource.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from components.planning.flows import Egress
from offline.harness import Registration, Run

_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
_POOL_FILTER = re.compile(r"Name=tag:([\w./-]+),Values=([\w.-]+)")


class Graph:
    """Registrations indexed by what AWS identifies them by."""

    def __init__(
        self, run: Run, foreign_egress: dict[str, list[str]] | None = None, parties: dict[str, str] | None = None
    ) -> None:
        self.run = run
        self.by_id = {r.id: r for r in run.registrations.values() if r.custom}
        self.foreign_egress = foreign_egress or {}
        # A party outside the stack that is a cluster of a merged run (another stack's hub): its name there.
        self.parties = parties or {}
        # The run does not change under a graph: each lookup is computed once (a 30-cluster
        # clusterset asks for every member's egress once per peer).
        self._by_type: dict[str, list[Registration]] = {}
        self._egress: dict[tuple[str, str], set[str]] = {}

    def of_type(self, type_token: str) -> list[Registration]:
        if type_token not in self._by_type:
            self._by_type[type_token] = self.run.of_type(type_token)
        return self._by_type[type_token]

    def cluster(self, name: str) -> Registration:
        (cluster,) = [r for r in self.of_type("eks:index:Cluster") if r.inputs.get("name") == name]
        return cluster

    def node_groups(self, name: str) -> list[Registration]:
        urn = self.cluster(name).urn
        return [r for r in self.of_type("eks:index:ManagedNodeGroup") if r.inputs.get("cluster") == urn]

    # ------------------------------------------------------------ egress addresses

    def nat_egress(self, name: str) -> set[str]:
        """Public addresses pods on ordinary (non-gateway) nodes leave from: subnet -> route table -> NAT -> EIP."""
        if ("nat", name) not in self._egress:
            self._egress[("nat", name)] = self._nat_egress(name)
        return set(self._egress[("nat", name)])

    def _nat_egress(self, name: str) -> set[str]:
        addresses: set[str] = set()
        for group in self.node_groups(name):
            if "submariner.io/gateway" in (group.inputs.get("labels") or {}):
                continue
            for subnet in group.inputs.get("subnetIds") or []:
                addresses |= self._subnet_egress(subnet)
        return addresses

    def _subnet_egress(self, subnet_id: str) -> set[str]:
        tables = [
            r.inputs["routeTableId"]
            for r in self.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
            if r.inputs.get("subnetId") == subnet_id
        ]
        addresses = set()
        for route in self.of_type("aws:ec2/route:Route"):
            if route.inputs.get("routeTableId") in tables and route.inputs.get("destinationCidrBlock") == "0.0.0.0/0":
                nat = self.by_id.get(str(route.inputs.get("natGatewayId")))
                if nat is not None:
                    eip = self.by_id[nat.inputs["allocationId"]]
                    addresses.add(str(eip.outputs["publicIp"]))
        return addresses

    def gateway_egress(self, name: str) -> set[str]:
        """Addresses gateway nodes can hold: the pool their boot script claims from (by tag, in their region)."""
        if ("gateway", name) not in self._egress:
            self._egress[("gateway", name)] = self._gateway_egress(name)
        return set(self._egress[("gateway", name)])

    def _gateway_egress(self, name: str) -> set[str]:
        addresses: set[str] = set()
        for group in self.node_groups(name):
            if "submariner.io/gateway" not in (group.inputs.get("labels") or {}):
                continue
            template = self.by_id[group.inputs["launchTemplate"]["id"]]
            script = base64.b64decode(template.inputs["userData"]).decode()
            for key, value in _POOL_FILTER.findall(script):
                addresses |= {
                    str(r.outputs["publicIp"])
                    for r in self.of_type("aws:ec2/eip:Eip")
                    if (r.inputs.get("tags") or {}).get(key) == value and self._region(r) == self._region(group)
                }
        return addresses

    def _region(self, registration: Registration) -> str:
        if registration.inputs.get("region"):
            return str(registration.inputs["region"])
        for candidate in [registration, *self.run.ancestors(registration)]:
            reference = candidate.provider or candidate.providers.get("aws", "")
            if reference:
                return str(self.run.registrations[reference.rsplit("::", 1)[0]].inputs.get("region"))
        return ""

    def egress(self, source: str, kinds: Iterable[Egress]) -> set[str]:
        if source in self.foreign_egress:
            return set(self.foreign_egress[source])
        addresses: set[str] = set()
        for kind in kinds:
            addresses |= self.nat_egress(source) if kind is Egress.NAT else self.gateway_egress(source)
        return addresses

    # ------------------------------------------------------------ security groups

    def admits(self, group_id: str, protocol: str, port: int, source: str | set[str]) -> Registration | None:
        """An ingress rule on ``group_id`` admitting ``port``/``protocol`` from a CIDR-contained address set or a group."""
        for rule in self.of_type(_INGRESS):
            inputs = rule.inputs
            if inputs.get("securityGroupId") != group_id or not port_matches(inputs, protocol, port):
                continue
            if isinstance(source, str):
                if inputs.get("referencedSecurityGroupId") == source:
                    return rule
                continue
            if "cidrIpv4" in inputs and all(inside(ip, [inputs["cidrIpv4"]]) for ip in source):
                return rule
            prefix_list = self.by_id.get(str(inputs.get("prefixListId")))
            if prefix_list is not None:
                cidrs = [e["cidr"] for e in prefix_list.inputs.get("entries") or []]
                if all(inside(ip, cidrs) for ip in source):
                    return rule
        return None

    def sends(self, group_id: str, protocol: str, port: int, destination: str) -> Registration | None:
        for rule in self.of_type(_EGRESS):
            inputs = rule.inputs
            if (
                inputs.get("securityGroupId") == group_id
                and port_matches(inputs, protocol, port)
                and "cidrIpv4" in inputs
                and IPv4Network(destination).subnet_of(IPv4Network(inputs["cidrIpv4"]))
            ):
                return rule
        return None


def port_matches(inputs: dict[str, Any], protocol: str, port: int) -> bool:
    if inputs.get("ipProtocol") == "-1":
        return True
    return bool(inputs.get("ipProtocol") == protocol and inputs.get("fromPort", -1) <= port <= inputs.get("toPort", -1))


def inside(address: str, cidrs: Iterable[str]) -> bool:
    return any(IPv4Address(address) in IPv4Network(cidr) for cidr in cidrs)
