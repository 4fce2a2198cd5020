"""Everything a deploy of this stack would run into, proven from the config before any resource exists.

Three parts, each from the same pure models the components build from:

- every cross-cluster flow and the path it takes (an allow-list entry, the hub's peering, a
  prefix list, a security group); a flow with none is an error naming it;
- every hard limit (EKS public access CIDRs, rules per security group counting prefix lists'
  maxEntries, groups per interface and rules x groups, name lengths, weighted records per
  name): an error naming the resource, the limit, where the limit is documented and the fix;
- every adjustable quota the stack leans on, per region or account, counted from what the stack
  registers against AWS's default: a warning saying how to raise it, unless ``fleet:quotas``
  declares the account's raised value (an error when even that is too low).

``python -m plan`` prints it (text and ``--json``); ``__main__`` runs it before building anything,
so ``pulumi preview``/``up`` stop here with every problem at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..aws import ec2_quotas, instance_offerings
from ..aws.service_quotas import (
    EKS_PUBLIC_ACCESS_CIDRS_MAX,
    EKS_QUOTAS,
    EKS_SELF_RULES,
    GROUPS_QUOTA,
    QUOTAS,
    ROUTE53_QUOTAS,
    RULES_QUOTA,
    RULES_TIMES_GROUPS,
    VPC_QUOTAS,
    WEIGHTED_RECORDS_PER_NAME,
    Quota,
)
from ..config.errors import ConfigError
from ..config.model import FleetSpec, FlowLogDestination, WeightedRecord
from . import capacity, dns_answers, flows, gitops, instances, interconnect, naming, security_rules, submariner, workload_identity
from .flows import Flow, FlowKind, Route


@dataclass(frozen=True)
class FlowPath:
    flow: Flow
    path: str | None
    problem: str = ""


@dataclass(frozen=True)
class QuotaUse:
    quota: Quota
    region: str | None
    needed: int
    limit: int
    declared: bool

    @property
    def over_default(self) -> bool:
        return self.needed > self.quota.default

    def as_dict(self) -> dict[str, Any]:
        return {
            "quota": self.quota.key,
            "title": self.quota.title,
            "region": self.region,
            "needed": self.needed,
            "default": self.quota.default,
            "limit": self.limit,
            "declared": self.declared,
        }


@dataclass(frozen=True)
class GroupUse:
    """One security group's rule count as AWS counts it."""

    name: str
    region: str
    inbound: int
    outbound: int = 0


@dataclass
class Report:
    flows: list[FlowPath] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    allow_lists: dict[str, int] = field(default_factory=dict)
    """Per cluster with a public endpoint: entries in its publicAccessCidrs."""
    security_groups: list[GroupUse] = field(default_factory=list)
    quotas: list[QuotaUse] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors

    def largest_allow_list(self) -> tuple[str, int] | None:
        return max(self.allow_lists.items(), key=lambda kv: (kv[1], kv[0])) if self.allow_lists else None

    def largest_security_group(self) -> GroupUse | None:
        return max(self.security_groups, key=lambda g: (max(g.inbound, g.outbound), g.name)) if self.security_groups else None

    def quotas_to_raise(self) -> list[QuotaUse]:
        return [q for q in self.quotas if q.over_default]

    def as_dict(self) -> dict[str, Any]:
        largest = self.largest_security_group()
        return {
            "verdict": "pass" if self.passed else "fail",
            "errors": self.errors,
            "warnings": self.warnings,
            "flows": [
                {"flow": f.flow.name, "route": f.flow.route.value, "path": f.path, "problem": f.problem or None}
                for f in self.flows
            ],
            "allowLists": dict(sorted(self.allow_lists.items())),
            "largestSecurityGroup": {"name": largest.name, "inbound": largest.inbound, "outbound": largest.outbound}
            if largest
            else None,
            "quotas": [q.as_dict() for q in self.quotas],
        }


