"""Turns a validated FleetSpec into regional clusters, their providers and the fleet outputs."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..aws import arc, cidr, eks_releases, identifiers, zones
from ..config.errors import ConfigError, config_path
from ..config.model import FleetSpec, WorkloadIdentity
from ..planning import cells, flows, identity, interconnect, kubeconfig, naming, security_rules, upgrades, workload_identity
from ..planning import gitops as gitops_plan
from ..planning.cell_trust import GENERATED_PSK_LENGTH
from ..planning.gitops import REGISTRATION_OUTPUT
from ..planning.submariner import ClusterSet, plan_clusterset
from ..planning.trust import HUB_EGRESS_KEY, HUB_OUTPUT, INTERCONNECT_OUTPUT
from . import interconnect_transit, providers
from .cell_reads import CellReads, read_cells
from .cluster import RegionalCluster, RegionalClusterArgs
from .cluster_addons import ClusterAddons, ClusterAddonsArgs
from .dns import EdgeEndpoint, GlobalTraffic, GlobalTrafficArgs, describe_target
from .dns_edge import RegionalEdge, RegionalEdgeArgs
from .gitops_wiring import GitOps, build_gitops
from .interconnect import (
    ClusterEnd,
    ForeignNetwork,
    InterconnectHub,
    InterconnectHubArgs,
    InterconnectLink,
    InterconnectLinkArgs,
    InterconnectPulledLink,
    InterconnectPulledLinkArgs,
)
from .interconnect_transit import RegionalTransitGateway, RegionalTransitGatewayArgs
from .network import ClusterNetwork, ClusterNetworkArgs
from .recovery import RecoveryControls, RecoveryControlsArgs
from .stack_reads import OtherStacks, describe_cluster, read_other_stacks
from .submariner import BrokerCredential, SubmarinerBroker, SubmarinerBrokerArgs, SubmarinerMember, SubmarinerMemberArgs

# Route53 is a global service whose API lives in us-east-1.
ROUTE53_REGION = "us-east-1"


@dataclass(frozen=True)
class Fleet:
    spec: FleetSpec
    aws_providers: dict[str, aws.Provider]
    clusters: dict[str, RegionalCluster]
    kubernetes_providers: dict[str, k8s.Provider]
    kubeconfig: pulumi.Output[str]
    edges: dict[str, EdgeEndpoint]
    traffic: GlobalTraffic | None
    clusterset: ClusterSet | None
    gitops: GitOps | None
    interconnect_hub: InterconnectHub | None = None
    networks: dict[str, ClusterNetwork] | None = None
    recovery: RecoveryControls | None = None
    addon_versions: dict[str, dict[str, pulumi.Output[str]]] | None = None
    """Per cluster, each EKS add-on's resolved version (components/aws/eks_addons.py)."""
    cell_reads: CellReads | None = None
    """A cell's reads of the other cells (planning/cells.py); None for a whole-environment stack."""
    broker: SubmarinerBroker | None = None
    psk: pulumi.Output[str] | None = None

    def summaries(self) -> dict[str, Any]:
        """The ``clusters`` stack output: what each cluster is and where it lives."""
        summary: dict[str, Any] = {}
        for cluster_spec in sorted(self.spec.clusters, key=lambda c: c.name):
            if cluster_spec.name not in self.clusters:
                continue
            cluster = self.clusters[cluster_spec.name]
            summary[cluster_spec.name] = {
                "region": cluster_spec.region,
                "role": cluster_spec.role,
                "version": self.spec.version_of(cluster_spec),
                "endpoint": cluster.endpoint,
                "vpcId": cluster.vpc_id,
                "vpcCidr": str(cluster_spec.vpc_cidr),
                "serviceCidr": str(cluster_spec.service_cidr),
                "labels": dict(cluster_spec.labels),
                "nodeGroups": sorted(g.name for g in cluster_spec.node_groups),
                # Every EKS add-on at the build it runs: the pinned ones of the minor, and the rest as resolved.
                "addons": {
                    "kube-proxy": eks_releases.RELEASES[self.spec.version_of(cluster_spec)].kube_proxy,
                    "vpc-cni": eks_releases.RELEASES[self.spec.version_of(cluster_spec)].vpc_cni,
                    "coredns": eks_releases.RELEASES[self.spec.version_of(cluster_spec)].coredns,
                    **(self.addon_versions or {}).get(cluster_spec.name, {}),
                },
            }
        return summary

    def dns_summary(self) -> dict[str, Any]:
        """The ``dns`` stack output: per record its routing and targets."""
        if self.spec.dns is None:
            return {}
        regions = {c.name: c.region for c in self.spec.clusters}
        summary: dict[str, Any] = {}
        for record in sorted(self.spec.dns.records, key=lambda r: r.name):
            serving = [t for t in self.spec.serving_targets(record) if t.cluster in self.clusters]
            drained = sorted({t.cluster for t in record.targets() if t.cluster in self.clusters} - {t.cluster for t in serving})
            if not serving and not drained:
                continue  # a cell's output names its own sets only
            summary[record.name] = {
                "routing": record.routing,
                "targets": [describe_target(record, target, regions[target.cluster]) for target in serving],
                **({"drained": drained} if drained else {}),
                # A fronted name is one alias; its sets live at the routing's own name.
                **({"front": True, "routedName": record.routed_name} if record.front else {}),
            }
        return summary

    def clusterset_summary(self) -> dict[str, Any]:
        """The ``clusterset`` stack output: broker, cable driver, and per member its ids, ranges and gateways."""
        if self.clusterset is None:
            return {}
        summary = self.clusterset.summary()
        for name, member in summary["members"].items():
            if name in self.clusters:
                member["gatewayIps"] = self.clusters[name].gateway_public_ips
        if self.cell_reads is not None:
            summary["members"] = {n: m for n, m in summary["members"].items() if n in self.clusters}
            summary["waitingFor"] = list(self.cell_reads.waiting)
        return summary

    def cell_exports(self) -> dict[str, Any]:
        """What a cell exports for the other cells of its environment (planning/cells.py): on the broker's cell,
        the broker's server, per-member credentials and the PSK (the members' addresses come from EC2)."""
        if self.cell_reads is None or self.clusterset is None or self.networks is None:
            return {}
        name = self.cell_reads.cluster
        if name not in {m.name for m in self.clusterset.members}:
            return {}
        exports: dict[str, Any] = {}
        if self.broker is not None and self.psk is not None:
            broker = self.broker
            exports[cells.BROKER_OUTPUT] = pulumi.Output.secret(
                {
                    "cluster": name,
                    "server": broker.server,
                    "psk": self.psk,
                    "credentials": {m: {"token": c.token, "ca": c.ca} for m, c in sorted(broker.credentials.items())},
                }
            )
        return exports

    def hub_exports(self) -> dict[str, Any]:
        """What the other side of fleet:hub reads from this stack: a hub's Argo CD role and network,
        or a member's registration (gitops.REGISTRATION_OUTPUT), which the hub stack pulls."""
        if self.gitops is not None and self.gitops.registration is not None:
            return {REGISTRATION_OUTPUT: self.gitops.registration}
        if self.gitops is None or self.gitops.hub is None:
            return {}
        hub = self.clusters[self.gitops.hub_name]
        exports = dict(self.gitops.hub_exports(hub.nat_public_ips))
        if self.interconnect_hub is not None and self.networks is not None:
            network = self.networks[self.gitops.hub_name]
            # Only what a joining stack's peering request needs: the hub's side is built here.
            exports[INTERCONNECT_OUTPUT] = {"region": hub.region, "vpcId": network.vpc_id, "vpcCidr": str(network.vpc_cidr)}
        return exports

    def arc_summary(self) -> dict[str, Any]:
        """The ``arc`` stack output (fleet:dns.arc): what python -m deploy failover flips, and where."""
        if self.recovery is None:
            return {}
        return {
            "clusterArn": self.recovery.cluster.arn,
            "clusterEndpoints": self.recovery.cluster.cluster_endpoints,
            "controlPanelArn": self.recovery.panel_arn,
            "routingControls": self.recovery.routing_controls,
            "safetyRules": self.recovery.safety_rule_arns,
        }

    def edge_summary(self) -> dict[str, Any]:
        """The ``edges`` stack output: per serving cluster its hostname and health check."""
        checks = self.traffic.health_check_ids if self.traffic else {}
        return {
            cluster: {
                "region": edge.region,
                "hostname": edge.hostname,
                "zoneId": edge.zone_id,
                "owned": edge.owned,
                "healthCheckId": checks[cluster],
            }
            for cluster, edge in sorted(self.edges.items())
        }


