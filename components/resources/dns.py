"""Route53 in front of the regional edges: one health check per edge, records per routing policy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config.model import DnsSpec, RecordSpec, RecordTarget


@dataclass(frozen=True)
class EdgeEndpoint:
    """Where one cluster's public traffic enters."""

    cluster: str
    region: str
    hostname: pulumi.Input[str]
    zone_id: pulumi.Input[str]
    owned: bool
    listener_port: int | None = None
    """The port the program's NLB listens on; None for a load balancer the program does not own."""


def edge_record_name(cluster: str, dns: DnsSpec) -> str:
    """The per-edge name (<cluster>.<edgeSubdomain>.<zone>): health checks send it as Host and SNI,
    so the ingress can answer for it, and operators reach one region directly through it."""
    return f"{cluster}.{dns.edge_subdomain}.{dns.zone}"


def health_check_port(edge: EdgeEndpoint, dns: DnsSpec) -> int:
    """The edge's listener port (validation keeps a configured port equal to it), else the configured or default port."""
    if edge.listener_port is not None:
        return edge.listener_port
    return dns.health_check.port or DEFAULT_HEALTH_CHECK_PORT


DEFAULT_HEALTH_CHECK_PORT = 443


@dataclass(frozen=True)
class GlobalTrafficArgs:
    dns: DnsSpec
    """Validated fleet:dns."""
    zone_id: pulumi.Input[str]
    """The public hosted zone's id (looked up by name)."""
    edges: dict[str, EdgeEndpoint]
    """Edge of every cluster a record names, by cluster name."""
    serving: dict[str, list[RecordTarget]]
    """Per record name, the record sets to register: drained clusters left out (FleetSpec.serving_targets)."""
    routing_controls: Mapping[str, pulumi.Input[str]] | None = None
    """With fleet:dns.arc, each cluster's ARC routing control: its records are healthy only while it is On."""


# Route53 routing-policy argument -> its typed block; a policy whose argument is missing here fails
# tests/test_dns.py before it reaches a deploy.
ROUTING_POLICY_ARGS: dict[str, Callable[..., Any]] = {
    "weighted_routing_policies": aws.route53.RecordWeightedRoutingPolicyArgs,
    "failover_routing_policies": aws.route53.RecordFailoverRoutingPolicyArgs,
    "latency_routing_policies": aws.route53.RecordLatencyRoutingPolicyArgs,
    "geolocation_routing_policies": aws.route53.RecordGeolocationRoutingPolicyArgs,
}


def _routing_policy(record: RecordSpec, target: RecordTarget, region: str) -> dict[str, Any]:
    """The one routing-policy argument for this record set."""
    policy = record.route53_policy(target, region)
    return {policy.argument: [ROUTING_POLICY_ARGS[policy.argument](**policy.values)]}


def describe_target(record: RecordSpec, target: RecordTarget, region: str) -> dict[str, Any]:
    """The `dns` stack output entry for one record set."""
    return {"setIdentifier": target.set_identifier, "cluster": target.cluster, "region": region, **record.describe(target)}


def _record_options(parent: pulumi.Resource, name: str, record: str, target: RecordTarget) -> pulumi.ResourceOptions:
    """A set named by its role or location (RecordTarget) is the set that was named by its cluster (an
    alias): its new identifier is an update, which the aws provider sends as one transactional change
    batch, DELETE of the old set and CREATE of the new (terraform-provider-aws route53 record.go,
    resourceRecordUpdate), so Route 53 never holds the role or location twice, nor not at all."""
    if target.legacy_identifier is None or target.legacy_identifier == target.set_identifier:
        return pulumi.ResourceOptions(parent=parent)
    return pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name=f"{name}-{record}-{target.legacy_identifier}")])