class PreflightError(ConfigError):
    """The stack would run into a limit or has a flow with no path. A RunError: no traceback."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        listing = "\n".join(f"  - {p}" for p in problems)
        self.args = (f"preflight failed ({len(problems)} {'problem' if len(problems) == 1 else 'problems'}):\n{listing}",)

    def __str__(self) -> str:
        return str(self.args[0])


def run(spec: FleetSpec) -> Report:
    """The preflight of a validated spec."""
    report = Report()
    fleet_flows = flows.fleet_flows(spec)
    report.flows = [_path(spec, f, fleet_flows) for f in fleet_flows]
    report.errors += [f"{f.flow.name}: no path: {f.problem}" for f in report.flows if f.path is None]
    _allow_lists(spec, fleet_flows, report)
    _joined_ranges(spec, report)
    _security_groups(spec, report)
    _names(spec, report)
    _weighted_records(spec, report)
    _quotas(spec, report)
    _vcpus(spec, report)
    _offerings(spec, report)
    _capacity(spec, report)
    report.warnings += [
        f"fleet:members: stack {name} joins this hub but is not listed, so its clusters are not registered in Argo CD "
        "(nor their peerings accepted)"
        for name in gitops.unlisted_members(spec)
    ]
    return report


# ------------------------------------------------------------------ flows


def _path(spec: FleetSpec, flow: Flow, fleet_flows: Iterable[Flow]) -> FlowPath:
    by_name = {c.name: c for c in spec.clusters}
    if flow.route in (Route.PEERING, Route.TRANSIT_GATEWAY):
        party = flows.hub_stack_party(spec.hub_stack.stack) if spec.hub_stack is not None else None
        plan = interconnect.plan_joined(spec) if flow.source == party else interconnect.plan_interconnect(spec)
        assert plan is not None
        spoke = flow.destination if flow.source in (plan.hub, party) else flow.source
        dns = f", {flow.destination}'s endpoint name forwarded by Route 53 Resolver" if plan.resolvers else ""
        how = (
            f"transit gateways of {', '.join(sorted({plan.hub_region, plan.spoke(spoke).region}))}" if plan.transit else "peering"
        )
        return FlowPath(flow, f"{how} {plan.hub} <-> {spoke} to {flow.destination}'s private endpoint on 443{dns}")
    if flow.to_api:
        if not spec.api_access_cidrs:
            if interconnect.plan_joined(spec) is not None:
                # Its clusters peer with the hub's VPC only, and AWS routes nothing onward through a peered VPC.
                fix = (
                    "this stack joins a hub that peers its members, so its clusters reach only the hub privately; "
                    "keep the public endpoints (fleet:apiAccessCidrs) for calls between its own clusters"
                )
            else:
                fix = "set fleet:interconnect.mode: peering"
            return FlowPath(
                flow,
                None,
                f"{flow.destination}'s endpoint is private-only (fleet:apiAccessCidrs: []) and fleet:interconnect.mode is none; "
                + fix,
            )
        source = by_name.get(flow.source)
        count = flows.egress_addresses(spec, source, flow.egress) if source else flows.foreign_hub_addresses(spec)
        kinds = "+".join(e.value for e in flow.egress)
        return FlowPath(flow, f"internet: {count} {kinds} addresses of {flow.source} on {flow.destination}'s publicAccessCidrs")
    if flow.kind is FlowKind.TUNNEL:
        tunnels = submariner.plan_clusterset(spec)
        assert tunnels is not None
        if tunnels.open_tunnels:
            return FlowPath(flow, f"internet: {flow.destination}'s gateway group admits the tunnel ports from anywhere")
        shards = security_rules.gateway_shards(tunnels, flow.destination)
        number = next(i for i, shard in enumerate(shards, start=1) if flow.source in {m.name for m in shard})
        return FlowPath(
            flow,
            f"internet: {flow.source}'s gateway pool in {flow.destination}'s peer prefix list {number} (gateway group {number})",
        )
    if flow.kind is FlowKind.EDGE_TO_PODS:
        return FlowPath(flow, f"{flow.destination}'s NLB group -> cluster security group on tcp/{flow.ports[0]}")
    return FlowPath(flow, f"Route 53 checkers -> {flow.destination}'s edge listener tcp/{flow.ports[0]} (open to the internet)")


def _allow_lists(spec: FleetSpec, fleet_flows: tuple[Flow, ...], report: Report) -> None:
    if not spec.api_access_cidrs:
        return  # private-only endpoints have no allow list
    for cluster in sorted(spec.clusters, key=lambda c: c.name):
        entries = flows.public_access_entries(spec, cluster.name, fleet_flows)
        report.allow_lists[cluster.name] = entries
        if entries > EKS_PUBLIC_ACCESS_CIDRS_MAX:
            sources = ", ".join(
                s.source
                for s in flows.api_sources(fleet_flows, cluster.name, keep_internet_path=spec.interconnect.keep_internet_path)
            )
            report.errors.append(
                f"{cluster.name} public API endpoint: needs {entries} publicAccessCidrs (fleet:apiAccessCidrs plus the "
                f"egress addresses of {sources}); limit {EKS_PUBLIC_ACCESS_CIDRS_MAX}, not adjustable ({EKS_QUOTAS}); "
                "fix: fleet:interconnect.mode: peering (API calls then take the hub's peering), fewer apiAccessCidrs, "
                "or natGateways: Single on the callers"
            )


def _joined_ranges(spec: FleetSpec, report: Report) -> None:
    """A stack joining a peered hub must not overlap any VPC of the hub's stack: AWS refuses to peer
    overlapping VPCs, and the hub routes to its own members and to ours by range."""
    plan, hub_spec = interconnect.plan_joined(spec), spec.joined_hub
    if plan is None or hub_spec is None or spec.hub_stack is None:
        return
    for i, cluster in enumerate(spec.clusters):
        for theirs in hub_spec.clusters:
            if cluster.vpc_cidr.overlaps(theirs.vpc_cidr):
                report.errors.append(
                    f"fleet:clusters[{i}].vpcCidr: {cluster.vpc_cidr} overlaps {theirs.name} ({theirs.vpc_cidr}) of "
                    f"{spec.hub_stack.stack}, whose hub this stack joins over VPC peering; AWS refuses to peer "
                    "overlapping VPCs and the hub routes to every member by its range; fix: a distinct vpcCidr"
                )


# ------------------------------------------------------------------ security groups


def _owned_edges(spec: FleetSpec) -> set[str]:
    """Clusters with an NLB of the program's own (each has a listener group, a rule and a health check)."""
    return {f.destination for f in flows.fleet_flows(spec) if f.kind is FlowKind.EDGE_TO_PODS}