def _zone_table(provider: aws.Provider) -> tuple[list[str], list[str]]:
    """(names, zone IDs) of the region's zones that are available, need no opt-in and that EKS accepts."""
    found = aws.get_availability_zones(
        state="available",
        exclude_zone_ids=list(zones.EKS_UNSUPPORTED_ZONE_IDS),
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
        opts=pulumi.InvokeOptions(provider=provider),
    )
    return list(found.names), list(found.zone_ids)


def _availability_zones(
    spec: FleetSpec, aws_providers: dict[str, aws.Provider], built: set[str]
) -> dict[str, tuple[zones.Zone, ...]]:
    """Each built cluster's zones: the first N by zone ID that are available, need no opt-in and that EKS accepts."""
    by_region = {region: _zone_table(provider) for region, provider in aws_providers.items()}
    problems = []
    chosen: dict[str, tuple[zones.Zone, ...]] = {}
    for i, cluster in enumerate(spec.clusters):
        if cluster.name not in built:
            continue
        try:
            chosen[cluster.name] = zones.choose_zones(*by_region[cluster.region], cluster.availability_zones)
        except ValueError as exc:
            problems.append(f"{config_path(('clusters', i, 'availabilityZones'))}: {cluster.region}: {exc}")
    if problems:
        raise ConfigError(problems)
    return chosen


