"""Does each cross-cluster flow have a path in what the program registered?

Works on the recorded registrations the way AWS would route a packet: a pod's traffic leaves a
private subnet through the route table's default route to a NAT gateway and its Elastic IP; a
gateway node leaves with the pool address its boot script claims; an EKS public endpoint admits
a source only when its address lies in ``publicAccessCidrs``; a security group admits a packet
only through a rule whose protocol, ports and source match. Nothing here trusts how the program
meant to wire a flow: it follows ids from resource to resource.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.planning.flows import Flow, FlowKind, Route
from offline import private_path
from offline.graph import Graph, inside
from offline.harness import Registration

# One address from each of some of Route53's published health-checker ranges (ip-ranges.json,
# service ROUTE53_HEALTHCHECKS): us-east-1, eu-west-1, us-west-2, ap-southeast-1.
ROUTE53_CHECKERS = {"54.243.31.193", "176.34.159.193", "54.244.52.193", "54.255.254.193"}


@dataclass(frozen=True)
class Verdict:
    flow: Flow
    path: str | None
    """How the traffic gets there, or None."""
    problem: str = ""


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
    missing = sorted(ip for ip in addresses if not inside(ip, allowed))
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