def security_group_uses(spec: FleetSpec) -> list[GroupUse]:
    """Every security group the stack creates or adds rules to, with its rules as AWS counts them."""
    plan = submariner.plan_clusterset(spec)
    private = interconnect.plan_interconnect(spec)
    members = {m.name for m in plan.members} if plan else set()
    owned_edges = _owned_edges(spec)
    groups: list[GroupUse] = []
    for cluster in sorted(spec.clusters, key=lambda c: c.name):
        name, region = cluster.name, cluster.region
        routed = security_rules.routed_rules(plan, name) if plan and name in members else ()
        api = security_rules.api_rules(private, name, routed) if private else ()
        edge = 1 if name in owned_edges else 0
        groups.append(GroupUse(f"{name} cluster security group", region, EKS_SELF_RULES + edge + len(routed) + len(api)))
        if edge:
            groups.append(GroupUse(f"{name} edge NLB group", region, 1, 1))
        if plan and name in members:
            for number, _ in enumerate(security_rules.gateway_shards(plan, name), start=1):
                groups.append(GroupUse(f"{name} gateway group {number}", region, security_rules.shard_max_entries(plan)))
            if plan.open_tunnels:
                groups.append(GroupUse(f"{name} gateway group", region, len(security_rules.open_tunnel_rules(plan))))
        if private and private.resolvers and (name == private.hub or name in {s.name for s in private.spokes}):
            hub = name == private.hub
            if (hub and private.hub_is_called) or (not hub and private.spoke(name).argocd):
                groups.append(
                    GroupUse(f"{name} inbound resolver group", region, len(security_rules.resolver_inbound_rules(private, name)))
                )
            if (hub and private.hub_calls_out) or (not hub and private.spoke(name).broker_client):
                outbound = len(security_rules.resolver_outbound_rules(private, name))
                groups.append(GroupUse(f"{name} outbound resolver group", region, 0, outbound))
    return groups


