"""Does an API call on the private path (peering or transit gateways) arrive, as EC2, EKS and Route 53 would have it?

Followed by id through what the program registered, never by how it meant to wire it:

1. the caller's node subnets route the destination's VPC range (longest prefix) to a peering
   connection that joins exactly the two VPCs and that the other side accepts, or to a transit
   gateway the caller's VPC is attached to in every zone it sends from, which holds the
   destination's range: propagated from the destination's attachment, or a static route over
   an accepted transit gateway peering to a gateway the destination is attached to;
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

from components.planning.flows import Flow
from components.planning.interconnect import endpoint_host
from components.planning.kubeconfig import endpoint_from_eks_kubeconfig
from offline.graph import Graph
from offline.harness import Registration

_ROUTE = "aws:ec2/route:Route"
_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
_PEERING = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
_ACCEPTER = "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter"
_TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
_VPC_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
_TGW_ROUTE = "aws:ec2transitgateway/route:Route"
_TGW_PEERING = "aws:ec2transitgateway/peeringAttachment:PeeringAttachment"
_TGW_PEERING_ACCEPTER = "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter"
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
    there = _routes_to(graph, caller_subnets, destination, source, f"{caller}'s nodes")
    endpoint_subnets = {*cluster.inputs.get("privateSubnetIds", []), *cluster.inputs.get("publicSubnetIds", [])}
    back = _routes_to(graph, endpoint_subnets, source, destination, f"{flow.destination}'s endpoint subnets")
    group = str(cluster.outputs["clusterSecurityGroupId"])
    ends = {str(source.cidr.network_address), str(source.cidr.broadcast_address)}
    if graph.admits(group, "tcp", 443, ends) is None:
        raise NoPathError(f"{flow.destination}'s cluster security group does not admit {source.cidr} on tcp/443")
    path = f"there: {there}; back: {back}; cluster security group admits {source.cidr} on 443"
    if cluster.inputs.get("endpointPublicAccess"):
        path += "; " + _resolves(graph, cluster, source, destination, flow)
    return path


def _vpc(graph: Graph, cluster: str) -> Vpc:
    (vpc,) = [r for r in graph.of_type("aws:ec2/vpc:Vpc") if r.name == f"{cluster}-network-vpc"]
    return Vpc(vpc.id, IPv4Network(vpc.inputs["cidrBlock"]), vpc.name)


def _tables(graph: Graph, subnets: Iterable[str]) -> set[str]:
    wanted = set(subnets)
    return {str(r.inputs["routeTableId"]) for r in graph.of_type(_ASSOCIATION) if r.inputs.get("subnetId") in wanted}


def _routes_to(graph: Graph, subnets: Iterable[str], to: Vpc, local: Vpc, who: str) -> str:
    """How every one of ``subnets``' route tables carries ``to``'s range: an accepted peering
    connection, or a transit gateway that delivers it."""
    tables = _tables(graph, subnets)
    if not tables:
        raise NoPathError(f"{who} have no route table")
    hops: set[str] = set()
    for table in sorted(tables):
        routes = [r for r in graph.of_type(_ROUTE) if r.inputs.get("routeTableId") == table]
        matching = [r for r in routes if to.cidr.subnet_of(IPv4Network(str(r.inputs.get("destinationCidrBlock", "0.0.0.0/32"))))]
        if not matching:
            raise NoPathError(f"{who}: route table {table} has no route to {to.cidr}")
        best = max(matching, key=lambda r: IPv4Network(str(r.inputs["destinationCidrBlock"])).prefixlen)
        target = graph.by_id.get(str(best.inputs.get("vpcPeeringConnectionId") or best.inputs.get("transitGatewayId")))
        if target is not None and target.type == _TRANSIT_GATEWAY:
            hops.add(_through_transit(graph, target, subnets, to, local, who))
            continue
        if target is None or target.type != _PEERING:
            raise NoPathError(f"{who}: route table {table} sends {to.cidr} to {best.name}, not over a peering connection")
        if {target.inputs.get("vpcId"), target.inputs.get("peerVpcId")} != {to.id, local.id}:
            raise NoPathError(f"{who}: {target.name} does not join {local.name} and {to.name}")
        if not any(
            a.inputs.get("vpcPeeringConnectionId") == target.id and a.inputs.get("autoAccept") for a in graph.of_type(_ACCEPTER)
        ):
            raise NoPathError(f"{target.name} is never accepted: it stays pending-acceptance and carries nothing")
        hops.add(f"{target.name} (accepted)")
    return " / ".join(sorted(hops))


def _attached(graph: Graph, gateway: Registration, vpc: Vpc) -> Registration | None:
    attachments = [
        a
        for a in graph.of_type(_VPC_ATTACHMENT)
        if a.inputs.get("transitGatewayId") == gateway.id and a.inputs.get("vpcId") == vpc.id
    ]
    return attachments[0] if attachments else None


def _zones(graph: Graph, subnets: Iterable[str]) -> set[str]:
    return {str(graph.by_id[s].inputs.get("availabilityZoneId")) for s in subnets if s in graph.by_id}


def _through_transit(graph: Graph, gateway: Registration, subnets: Iterable[str], to: Vpc, local: Vpc, who: str) -> str:
    """A transit gateway carries traffic from ``local`` (entering in the subnets' zones) to ``to``."""
    attachment = _attached(graph, gateway, local)
    if attachment is None:
        raise NoPathError(f"{who}: {local.name} routes {to.cidr} to {gateway.name} but is not attached to it")
    missing = _zones(graph, subnets) - _zones(graph, attachment.inputs.get("subnetIds") or [])
    if missing:
        raise NoPathError(
            f"{who}: {attachment.name} has no subnet in {', '.join(sorted(missing))}: "
            f"traffic from there cannot enter {gateway.name}"
        )
    if _propagates_to(graph, gateway, to):
        return f"{gateway.name} (attachments propagate)"
    table = gateway.outputs.get("associationDefaultRouteTableId")
    routes = [
        r
        for r in graph.of_type(_TGW_ROUTE)
        if r.inputs.get("transitGatewayRouteTableId") == table
        and to.cidr.subnet_of(IPv4Network(str(r.inputs.get("destinationCidrBlock", "0.0.0.0/32"))))
    ]
    if not routes:
        raise NoPathError(f"{gateway.name}'s route table has no route to {to.cidr} (a peering's routes are never propagated)")
    best = max(routes, key=lambda r: IPv4Network(str(r.inputs["destinationCidrBlock"])).prefixlen)
    peering = graph.by_id.get(str(best.inputs.get("transitGatewayAttachmentId")))
    if peering is None or peering.type != _TGW_PEERING:
        raise NoPathError(f"{gateway.name} sends {to.cidr} to {best.name}, not over a transit gateway peering")
    ends = {peering.inputs.get("transitGatewayId"), peering.inputs.get("peerTransitGatewayId")}
    if gateway.id not in ends:
        raise NoPathError(f"{peering.name} does not attach {gateway.name}")
    if not any(a.inputs.get("transitGatewayAttachmentId") == peering.id for a in graph.of_type(_TGW_PEERING_ACCEPTER)):
        raise NoPathError(f"{peering.name} is never accepted: it stays pending-acceptance and carries nothing")
    (other_id,) = ends - {gateway.id}
    other = graph.by_id[str(other_id)]
    if not _propagates_to(graph, other, to):
        raise NoPathError(f"{other.name}, across {peering.name}, has no attachment of {to.name}")
    return f"{gateway.name} -> {peering.name} (accepted) -> {other.name}"


def _propagates_to(graph: Graph, gateway: Registration, vpc: Vpc) -> bool:
    """The gateway's default route table holds ``vpc``'s range: it is attached and attachments propagate."""
    return gateway.inputs.get("defaultRouteTablePropagation") == "enable" and _attached(graph, gateway, vpc) is not None


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