def _deploying_principal(provider: aws.Provider) -> tuple[str, str]:
    """(account id, IAM principal ARN) of whoever runs this deployment; for an assumed role, the role's ARN."""
    invoke = pulumi.InvokeOptions(provider=provider)
    caller = aws.get_caller_identity(opts=invoke)
    return caller.account_id, aws.iam.get_session_context(arn=caller.arn, opts=invoke).issuer_arn


def _refuse_other_deployers(spec: FleetSpec, caller: str) -> None:
    """Only fleet:deployer runs this stack: checked before any cloud resource is registered (only the
    providers the identity lookup needs exist by then), so another identity changes nothing."""
    stack = cells.environment_of(pulumi.get_stack())
    if problem := identity.caller_problem(spec, caller, stack, preview=pulumi.runtime.is_dry_run()):
        raise ConfigError([problem])


def _running_versions(
    spec: FleetSpec, aws_providers: dict[str, aws.Provider], built: set[str], modes: dict[str, WorkloadIdentity] | None = None
) -> tuple[dict[str, str], list[str]]:
    """The Kubernetes version of each of the stack's clusters that exists (DescribeCluster; a cluster
    EKS does not know is not created yet), and the clusters EKS would not describe: EKS moves control
    planes by itself at the end of support, and the config must not ask to move one back or skip a minor."""
    running: dict[str, str] = {}
    problems: list[str] = []
    for i, cluster in sorted(enumerate(spec.clusters), key=lambda entry: entry[1].name):
        if cluster.name not in built:
            continue
        found, error = describe_cluster(cluster.name, aws_providers[cluster.region])
        if error is not None:
            problems.append(
                f"fleet:clusters[{i}]: cannot describe {cluster.name} in {cluster.region} (eks:DescribeCluster, which "
                f"every preview and deploy needs to compare the config with the version it runs): {error}"
            )
        elif found is not None and found.version:
            running[cluster.name] = found.version
            if modes is not None:
                modes[cluster.name] = workload_identity.running_mode(found.tags)
    return running, problems