def _security_groups(spec: FleetSpec, report: Report) -> None:
    report.security_groups = security_group_uses(spec)
    for group in report.security_groups:
        limit = _limit(spec, RULES_QUOTA, group.region)
        for direction, count in (("inbound", group.inbound), ("outbound", group.outbound)):
            if count > limit:
                report.errors.append(
                    f"{group.name} ({group.region}): {count} {direction} rules, counting each prefix list as its maxEntries; "
                    f"limit {limit} ({VPC_QUOTAS}, {RULES_QUOTA.code}); fix: fleet:submariner.globalnet: true or VPC and "
                    "service ranges from contiguous blocks (rules from many peers collapse to one per block), or "
                    + RULES_QUOTA.how_to_raise(group.region, count)
                )
    plan = submariner.plan_clusterset(spec)
    regions = {c.region for c in spec.clusters}
    for region in sorted(regions):
        rules, per_interface = _limit(spec, RULES_QUOTA, region), _limit(spec, GROUPS_QUOTA, region)
        if rules * per_interface > RULES_TIMES_GROUPS:
            report.errors.append(
                f"{region}: fleet:quotas declares {rules} rules per group x {per_interface} groups per interface = "
                f"{rules * per_interface}; AWS caps the product at {RULES_TIMES_GROUPS} ({VPC_QUOTAS}); "
                "fix: lower one of the two declared values to what the account really has"
            )
    if plan is None:
        return
    for member in plan.members:
        attached = security_rules.gateway_groups_per_interface(plan, member.name)
        limit = _limit(spec, GROUPS_QUOTA, member.region)
        if attached > limit:
            report.errors.append(
                f"{member.name} gateway nodes' interface: {attached} security groups (the cluster group and one per "
                f"{security_rules.peers_per_shard(plan)} peers); limit {limit} ({VPC_QUOTAS}, {GROUPS_QUOTA.code}); "
                "fix: fewer clusterset members (fleet:submariner.clusters), fleet:submariner.gatewayPeers: anywhere "
                "(one group whatever the fleet's size), or " + GROUPS_QUOTA.how_to_raise(member.region, attached)
            )


# ------------------------------------------------------------------ names and records


def explicit_names(spec: FleetSpec) -> list[tuple[str, str, int]]:
    """(resource, physical name, limit) for every name the program sets itself, suffixes included."""
    names: list[tuple[str, str, int]] = []
    suffix = "x" * naming.NAME_PREFIX_SUFFIX
    limits = naming.NAME_LIMITS
    for cluster in spec.clusters:
        names.append((f"{cluster.name} EKS cluster", cluster.name, 100))
        names.append(
            (f"{cluster.name} node role", naming.role_name_prefix(f"{cluster.name}-node") + suffix, limits["aws:iam/role:Role"])
        )
        for group in cluster.node_groups:
            prefix = naming.node_group_name_prefix(cluster.name, group.name)
            names.append((f"{cluster.name}/{group.name} node group", prefix + suffix, limits["eks:index:ManagedNodeGroup"]))
        edge = cluster.edge.ingress
        names.append(
            (f"{cluster.name} edge NLB", naming.load_balancer_name(cluster.name), limits["aws:lb/loadBalancer:LoadBalancer"])
        )
        names.append(
            (f"{cluster.name} edge target group", naming.target_group_name(cluster.name, edge.effective_target_port), 32)
        )
    return names


def _names(spec: FleetSpec, report: Report) -> None:
    for resource, name, limit in explicit_names(spec):
        if len(name) > limit:
            report.errors.append(
                f"{resource}: name {name!r} is {len(name)} characters; limit {limit}; fix: a shorter cluster name"
            )


