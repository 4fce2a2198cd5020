"""Does each cross-cluster flow have a path in what the program registered?

Works on the recorded registrations the way AWS would route a packet: a pod's traffic leaves a
private subnet through the route table's default route to a NAT gateway and its Elastic IP; a
gateway node leaves with the pool address its boot script claims; an EKS public endpoint admits
a source only when its address lies in ``publicAccessCidrs``; a security group admits a packet
only through a rule whose protocol, ports and source match. Nothing here trusts how the program
meant to wire a flow: it follows ids from resource to resource.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from components.planning.flows import Egress, Flow, FlowKind, Route
from offline import private_path
from offline.harness import Registration, Run

_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
_POOL_FILTER = re.compile(r"Name=tag:([\w./-]+),Values=([\w.-]+)")
# One address from each of some of Route53's published health-checker ranges (ip-ranges.json,
# service ROUTE53_HEALTHCHECKS): us-east-1, eu-west-1, us-west-2, ap-southeast-1.
ROUTE53_CHECKERS = {"54.243.31.193", "176.34.159.193", "54.244.52.193", "54.255.254.193"}


@dataclass(frozen=True)
class Verdict:
    flow: Flow
    path: str | None
    """How the traffic gets there, or None."""
    problem: str = ""


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
            if inputs.get("securityGroupId") != group_id or not _port_matches(inputs, protocol, port):
                continue
            if isinstance(source, str):
                if inputs.get("referencedSecurityGroupId") == source:
                    return rule
                continue
            if "cidrIpv4" in inputs and all(_inside(ip, [inputs["cidrIpv4"]]) for ip in source):
                return rule
            prefix_list = self.by_id.get(str(inputs.get("prefixListId")))
            if prefix_list is not None:
                cidrs = [e["cidr"] for e in prefix_list.inputs.get("entries") or []]
                if all(_inside(ip, cidrs) for ip in source):
                    return rule
        return None

    def sends(self, group_id: str, protocol: str, port: int, destination: str) -> Registration | None:
        for rule in self.of_type(_EGRESS):
            inputs = rule.inputs
            if (
                inputs.get("securityGroupId") == group_id
                and _port_matches(inputs, protocol, port)
                and "cidrIpv4" in inputs
                and IPv4Network(destination).subnet_of(IPv4Network(inputs["cidrIpv4"]))
            ):
                return rule
        return None


def _port_matches(inputs: dict[str, Any], protocol: str, port: int) -> bool:
    if inputs.get("ipProtocol") == "-1":
        return True
    return bool(inputs.get("ipProtocol") == protocol and inputs.get("fromPort", -1) <= port <= inputs.get("toPort", -1))


def _inside(address: str, cidrs: Iterable[str]) -> bool:
    return any(IPv4Address(address) in IPv4Network(cidr) for cidr in cidrs)


def check(graph: Graph, flow: Flow) -> Verdict:
    if flow.to_api:
        return _api(graph, flow)
    if flow.kind is FlowKind.TUNNEL:
        return _tunnel(graph, flow)
    if flow.kind is FlowKind.EDGE_TO_PODS:
        return _edge_to_pods(graph, flow)
    return _health_check(graph, flow)


def _api(graph: Graph, flow: Flow) -> Verdict:
    if flow.route is not Route.INTERNET:
        try:
            return Verdict(flow, private_path.check_private(graph, flow))
        except private_path.NoPathError as gap:
            return Verdict(flow, None, str(gap))
    cluster = graph.cluster(flow.destination)
    addresses = graph.egress(flow.source, flow.egress)
    if not addresses:
        return Verdict(flow, None, f"{flow.source} has no egress address")
    if not cluster.inputs.get("endpointPublicAccess"):
        return Verdict(flow, None, f"{flow.destination}'s endpoint is private and no private path exists")
    allowed = cluster.inputs.get("publicAccessCidrs") or []
    missing = sorted(ip for ip in addresses if not _inside(ip, allowed))
    if missing:
        return Verdict(flow, None, f"{flow.destination}'s publicAccessCidrs do not admit {', '.join(missing)}")
    return Verdict(flow, f"{len(addresses)} egress addresses in {flow.destination}'s publicAccessCidrs")


def _gateway_groups(graph: Graph, cluster: str) -> list[str]:
    groups: list[str] = []
    for group in graph.node_groups(cluster):
        if "submariner.io/gateway" in (group.inputs.get("labels") or {}):
            template = graph.by_id[group.inputs["launchTemplate"]["id"]]
            for interface in template.inputs.get("networkInterfaces") or []:
                groups += interface.get("securityGroups") or []
    return groups


def _tunnel(graph: Graph, flow: Flow) -> Verdict:
    sources = graph.gateway_egress(flow.source)
    groups = _gateway_groups(graph, flow.destination)
    for port in flow.ports:
        if not any(graph.admits(group, flow.protocol, port, sources) for group in groups):
            return Verdict(flow, None, f"no gateway security group of {flow.destination} admits {flow.protocol}/{port} from it")
    return Verdict(flow, f"gateway security group admits {len(sources)} pool addresses")


def _edge(graph: Graph, cluster: str) -> Registration | None:
    edges = [r for r in graph.of_type("aws:lb/loadBalancer:LoadBalancer") if r.name == f"{cluster}-edge-nlb"]
    return edges[0] if edges else None


def _edge_to_pods(graph: Graph, flow: Flow) -> Verdict:
    nlb = _edge(graph, flow.destination)
    if nlb is None:
        return Verdict(flow, None, "no edge load balancer")
    (port,) = flow.ports
    cluster_group = graph.cluster(flow.destination).outputs["clusterSecurityGroupId"]
    vpc_cidr = next(
        r.inputs["cidrBlock"] for r in graph.of_type("aws:ec2/vpc:Vpc") if r.name == f"{flow.destination}-network-vpc"
    )
    for group in nlb.inputs.get("securityGroups") or []:
        if graph.sends(group, "tcp", port, vpc_cidr) and graph.admits(cluster_group, "tcp", port, group):
            return Verdict(flow, f"NLB group {group} -> pods' cluster security group on tcp/{port}")
    return Verdict(flow, None, f"the NLB cannot reach pods on tcp/{port}")


def _health_check(graph: Graph, flow: Flow) -> Verdict:
    (port,) = flow.ports
    checks = [
        r
        for r in graph.of_type("aws:route53/healthCheck:HealthCheck")
        if r.inputs["tags"].get("fleet-cluster") == flow.destination
    ]
    nlb = _edge(graph, flow.destination)
    if not checks or nlb is None:
        return Verdict(flow, None, "no health check or no edge")
    check_inputs = checks[0].inputs
    if check_inputs["port"] != port:
        return Verdict(flow, None, f"the check probes port {check_inputs['port']}, the listener is on {port}")
    if check_inputs["fqdn"] == nlb.outputs["dnsName"]:
        return Verdict(
            flow, None, "the check sends the NLB's generated hostname as SNI and Host: a host-routing ingress answers it with 404"
        )
    aliases = [
        r
        for r in graph.of_type("aws:route53/record:Record")
        if r.inputs.get("name") == check_inputs["fqdn"]
        and any(a["name"] == nlb.outputs["dnsName"] for a in r.inputs.get("aliases") or [])
    ]
    if not aliases:
        return Verdict(flow, None, f"{check_inputs['fqdn']} does not resolve to this edge's NLB")
    listeners = [
        r
        for r in graph.of_type("aws:lb/listener:Listener")
        if r.inputs.get("loadBalancerArn") == nlb.outputs["arn"] and r.inputs.get("port") == port
    ]
    if not listeners:
        return Verdict(flow, None, f"the NLB has no listener on {port}")
    if not any(graph.admits(group, "tcp", port, ROUTE53_CHECKERS) for group in nlb.inputs.get("securityGroups") or []):
        return Verdict(flow, None, f"the NLB's security group does not admit tcp/{port} from Route53's checkers")
    return Verdict(flow, f"{check_inputs['fqdn']} -> NLB listener tcp/{port}")