def build_fleet(spec: FleetSpec, cell: str | None = None) -> Fleet:
    """The fleet of ``spec``; for a cell (planning/cells.py), only cluster ``cell`` and what is its alone,
    with what it needs of the other cells read from their outputs."""
    environment = cells.environment_of(pulumi.get_stack())
    built = sorted((c for c in spec.clusters if cell is None or c.name == cell), key=lambda c: c.name)
    in_scope = {c.name for c in built}
    joined = interconnect.plan_joined(spec)
    regions = [c.region for c in built] + ([ROUTE53_REGION] if spec.dns else [])
    regions += [arc.CONTROL_REGION] if spec.dns is not None and spec.dns.arc else []
    preview = pulumi.runtime.is_dry_run()
    aws_providers = providers.aws_providers(regions, spec.account, spec.acting_role(preview))
    account_id, caller = _deploying_principal(aws_providers[sorted(regions)[0]])
    _refuse_other_deployers(spec, caller)
    modes: dict[str, WorkloadIdentity] = {}
    running, unreadable = _running_versions(spec, aws_providers, in_scope, modes)
    problems = unreadable + upgrades.running_version_problems(spec, running, environment)
    if problems := problems + workload_identity.transition_problems(spec.workload_identity, modes):
        raise ConfigError(problems)
    chosen_zones = _availability_zones(spec, {c.region: aws_providers[c.region] for c in built}, in_scope)
    clusterset = plan_clusterset(spec)
    members = {m.name for m in clusterset.members} if clusterset else set()
    # Other stacks' outputs, checked against this stack's config before any cloud resource exists.
    others = read_other_stacks(spec, aws_providers, account_id, preview)
    reads = (
        read_cells(spec, environment, cell, clusterset, aws_providers[built[0].region], running=cell in running)
        if cell is not None
        else None
    )
    for waiting in reads.waiting if reads is not None else ():
        pulumi.log.warn(
            f"cell {waiting} has not deployed yet: what this cell needs of it (the clusterset's broker, its addresses) "
            "comes in the join round (python -m deploy.order)"
        )

    # Every VPC first: each cluster's API allow list names other clusters' egress addresses, in both
    # directions (the hub reaches members, members reach the broker on the hub).
    networks: dict[str, ClusterNetwork] = {}
    for cluster_spec in built:
        networks[cluster_spec.name] = ClusterNetwork(
            f"{cluster_spec.name}-network",
            ClusterNetworkArgs(
                cluster_name=cluster_spec.name,
                region=cluster_spec.region,
                account_id=account_id,
                vpc_cidr=cluster_spec.vpc_cidr,
                availability_zones=chosen_zones[cluster_spec.name],
                nat_gateways=cluster_spec.nat_gateways,
                tags=naming.cluster_tags(cluster_spec.name, cluster_spec.region),
                flow_logs=spec.flow_logs,
                gateway_addresses=clusterset.pool_addresses if clusterset and cluster_spec.name in members else 0,
                active_gateway_addresses=clusterset.active_addresses if clusterset and cluster_spec.name in members else 0,
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[cluster_spec.region]}, protect=spec.protects(cluster_spec)),
        )

    fleet_flows = flows.fleet_flows(spec)
    clusters: dict[str, RegionalCluster] = {}
    kubernetes_providers: dict[str, k8s.Provider] = {}
    for cluster_spec in built:
        sources = flows.api_sources(fleet_flows, cluster_spec.name, keep_internet_path=spec.interconnect.keep_internet_path)
        cluster = RegionalCluster(
            cluster_spec.name,
            RegionalClusterArgs(
                spec=cluster_spec,
                kubernetes_version=spec.version_of(cluster_spec),
                support_type=spec.support_of(cluster_spec),
                network=networks[cluster_spec.name],
                api_access_cidrs=tuple(str(n) for n in spec.api_access_cidrs),
                access_entries=identity.entries_on(spec, cluster_spec.name),
                kubeconfig_auth=spec.provider_kubeconfig(preview),
                protect=spec.protects(cluster_spec),
                retiring=cluster_spec.retiring,
                peer_api_access_cidrs=_egress_addresses(sources, networks, others, reads),
                workload_identity=spec.workload_identity,
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[cluster_spec.region]}),
        )
        clusters[cluster_spec.name] = cluster
        kubernetes_providers[cluster_spec.name] = providers.kubernetes_provider(
            cluster_spec.name, cluster.kubeconfig, cluster.node_groups
        )

    cluster_addons: dict[str, ClusterAddons] = {}
    for cluster_spec in built:
        cluster = clusters[cluster_spec.name]
        cluster_addons[cluster_spec.name] = ClusterAddons(
            f"{cluster_spec.name}-addons",
            ClusterAddonsArgs(
                spec=cluster_spec,
                kubernetes_version=spec.version_of(cluster_spec),
                versions=spec.addons,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_provider_url=cluster.oidc_provider_url,
                node_groups=tuple(cluster.node_groups),
                tags=naming.cluster_tags(cluster_spec.name, cluster_spec.region),
                eks_cluster=cluster.eks_cluster,
                preserve_coredns_config=cluster_spec.name in members,
                workload_identity=spec.workload_identity,
                cluster_arn=identifiers.eks_cluster_arn(
                    naming.partition(cluster_spec.region), cluster_spec.region, account_id, cluster_spec.name
                ),
            ),
            providers.for_cluster(cluster_spec.name, cluster_spec.region, aws_providers, kubernetes_providers),
        )
    addon_versions = {name: addons.versions for name, addons in cluster_addons.items()}

    # What each fleet:members stack exports for this hub to register it (planning/gitops.py).
    registrations = {reference: others.registration(reference) for reference in others.registrations}
    interconnect_hub = _interconnect(spec, clusterset, clusters, networks, aws_providers, registrations, others.absent)
    links: dict[str, InterconnectLink] = {}
    if joined is not None:
        links = _join_hub_interconnect(spec, joined, clusters, networks, aws_providers, others)
    broker: SubmarinerBroker | None = None
    psk: pulumi.Output[str] | None = None
    if clusterset is not None:
        broker, psk = _join_clusterset(spec, clusterset, clusters, aws_providers, kubernetes_providers, cluster_addons, reads)
    gitops = build_gitops(spec, clusters, aws_providers, kubernetes_providers, others, registrations, links)
    edges = _edges(spec, clusters, aws_providers, kubernetes_providers, account_id)
    traffic = None
    recovery: RecoveryControls | None = None
    if spec.dns is not None:
        route53 = (
            providers.dns_provider(ROUTE53_REGION, spec.dns.account, preview)
            if spec.dns.account is not None
            else aws_providers[ROUTE53_REGION]
        )
        zone = aws.route53.get_zone_output(
            name=spec.dns.zone, private_zone=False, opts=pulumi.InvokeOutputOptions(provider=route53)
        )
        if spec.dns.arc:
            recovery = RecoveryControls(
                "recovery",
                RecoveryControlsArgs(clusters=sorted(edges), min_on=spec.dns.min_serving_regions),
                pulumi.ResourceOptions(providers={"aws": aws_providers[arc.CONTROL_REGION]}),
            )
        traffic = GlobalTraffic(
            "traffic",
            GlobalTrafficArgs(
                dns=spec.dns,
                zone_id=zone.zone_id,
                edges=edges,
                # A cell holds its own cluster's sets and health check only.
                serving={r.name: [t for t in spec.serving_targets(r) if t.cluster in in_scope] for r in spec.dns.records},
                routing_controls=recovery.routing_controls if recovery is not None else None,
            ),
            pulumi.ResourceOptions(providers={"aws": route53}),
        )

    hub = spec.hub
    ordered = [clusters[name] for name in sorted(clusters)]
    merged = pulumi.Output.all(*[pulumi.Output.all(c.endpoint, c.certificate_authority_data) for c in ordered]).apply(
        lambda pairs: kubeconfig.render(
            kubeconfig.build(
                [c.access(server=server, ca=ca, auth=spec.kubeconfig) for c, (server, ca) in zip(ordered, pairs, strict=True)],
                current=hub.name if hub else None,
                prefix=spec.kubeconfig.context_prefix,
            )
        )
    )
    return Fleet(
        spec=spec,
        aws_providers=aws_providers,
        clusters=clusters,
        kubernetes_providers=kubernetes_providers,
        kubeconfig=pulumi.Output.secret(merged),
        edges=edges,
        traffic=traffic,
        clusterset=clusterset,
        gitops=gitops,
        interconnect_hub=interconnect_hub,
        networks=networks,
        recovery=recovery,
        addon_versions=addon_versions,
        cell_reads=reads,
        broker=broker,
        psk=psk,
    )