def _weighted_records(spec: FleetSpec, report: Report) -> None:
    if spec.dns is None:
        return
    for record in spec.dns.records:
        if isinstance(record, WeightedRecord) and len(record.targets()) > WEIGHTED_RECORDS_PER_NAME:
            report.errors.append(
                f"fleet:dns.records ({record.name}): {len(record.targets())} weighted records; limit "
                f"{WEIGHTED_RECORDS_PER_NAME} per name and type ({ROUTE53_QUOTAS}); fix: split the name"
            )


# ------------------------------------------------------------------ quotas


def _limit(spec: FleetSpec, quota: Quota, region: str | None) -> int:
    declared = _declared(spec, quota, region)
    return declared if declared is not None else quota.default


def _declared(spec: FleetSpec, quota: Quota, region: str | None) -> int | None:
    field_name = "".join("_" + c.lower() if c.isupper() else c for c in quota.key)
    if region is None:
        return getattr(spec.quotas.account, field_name, None)
    declared = spec.quotas.regions.get(region)
    return getattr(declared, field_name, None) if declared is not None else None


# Quotas of one VPC or its route tables: for the hub's VPC they count the joining stacks' clusters
# too, and its own stack's declared values limit them, whichever stack is deployed.
HUB_VPC_QUOTAS = ("peeringConnectionsPerVpc", "routesPerRouteTable")
THIS_STACK = "this stack"


@dataclass(frozen=True)
class HubVpcUse:
    """What the interconnect hub's VPC holds: its own stack's spokes plus every joining stack's clusters."""

    owner: FleetSpec
    """The hub stack's config: its fleet:quotas limit the hub's VPC."""
    hub: str
    region: str
    peerings: int
    """Active peering connections on the hub's VPC."""
    routes: int
    """Routes in each of the hub's route tables (the default route included)."""
    joined: dict[str, int]
    """Per joining stack (this one as THIS_STACK), its clusters peered with the hub's VPC."""


def hub_vpc_use(spec: FleetSpec) -> HubVpcUse | None:
    """The hub VPC's peerings and routes, from the hub stack's own plan and every stack joining it
    (this project's stack files, hub_stack.joining_stacks); None when no private path reaches a hub."""
    if spec.hub_stack is not None:
        if spec.joined_hub is None or interconnect.plan_joined(spec) is None:
            return None
        owner, joiners = spec.joined_hub, {**spec.joined_hub.joining_stacks, THIS_STACK: spec}
    else:
        owner, joiners = spec, spec.joining_stacks
    private = interconnect.plan_interconnect(owner)
    if private is None:
        return None
    # A joining stack peers each of its clusters with the hub's VPC (interconnect.plan_joined).
    joined = {name: len(j.clusters) for name, j in sorted(joiners.items())} if private.argocd_hub else {}
    # The hub's tables route each member's range in either mode, under one name, so that a mode switch
    # changes targets in place (resources/interconnect.py); only peering holds connections.
    own_routes = len(private.spokes)
    own_peerings = 0 if private.transit else own_routes
    others = sum(joined.values())
    return HubVpcUse(owner, private.hub, private.hub_region, own_peerings + others, 1 + own_routes + others, joined)


