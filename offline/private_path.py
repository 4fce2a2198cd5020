"""Does an API call that takes the hub's peering really arrive, as EC2, EKS and Route 53 would have it?

Followed by id through what the program registered, never by how it meant to wire it:

1. the caller's node subnets route the destination's VPC range (longest prefix) to a peering
   connection that joins exactly the two VPCs and that the other side accepts;
2. the subnets EKS puts its endpoint interfaces in (the cluster's subnets) route the caller's
   range back over the same connection;
3. the destination's cluster security group admits the caller's whole range on 443;
4. while the public endpoint is on, the caller's VPC resolves the endpoint name privately: a
   FORWARD rule for that exact name is associated with the caller's VPC, leaves through an
   outbound endpoint in the caller's VPC, and targets an inbound endpoint inside the
   destination's VPC. Both endpoints' security groups pass DNS, and the query itself travels
   the same routes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import TYPE_CHECKING

from components.planning.flows import Flow
from components.planning.interconnect import endpoint_host
from components.planning.kubeconfig import endpoint_from_eks_kubeconfig
from offline.harness import Registration

if TYPE_CHECKING:
    from offline.reachability import Graph

_ROUTE = "aws:ec2/route:Route"
_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
_PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
_ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
_RULE = "aws:route53/resolverRule:ResolverRule"
_RULE_ASSOCIATION = "aws:route53/resolverRuleAssociation:ResolverRuleAssociation"
_ENDPOINT = "aws:route53/resolverEndpoint:ResolverEndpoint"


class NoPathError(Exception):
    """Why the call does not arrive."""


@dataclass(frozen=True)
class Vpc:
    id: str
    cidr: IPv4Network
    name: str


def check_private(graph: Graph, flow: Flow) -> str:
    """The path a peered API flow takes, or NoPathError naming the missing piece."""
    caller = graph.parties.get(flow.source, flow.source)
    source, destination = _vpc(graph, caller), _vpc(graph, flow.destination)
    cluster = graph.cluster(flow.destination)
    caller_subnets = {s for group in graph.node_groups(caller) for s in group.inputs.get("subnetIds") or []}
    connection = _routes_to(graph, caller_subnets, destination, source, f"{caller}'s nodes")
    endpoint_subnets = {*cluster.inputs.get("privateSubnetIds", []), *cluster.inputs.get("publicSubnetIds", [])}
    back = _routes_to(graph, endpoint_subnets, source, destination, f"{flow.destination}'s endpoint subnets")
    if back.id != connection.id:
        raise NoPathError(f"{flow.destination} answers over {back.name}, not {connection.name}")
    group = str(cluster.outputs["clusterSecurityGroupId"])
    ends = {str(source.cidr.network_address), str(source.cidr.broadcast_address)}
    if graph.admits(group, "tcp", 443, ends) is None:
        raise NoPathError(f"{flow.destination}'s cluster security group does not admit {source.cidr} on tcp/443")
    path = f"{connection.name} (accepted) both ways; cluster security group admits {source.cidr} on 443"
    if cluster.inputs.get("endpointPublicAccess"):
        path += "; " + _resolves(graph, cluster, source, destination, flow)
    return path


def _vpc(graph: Graph, cluster: str) -> Vpc:
    (vpc,) = [r for r in graph.of_type("aws:ec2/vpc:Vpc") if r.name == f"{cluster}-network-vpc"]
    return Vpc(vpc.id, IPv4Network(vpc.inputs["cidrBlock"]), vpc.name)


def _tables(graph: Graph, subnets: Iterable[str]) -> set[str]:
    wanted = set(subnets)
    return {str(r.inputs["routeTableId"]) for r in graph.of_type(_ASSOCIATION) if r.inputs.get("subnetId") in wanted}


def _routes_to(graph: Graph, subnets: Iterable[str], to: Vpc, local: Vpc, who: str) -> Registration:
    """The accepted peering connection every one of ``subnets``' route tables sends ``to``'s range over."""
    tables = _tables(graph, subnets)
    if not tables:
        raise NoPathError(f"{who} have no route table")
    found: Registration | None = None
    for table in sorted(tables):
        routes = [r for r in graph.of_type(_ROUTE) if r.inputs.get("routeTableId") == table]
        matching = [r for r in routes if to.cidr.subnet_of(IPv4Network(str(r.inputs.get("destinationCidrBlock", "0.0.0.0/32"))))]
        if not matching:
            raise NoPathError(f"{who}: route table {table} has no route to {to.cidr}")
        best = max(matching, key=lambda r: IPv4Network(str(r.inputs["destinationCidrBlock"])).prefixlen)
        connection = graph.by_id.get(str(best.inputs.get("vpcPeeringConnectionId")))
        if connection is None or connection.type != _PEERING:
            raise NoPathError(f"{who}: route table {table} sends {to.cidr} to {best.name}, not over a peering connection")
        if {connection.inputs.get("vpcId"), connection.inputs.get("peerVpcId")} != {to.id, local.id}:
            raise NoPathError(f"{who}: {connection.name} does not join {local.name} and {to.name}")
        if not any(
            a.inputs.get("vpcPeeringConnectionId") == connection.id and a.inputs.get("autoAccept")
            for a in graph.of_type(_ACCEPTER)
        ):
            raise NoPathError(f"{connection.name} is never accepted: it stays pending-acceptance and carries nothing")
        found = connection
    assert found is not None
    return found


def _endpoint_vpc(graph: Graph, endpoint: Registration) -> str:
    vpcs = {graph.by_id[a["subnetId"]].inputs["vpcId"] for a in endpoint.inputs.get("ipAddresses") or []}
    if len(vpcs) != 1:
        raise NoPathError(f"{endpoint.name} spans {len(vpcs)} VPCs")
    return str(vpcs.pop())


def _resolves(graph: Graph, cluster: Registration, source: Vpc, destination: Vpc, flow: Flow) -> str:
    server, _ = endpoint_from_eks_kubeconfig(str(cluster.outputs["kubeconfigJson"]))
    host = endpoint_host(server)
    rules = [
        graph.by_id[str(a.inputs["resolverRuleId"])]
        for a in graph.of_type(_RULE_ASSOCIATION)
        if a.inputs.get("vpcId") == source.id and str(a.inputs.get("resolverRuleId")) in graph.by_id
    ]
    rules = [r for r in rules if r.inputs.get("domainName", "").rstrip(".") == host and r.inputs.get("ruleType") == "FORWARD"]
    if not rules:
        raise NoPathError(
            f"{flow.source}'s VPC resolves {host} to the public endpoint: EKS answers privately only inside "
            f"{flow.destination}'s VPC, and no forwarding rule for it is associated with {source.name}"
        )
    rule = rules[0]
    outbound = graph.by_id.get(str(rule.inputs.get("resolverEndpointId")))
    if outbound is None or outbound.inputs.get("direction") != "OUTBOUND" or _endpoint_vpc(graph, outbound) != source.id:
        raise NoPathError(f"{rule.name} does not leave through an outbound endpoint in {source.name}")
    targets = {t["ip"] for t in rule.inputs.get("targetIps") or []}
    inbound = [
        e
        for e in graph.of_type(_ENDPOINT)
        if e.inputs.get("direction") == "INBOUND" and {a.get("ip") for a in e.outputs.get("ipAddresses") or []} & targets
    ]
    if not inbound or _endpoint_vpc(graph, inbound[0]) != destination.id:
        raise NoPathError(f"{rule.name} forwards to {sorted(targets)}, not to an inbound endpoint in {destination.name}")
    answerer = inbound[0]
    # The query goes from the outbound endpoint's subnets to the inbound endpoint's, and back.
    out_subnets = [a["subnetId"] for a in outbound.inputs["ipAddresses"]]
    in_subnets = [a["subnetId"] for a in answerer.inputs["ipAddresses"]]
    _routes_to(graph, out_subnets, destination, source, f"{outbound.name}")
    _routes_to(graph, in_subnets, source, destination, f"{answerer.name}")
    out_ips = {str(a["ip"]) for a in outbound.outputs.get("ipAddresses") or [] if a.get("ip")} or {
        str(source.cidr.network_address),
        str(source.cidr.broadcast_address),
    }
    for protocol in ("udp", "tcp"):
        if not any(graph.admits(g, protocol, 53, out_ips) for g in answerer.inputs.get("securityGroupIds") or []):
            raise NoPathError(f"{answerer.name}'s security group does not admit DNS ({protocol}) from {outbound.name}")
        if not any(
            graph.sends(g, protocol, 53, f"{ip}/32") for g in outbound.inputs.get("securityGroupIds") or [] for ip in targets
        ):
            raise NoPathError(f"{outbound.name}'s security group does not send DNS ({protocol}) to {sorted(targets)}")
    return f"{host} forwarded by {rule.name} via {outbound.name} to {answerer.name}"