def _egress_addresses(
    sources: tuple[flows.ApiSource, ...], networks: dict[str, ClusterNetwork], others: OtherStacks, reads: CellReads | None
) -> pulumi.Output[list[str]]:
    """The public addresses every source of an API flow leaves from, as the flow says (NAT, gateways, another
    stack's hub, another cell's cluster)."""
    parts: list[pulumi.Output[list[str]]] = []
    for source in sources:
        network = networks.get(source.source)
        if network is None and reads is not None and source.source in reads.peers:
            # Another cell of this environment: a clusterset member calling the broker ([] until it deploys).
            if flows.Egress.NAT in source.egress:
                parts.append(reads.member_value(source.source, "natIps"))
            if flows.Egress.GATEWAY in source.egress:
                parts.append(reads.member_value(source.source, "gatewayIps"))
            continue
        if network is None:
            # The only party outside this stack that calls an API is the hub of fleet:hub.
            assert HUB_OUTPUT in others.hub, f"no egress known for {source.source}"
            parts.append(others.hub_value(lambda hub: [str(ip) for ip in hub[HUB_OUTPUT][HUB_EGRESS_KEY]]))
            continue
        if flows.Egress.NAT in source.egress:
            parts.append(network.nat_public_ips)
        if flows.Egress.GATEWAY in source.egress:
            parts.append(network.gateway_public_ips)
    return pulumi.Output.all(*parts).apply(lambda lists: sorted({ip for ips in lists for ip in ips}))