def quota_needs(spec: FleetSpec) -> list[tuple[str, str | None, int]]:
    """(quota key, region or None for the account, what this stack registers against it); for the
    hub's VPC (HUB_VPC_QUOTAS), what it holds from every stack."""
    plan = submariner.plan_clusterset(spec)
    private = interconnect.plan_interconnect(spec)
    members = {m.name for m in plan.members} if plan else set()
    owned_edges = _owned_edges(spec)
    per_region: dict[str, Counter[str]] = {}
    for cluster in spec.clusters:
        count = per_region.setdefault(cluster.region, Counter())
        pool = plan.pool_addresses if plan and cluster.name in members else 0
        count["elasticIps"] += flows.nat_addresses(cluster) + pool
        count["vpcs"] += 1
        count["internetGateways"] += 1
        # Zones are chosen in the same order for every cluster of a region: the first zone holds a
        # NAT gateway of each of them, single or one per AZ.
        count["natGatewaysPerAz"] += 1
        count["networkLoadBalancers"] += 1 if cluster.name in owned_edges else 0
        if plan is not None and cluster.name in members:
            # Its peers' routed ranges in one list (if it has peers), and one list per gateway shard.
            count["prefixListsPerRegion"] += int(bool(security_rules.routed_rules(plan, cluster.name)))
            count["prefixListsPerRegion"] += len(security_rules.gateway_shards(plan, cluster.name))
    if private is not None:
        hub = per_region[private.hub_region]
        if private.transit:
            # One transit gateway per region, every other region's peered with the hub's.
            for region in private.regions:
                per_region[region]["transitGateways"] += 1
            hub["transitGatewayPeeringAttachments"] = len(private.regions) - 1
        if private.resolvers:
            hub["resolverEndpoints"] += int(private.hub_is_called) + int(private.hub_calls_out)
            for spoke in private.spokes:
                per_region[spoke.region]["resolverEndpoints"] += int(spoke.argocd) + int(spoke.broker_client)
        elif interconnect.hub_forwards_for_members(spec):
            hub["resolverEndpoints"] += 1  # the outbound endpoint forwarding member stacks' names
    joined = interconnect.plan_joined(spec)
    if joined is not None and joined.resolvers:
        # A joining stack answers the hub's queries for its endpoints from an inbound endpoint in its own VPC.
        for spoke in joined.spokes:
            per_region[spoke.region]["resolverEndpoints"] += 1
    if (vpc := hub_vpc_use(spec)) is not None:
        per_region.setdefault(vpc.region, Counter())["peeringConnectionsPerVpc"] = vpc.peerings
        per_region[vpc.region]["routesPerRouteTable"] = vpc.routes
    needs: list[tuple[str, str | None, int]] = [
        (key, region, n) for region, counter in sorted(per_region.items()) for key, n in sorted(counter.items()) if n
    ]
    # Per edge one check; with ARC two more (its routing control's, and the two combined).
    checks_per_edge = 3 if spec.dns is not None and spec.dns.arc else 1
    needs.append(("route53HealthChecks", None, len(owned_edges) * checks_per_edge if spec.dns is not None else 0))
    # One per cluster, only while IRSA is in use (fleet:workloadIdentity): Pod Identity needs none.
    needs.append(("iamOidcProviders", None, len(spec.clusters) if workload_identity.uses_irsa(spec.workload_identity) else 0))
    needs.append(("iamRoles", None, iam_roles(spec, owned_edges, members)))
    return [n for n in needs if n[2]]


PULUMI_EKS_ROLES_PER_CLUSTER = 1
"""Roles pulumi-eks creates inside each eks.Cluster (the service role; no instance role, as the program
skips the default node group and gives node groups their role). The mocks cannot see inside it."""


def iam_roles(spec: FleetSpec, owned_edges: set[str], members: set[str]) -> int:
    """The IAM roles the stack creates: per cluster the control plane's service role (pulumi-eks makes it
    inside eks.Cluster when no serviceRole is given: nodejs/eks/cluster/cluster.ts, `${name}-eksRole`),
    its node role, the cluster-autoscaler's and EBS CSI driver's (when on), the load balancer controller's
    (an owned edge), the flow logs' (to CloudWatch) and a Submariner gateway node role (a clusterset
    member); and Argo CD's on a hub."""
    count = int(spec.argocd is not None)
    for cluster in spec.clusters:
        count += PULUMI_EKS_ROLES_PER_CLUSTER + 1 + int(cluster.addons.autoscaler) + int(cluster.addons.ebs_csi)
        count += int(cluster.name in owned_edges) + int(cluster.name in members)
        count += int(spec.flow_logs.destination is FlowLogDestination.CLOUDWATCH)
    return count