class GlobalTraffic(pulumi.ComponentResource):
    health_check_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GlobalTrafficArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:GlobalTraffic", name, None, opts)
        check = args.dns.health_check
        self.health_check_ids = {}
        for cluster, edge in sorted(args.edges.items()):
            edge_name = edge_record_name(cluster, args.dns)
            aws.route53.Record(
                f"{name}-edge-{cluster}",
                aws.route53.RecordArgs(
                    zone_id=args.zone_id,
                    name=edge_name,
                    type="A",
                    aliases=[aws.route53.RecordAliasArgs(name=edge.hostname, zone_id=edge.zone_id, evaluate_target_health=False)],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            # Checks probe each region's own edge, never the global name, so one region's failure is
            # seen as that region's; by its own name, since an ingress that routes by host answers the
            # load balancer's generated hostname with 404.
            health_check = aws.route53.HealthCheck(
                f"{name}-{cluster}",
                aws.route53.HealthCheckArgs(
                    fqdn=edge_name,
                    port=health_check_port(edge, args.dns),
                    type=check.protocol,
                    resource_path=check.resource_path,
                    failure_threshold=check.failure_threshold,
                    request_interval=check.request_interval,
                    tags={"Name": f"{cluster} edge", "fleet-cluster": cluster, "fleet-region": edge.region},
                ),
                pulumi.ResourceOptions(parent=self),
            )
            self.health_check_ids[cluster] = health_check.id
        record_checks: dict[str, pulumi.Input[str]] = dict(self.health_check_ids)
        for cluster, control in sorted((args.routing_controls or {}).items()):
            switch = aws.route53.HealthCheck(
                f"{name}-{cluster}-control",
                aws.route53.HealthCheckArgs(
                    type="RECOVERY_CONTROL", routing_control_arn=control, tags={"Name": f"{cluster} routing control"}
                ),
                pulumi.ResourceOptions(parent=self),
            )
            # The records' health: the edge answers AND the cluster's routing control is On.
            record_checks[cluster] = aws.route53.HealthCheck(
                f"{name}-{cluster}-serving",
                aws.route53.HealthCheckArgs(
                    type="CALCULATED",
                    child_healthchecks=[self.health_check_ids[cluster], switch.id],
                    child_health_threshold=2,
                    tags={"Name": f"{cluster} edge and routing control", "fleet-cluster": cluster},
                ),
                pulumi.ResourceOptions(parent=self),
            ).id

        for record in sorted(args.dns.records, key=lambda r: r.name):
            # A front's sets are named by their routing too: a change of routing creates the new policy's
            # sets beside the old ones (another DNS name), moves the front, then deletes the old.
            prefix = f"{name}-{record.name}-{record.routing}" if record.front else f"{name}-{record.name}"
            sets = []
            for target in args.serving[record.name]:
                edge = args.edges[target.cluster]
                sets.append(
                    aws.route53.Record(
                        f"{prefix}-{target.set_identifier}",
                        aws.route53.RecordArgs(
                            zone_id=args.zone_id,
                            name=record.routed_name,
                            type="A",
                            set_identifier=target.set_identifier,
                            aliases=[
                                aws.route53.RecordAliasArgs(name=edge.hostname, zone_id=edge.zone_id, evaluate_target_health=True)
                            ],
                            health_check_id=record_checks[target.cluster],
                            **_routing_policy(record, target, edge.region),
                        ),
                        _record_options(self, name, record.name, target),
                    )
                )
            if record.front:
                _front(f"{name}-{record.name}", record, args.zone_id, sets, self)
        self.register_outputs({"healthCheckIds": self.health_check_ids})


def _front(
    name: str, record: RecordSpec, zone_id: pulumi.Input[str], sets: list[aws.route53.Record], parent: pulumi.Resource
) -> None:
    """The public name: one alias to the routing's own name in the same zone. Route 53 refuses an alias to
    a name with no records ("Tried to create an alias that targets ..."), so it waits for the sets; a
    change of routing is then one UPSERT of this record, and the name never stops answering. Target
    health is the sets' (all unhealthy: the only record of the name answers anyway, as they fail open)."""
    aws.route53.Record(
        name,
        aws.route53.RecordArgs(
            zone_id=zone_id,
            name=record.name,
            type="A",
            aliases=[aws.route53.RecordAliasArgs(name=record.routed_name, zone_id=zone_id, evaluate_target_health=True)],
        ),
        pulumi.ResourceOptions(parent=parent, depends_on=list(sets)),
    )