def _interconnect(
    spec: FleetSpec,
    clusterset: ClusterSet | None,
    clusters: dict[str, RegionalCluster],
    networks: dict[str, ClusterNetwork],
    aws_providers: dict[str, aws.Provider],
    registrations: dict[str, pulumi.Output[Any]],
    absent: dict[str, set[str]] | None = None,
) -> InterconnectHub | None:
    """The hub's peering with every member that calls or is called by it (components/planning/interconnect.py),
    and the hub's side of each fleet:members stack's peering."""
    plan = interconnect.plan_interconnect(spec)
    if plan is None:
        return None
    members = {m.name for m in clusterset.members} if clusterset else set()

    def end(name: str) -> ClusterEnd:
        cluster = clusters[name]
        routed = security_rules.routed_rules(clusterset, name) if clusterset and name in members else ()
        return ClusterEnd(name, cluster.region, networks[name], cluster.endpoint, cluster.cluster_security_group_id, routed)

    gateways = _transit_gateways(plan, aws_providers) if plan.transit else {}
    hub = end(plan.hub)
    hub_side = InterconnectHub(
        f"{plan.hub}-interconnect",
        InterconnectHubArgs(
            plan=plan,
            hub=hub,
            tags=naming.cluster_tags(plan.hub, plan.hub_region),
            transit=gateways.get(plan.hub_region),
            forwards_for_members=interconnect.hub_forwards_for_members(spec),
        ),
        pulumi.ResourceOptions(providers={"aws": aws_providers[plan.hub_region]}),
    )
    for spoke in plan.spokes:
        InterconnectLink(
            f"{spoke.name}-interconnect",
            InterconnectLinkArgs(
                plan=plan,
                spoke=spoke,
                spoke_end=end(spoke.name),
                hub_end=hub,
                hub_outbound_endpoint_id=hub_side.outbound.id if hub_side.outbound else None,
                hub_inbound_endpoint=hub_side.inbound,
                tags=naming.cluster_tags(spoke.name, spoke.region),
                transit=gateways.get(spoke.region),
                hub_attachment=hub_side.attachment,
                hub_transit=gateways.get(plan.hub_region),
                hub_resource=hub_side,
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[spoke.region]}),
        )
    _pull_member_links(spec, hub, hub_side, aws_providers[plan.hub_region], registrations, absent)
    return hub_side


def _pull_member_links(
    spec: FleetSpec,
    hub: ClusterEnd,
    hub_side: InterconnectHub,
    provider: aws.Provider,
    registrations: dict[str, pulumi.Output[Any]],
    absent: dict[str, set[str]] | None = None,
) -> None:
    """The hub's side of every fleet:members stack's peering, from its stack file (its plan) and outputs (ids);
    none yet for a cell that has not deployed (stack_reads.py)."""
    for reference, plan in interconnect.member_plans(spec).items():
        registration = registrations[reference]
        for spoke in plan.spokes:
            if spoke.name in (absent or {}).get(reference, set()):
                continue
            InterconnectPulledLink(
                f"{spoke.name}-interconnect",
                InterconnectPulledLinkArgs(
                    plan=plan,
                    spoke=spoke,
                    hub_end=hub,
                    member=registration.apply(partial(gitops_plan.pulled_link, member_stack=reference, cluster=spoke.name)),
                    hub_outbound_endpoint_id=hub_side.outbound.id if hub_side.outbound else None,
                    hub_outbound_group_id=hub_side.outbound_group.id if hub_side.outbound_group else None,
                    tags=naming.cluster_tags(spoke.name, spoke.region),
                ),
                pulumi.ResourceOptions(providers={"aws": provider}),
            )