def _quotas(spec: FleetSpec, report: Report) -> None:
    vpc = hub_vpc_use(spec)
    if vpc is not None:
        report.warnings += [
            f"{problem}: a stack joining {vpc.hub}'s hub there would not be counted in its VPC's quotas"
            for problem in vpc.owner.joining_unread
        ]
    for key, region, needed in quota_needs(spec):
        quota = QUOTAS[key]
        hub_vpc = vpc is not None and key in HUB_VPC_QUOTAS
        declared = _declared(vpc.owner if vpc is not None and hub_vpc else spec, quota, region)
        limit = declared if declared is not None else quota.default
        use = QuotaUse(quota, region, needed, limit, declared is not None)
        report.quotas.append(use)
        where = region or "account"
        if needed <= limit:
            continue
        message = f"{where}: {quota.title}: the stack needs {needed}"
        if vpc is not None and hub_vpc:
            shares = ", ".join(f"{n} of {name}" for name, n in vpc.joined.items())
            message = (
                f"{where}: {quota.title}: the hub's VPC ({vpc.hub}) needs {needed}"
                + (f", joining stacks' clusters included ({shares})" if shares else "")
                + " (its stack's fleet:quotas declare the limit)"
            )
        if declared is not None:
            report.errors.append(
                f"{message}, fleet:quotas declares {declared}; fix: raise it further and declare the new value, "
                "or shrink the fleet in this region"
            )
        else:
            report.warnings.append(
                f"{message}, AWS's default is {quota.default} (other stacks in the account, and a default VPC, count too); "
                + quota.how_to_raise(region, needed)
            )


def _vcpus(spec: FleetSpec, report: Report) -> None:
    """Every group at maxSize against its region's vCPU quota of its class (ec2_quotas): a launch past it
    fails with VcpuLimitExceeded and the group stays short, while the deploy reports success."""
    needs, unknown = instances.vcpu_needs(spec)
    for need in needs:
        kind, key = ("Spot", "spotVcpus") if need.spot else ("On-Demand", "onDemandVcpus")
        facts = ec2_quotas.VCPU_QUOTAS[need.klass]
        quota = Quota(f"{key}.{need.klass}", f"{kind} {facts.title} (vCPUs)", facts.default, "region", "ec2", need.code)
        limit, is_declared = instances.vcpu_limit(spec, need.region, need.klass, need.spot)
        declared = limit if is_declared else None
        report.quotas.append(QuotaUse(quota, need.region, need.vcpus, limit, is_declared))
        if need.vcpus <= limit:
            continue
        message = (
            f"{need.region}: {quota.title}: {', '.join(need.groups)} at maxSize, with EKS's update surge, need "
            f"{need.vcpus} vCPUs "
            f"({quota.code}; a launch past it fails with VcpuLimitExceeded and the group stays short)"
        )
        if declared is not None:
            report.errors.append(
                f"{message}, fleet:quotas declares {declared}; fix: raise it and declare the new value, or lower maxSize"
            )
        else:
            report.warnings.append(
                f"{message}, AWS's default is {facts.default} (the account's applied value may be higher: aws service-quotas "
                f"get-service-quota --service-code ec2 --quota-code {quota.code} --region {need.region}); "
                + quota.how_to_raise(need.region, need.vcpus)
            )
    report.warnings += [
        f"{path}: an instance type EC2 did not describe (components/aws/ec2_sizes.py): its vCPUs are not counted"
        for path in unknown
    ]


def _offerings(spec: FleetSpec, report: Report) -> None:
    """Instance types in the zones of each group's subnets (instance_offerings): EKS refuses to create
    a managed node group with a type one of its subnets' zones does not offer (CreateNodegroup: 400
    InvalidRequestException, "Your requested instance type (...) is not supported in your requested
    Availability Zone (...)"; awslabs/ec2-spot-workshops#154, eksctl-io/eksctl#6461), after the
    cluster is built: the deploy stops halfway."""
    by_group: dict[str, list[instances.Offering]] = {}
    for gap in instances.offering_gaps(spec):
        by_group.setdefault(gap.group.path, []).append(gap)
    for path, gaps in sorted(by_group.items()):
        group = gaps[0].group
        listing = "; ".join(
            f"{gap.instance_type} not offered in "
            + ("the region" if len(gap.missing_zones) == len(group.zones) else ", ".join(gap.missing_zones))
            for gap in gaps
        )
        report.errors.append(
            f"{path} ({group.cluster.name}/{group.name}, {group.cluster.region}, zones {', '.join(group.zones)}): {listing} "
            f"(components/aws/instance_offerings.py, {instance_offerings.SNAPSHOT}; check live with aws ec2 "
            "describe-instance-type-offerings); EKS refuses to create a node group with a type a zone of its subnets "
            "lacks: pick types every zone offers, or another region"
        )
    for region in sorted({c.region for c in spec.clusters} - set(instance_offerings.regions())):
        report.warnings.append(
            f"{region}: components/aws/instance_offerings.py has no offerings for this region: its instance types are "
            "not checked (aws ec2 describe-instance-type-offerings --location-type availability-zone-id)"
        )


def text(checked: dict[str, Any]) -> str:
    """The preflight (``Report.as_dict()``) as an operator reads it."""
    lines = [f"Preflight: {checked['verdict']}"]
    lines += [f"  error: {e}" for e in checked["errors"]]
    lines += [f"  warning: {w}" for w in checked["warnings"]]
    if checked["allowLists"]:
        cluster, entries = max(checked["allowLists"].items(), key=lambda kv: (kv[1], kv[0]))
        lines.append(f"  largest allow list: {cluster}, {entries} of {EKS_PUBLIC_ACCESS_CIDRS_MAX} publicAccessCidrs")
    if group := checked["largestSecurityGroup"]:
        rules = max(group["inbound"], group["outbound"])
        lines.append(f"  largest security group: {group['name']}, {rules} rules (default limit {RULES_QUOTA.default})")
    for quota in checked["quotas"]:
        state = "declared" if quota["declared"] else "AWS default"
        lines.append(
            f"  quota {quota['region'] or 'account'} {quota['quota']}: needs {quota['needed']} of {quota['limit']} ({state})"
        )
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ capacity after a region failure


def _capacity(spec: FleetSpec, report: Report) -> None:
    """fleet:dns.survive: for every such set of regions failing, the clusters that answer instead carry the load."""
    count = capacity.survive_regions(spec)
    if count == 0 or spec.dns is None:
        return
    served = spec.served_clusters() - spec.drained_clusters
    regions = sorted({c.region for c in spec.clusters if c.name in served})
    if count >= len(regions):
        report.errors.append(
            f"fleet:dns.survive: {count} region(s) may fail, but the names are served from {len(regions)}; "
            "serve them from more regions or lower survive"
        )
        return
    regions_of = {c.name: c.region for c in spec.clusters}
    drained = frozenset(spec.drained_clusters)
    for failed, _ in capacity.region_failures(spec):
        down = {c.name for c in spec.clusters if c.region in failed}
        for record in spec.dns.records:
            if dns_answers.unanswered(record, regions_of, down, drained) > 0.0001:
                report.warnings.append(
                    f"fleet:dns.survive: with {', '.join(failed)} down, {record.name} leaves the clients of its locations "
                    "there without an answer (a geolocation default in the failed region answers no one): point "
                    "default at a cluster in another region"
                )
    for failed, found in capacity.region_failures(spec):
        for key, short in sorted(found.short().items()):
            load, cap = found.load[key], found.capacity[key]
            assert cap is not None
            quota = found.quota_share.get(key, 1.0)
            limit = f", {quota:.0%} of it within the account's vCPU quota" if quota < 1.0 else ""
            report.errors.append(
                f"fleet:dns.survive: with {', '.join(failed)} down, {capacity.label(key)} must carry {load.vcpu:g} vCPU and "
                f"{load.memory_gib:g} GiB of {key[1]} pods but its on-demand, untainted {key[1]} nodes allocate "
                f"{cap.vcpu:g} vCPU and {cap.memory_gib:g} GiB at maxSize{limit}; short by {short.vcpu:g} vCPU and "
                f"{short.memory_gib:g} GiB; fix: raise maxSize of such a group (or add one) there"
                + ("; raise the vCPU quota too" if quota < 1.0 else "")
            )
        for cluster in found.unknown:
            report.warnings.append(
                f"fleet:dns.survive: with {', '.join(failed)} down, {cluster}'s capacity is unknown (an instance type "
                "EC2 did not describe, components/aws/ec2_sizes.py): the verdict is not checked there"
            )