def _transit_gateways(
    plan: interconnect.InterconnectPlan, aws_providers: dict[str, aws.Provider]
) -> dict[str, RegionalTransitGateway]:
    """A transit gateway per region of the interconnect, the hub's first, each other region's peered with it."""
    gateways: dict[str, RegionalTransitGateway] = {}
    for region in plan.regions:
        hub = gateways.get(plan.hub_region)
        gateways[region] = RegionalTransitGateway(
            f"interconnect-{region}",
            RegionalTransitGatewayArgs(
                region=region,
                asn=interconnect_transit.asn_of(region),
                hub=hub,
                hub_region=plan.hub_region,
                hub_cidr=plan.hub_cidr,
                spoke_cidrs=cidr.collapse(s.vpc_cidr for s in plan.spokes if s.region == region) if hub else (),
                tags={"fleet-interconnect": plan.hub},
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[region]}),
        )
    return gateways


def _join_hub_interconnect(
    spec: FleetSpec,
    plan: interconnect.InterconnectPlan,
    clusters: dict[str, RegionalCluster],
    networks: dict[str, ClusterNetwork],
    aws_providers: dict[str, aws.Provider],
    others: OtherStacks,
) -> dict[str, InterconnectLink]:
    """Each cluster's end of its peering with the hub of the stack it joins: the request to the hub's
    VPC (its id from that stack's outputs), this side's routes and the inbound resolver. The hub's
    stack accepts it and builds the hub's side (InterconnectPulledLink) from this stack's outputs."""
    vpc_id = others.hub_value(lambda hub: str(hub[INTERCONNECT_OUTPUT]["vpcId"]))  # checked: stack_reads
    hub_network = ForeignNetwork(vpc_id=vpc_id, vpc_cidr=plan.hub_cidr, route_table_ids={})
    hub_end = ClusterEnd(plan.hub, plan.hub_region, hub_network, pulumi.Output.from_input(""), "", ())
    links: dict[str, InterconnectLink] = {}
    for spoke in plan.spokes:
        if spoke.name not in clusters:
            continue  # another cell's
        cluster = clusters[spoke.name]
        links[spoke.name] = InterconnectLink(
            f"{spoke.name}-interconnect",
            InterconnectLinkArgs(
                plan=plan,
                spoke=spoke,
                spoke_end=ClusterEnd(
                    spoke.name, spoke.region, networks[spoke.name], cluster.endpoint, cluster.cluster_security_group_id, ()
                ),
                hub_end=hub_end,
                hub_outbound_endpoint_id=None,
                hub_inbound_endpoint=None,
                tags=naming.cluster_tags(spoke.name, spoke.region),
                hub_side=False,
                hub_owner=interconnect.hub_owner(spec),
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[spoke.region]}),
        )
    return links


def _join_clusterset(
    spec: FleetSpec,
    clusterset: ClusterSet,
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    kubernetes_providers: dict[str, k8s.Provider],
    cluster_addons: dict[str, ClusterAddons],
    reads: CellReads | None,
) -> tuple[SubmarinerBroker | None, pulumi.Output[str] | None]:
    """The broker and the PSK on the broker's cluster, then every built member's join, each waiting on
    the broker and its own CoreDNS. A cell's member takes the broker's server, its credential, the PSK
    and its peers' addresses from the other cells' outputs (``reads``); before the broker's cell has
    deployed, it builds its gateways and joins in the join round."""
    config = spec.clusterset
    assert config is not None  # a clusterset is only planned from an enabled section
    broker: SubmarinerBroker | None = None
    psk: pulumi.Output[str] | None = None
    if clusterset.broker in clusters:
        broker = SubmarinerBroker(
            "submariner-broker",
            SubmarinerBrokerArgs(
                members=tuple(m.name for m in clusterset.members),
                chart_version=config.chart_version,
                chart_repository=config.chart_repository,
                endpoint=clusters[clusterset.broker].endpoint,
            ),
            pulumi.ResourceOptions(providers={"kubernetes": kubernetes_providers[clusterset.broker]}),
        )
        if config.psk is not None:
            psk = pulumi.Output.secret(config.psk.get_secret_value())
        else:
            psk = random.RandomPassword(
                "submariner-psk",
                random.RandomPasswordArgs(
                    length=GENERATED_PSK_LENGTH, special=False, keepers={"version": str(config.psk_version)}
                ),
            ).result
    for member in clusterset.members:
        if member.name not in clusters:
            continue
        cluster = clusters[member.name]
        if broker is not None and psk is not None:
            server: pulumi.Output[str] | None = broker.server
            credential: BrokerCredential | None = broker.credentials[member.name]
            member_psk: pulumi.Output[str] | None = psk
            dependencies: tuple[pulumi.Resource, ...] = (broker.release, broker.token_secrets[member.name])
        elif reads is not None and reads.broker is not None:
            name = member.name
            server = reads.broker_value(lambda b: str(b["server"]))
            credential = BrokerCredential(
                token=reads.broker_value(lambda b, n=name: str(b["credentials"][n]["token"])),
                ca=reads.broker_value(lambda b, n=name: str(b["credentials"][n]["ca"])),
            )
            member_psk = reads.broker_value(lambda b: str(b["psk"]))
            dependencies = ()
        else:
            server, credential, member_psk, dependencies = None, None, None, ()
        peers = {
            p.name: clusters[p.name].gateway_public_ips if p.name in clusters else _peer_addresses(reads, p.name)
            for p in clusterset.peers_of(member.name)
        }
        SubmarinerMember(
            f"{member.name}-submariner",
            SubmarinerMemberArgs(
                member=member,
                clusterset=clusterset,
                peer_gateway_ips=peers,
                broker_server=server,
                credential=credential,
                broker_dependencies=dependencies,
                psk=member_psk,
                chart_version=config.chart_version,
                chart_repository=config.chart_repository,
                eks_cluster=cluster.eks_cluster,
                vpc_id=cluster.vpc_id,
                public_subnet_ids=cluster.public_subnet_ids,
                cluster_security_group_id=cluster.cluster_security_group_id,
                gateway_instance_type=config.gateway_instance_type,
                tags=naming.cluster_tags(member.name, member.region),
                gateway_pool=tuple(cluster.gateway_pool),
                kubernetes_version=spec.version_of(next(c for c in spec.clusters if c.name == member.name)),
                coredns=cluster_addons[member.name].coredns,
            ),
            providers.for_cluster(member.name, member.region, aws_providers, kubernetes_providers),
        )
    return broker, psk


def _peer_addresses(reads: CellReads | None, peer: str) -> pulumi.Output[list[str]]:
    assert reads is not None, f"{peer} is built by this stack or read from its cell"
    return reads.member_value(peer, "gatewayIps")


def _edges(
    spec: FleetSpec,
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    kubernetes_providers: dict[str, k8s.Provider],
    account_id: str,
) -> dict[str, EdgeEndpoint]:
    """An edge for every cluster a DNS record names: an owned NLB, or the load balancer configured."""
    edges: dict[str, EdgeEndpoint] = {}
    served = spec.served_clusters()
    for cluster_spec in sorted(spec.clusters, key=lambda c: c.name):
        name, edge = cluster_spec.name, cluster_spec.edge
        if name not in served or name not in clusters:
            continue
        if edge.dns_name is not None and edge.zone_id is not None:
            edges[name] = EdgeEndpoint(name, cluster_spec.region, edge.dns_name, edge.zone_id, owned=False)
            continue
        cluster = clusters[name]
        owned = RegionalEdge(
            f"{name}-edge",
            RegionalEdgeArgs(
                cluster_name=name,
                region=cluster_spec.region,
                vpc_cidr=str(cluster_spec.vpc_cidr),
                vpc_id=cluster.vpc_id,
                public_subnet_ids=cluster.public_subnet_ids,
                cluster_security_group_id=cluster.cluster_security_group_id,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_provider_url=cluster.oidc_provider_url,
                ingress=edge.ingress,
                controller_chart_version=spec.load_balancer_controller.chart_version,
                protect=spec.protects(cluster_spec),
                tags=naming.cluster_tags(name, cluster_spec.region),
                workload_identity=spec.workload_identity,
                cluster_arn=identifiers.eks_cluster_arn(
                    naming.partition(cluster_spec.region), cluster_spec.region, account_id, name
                ),
                eks_cluster=cluster.eks_cluster,
            ),
            providers.for_cluster(name, cluster_spec.region, aws_providers, kubernetes_providers),
        )
        edges[name] = EdgeEndpoint(
            name, cluster_spec.region, owned.hostname, owned.zone_id, owned=True, listener_port=edge.ingress.port
        )
    return edges
