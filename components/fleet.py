"""Turns a validated FleetSpec into regional clusters, their providers and the fleet outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from . import kubeconfig, providers
from .cluster import RegionalCluster, RegionalClusterArgs
from .model import FleetSpec
from .validation import ConfigError, config_path


@dataclass(frozen=True)
class Fleet:
    spec: FleetSpec
    aws_providers: dict[str, aws.Provider]
    clusters: dict[str, RegionalCluster]
    kubernetes_providers: dict[str, k8s.Provider]
    kubeconfig: pulumi.Output[str]

    def summaries(self) -> dict[str, Any]:
        """The ``clusters`` stack output: what each cluster is and where it lives."""
        summary: dict[str, Any] = {}
        for cluster_spec in sorted(self.spec.clusters, key=lambda c: c.name):
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
            }
        return summary


def _availability_zones(spec: FleetSpec, aws_providers: dict[str, aws.Provider]) -> dict[str, tuple[str, ...]]:
    """Each cluster's AZs: the first N available, opt-in-free zones of its region, by name."""
    zones_by_region = {
        region: sorted(
            aws.get_availability_zones(
                state="available",
                filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
                opts=pulumi.InvokeOptions(provider=provider),
            ).names
        )
        for region, provider in aws_providers.items()
    }
    problems = []
    chosen: dict[str, tuple[str, ...]] = {}
    for i, cluster in enumerate(spec.clusters):
        zones = zones_by_region[cluster.region]
        if len(zones) < cluster.availability_zones:
            problems.append(
                f"{config_path(('clusters', i, 'availabilityZones'))}: {cluster.availability_zones} requested "
                f"but {cluster.region} has {len(zones)} available ({', '.join(zones)})"
            )
        chosen[cluster.name] = tuple(zones[: cluster.availability_zones])
    if problems:
        raise ConfigError(problems)
    return chosen


def build_fleet(spec: FleetSpec) -> Fleet:
    aws_providers = providers.aws_providers(c.region for c in spec.clusters)
    zones = _availability_zones(spec, aws_providers)
    clusters: dict[str, RegionalCluster] = {}
    kubernetes_providers: dict[str, k8s.Provider] = {}
    # Sorted by name so registration order, like logical names, never follows list order.
    for cluster_spec in sorted(spec.clusters, key=lambda c: c.name):
        cluster = RegionalCluster(
            cluster_spec.name,
            RegionalClusterArgs(
                spec=cluster_spec,
                kubernetes_version=spec.version_of(cluster_spec),
                availability_zones=zones[cluster_spec.name],
                api_access_cidrs=tuple(str(n) for n in spec.api_access_cidrs),
                cluster_admins=tuple(spec.cluster_admins),
                kubeconfig_auth=spec.kubeconfig,
                protect=spec.protect,
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[cluster_spec.region]}),
        )
        clusters[cluster_spec.name] = cluster
        kubernetes_providers[cluster_spec.name] = providers.kubernetes_provider(cluster_spec.name, cluster.kubeconfig)

    hub = spec.hub
    ordered = [clusters[name] for name in sorted(clusters)]
    merged = pulumi.Output.all(*[pulumi.Output.all(c.endpoint, c.certificate_authority_data) for c in ordered]).apply(
        lambda pairs: kubeconfig.render(
            kubeconfig.build(
                [c.access(server=server, ca=ca, auth=spec.kubeconfig) for c, (server, ca) in zip(ordered, pairs, strict=True)],
                current=hub.name if hub else None,
            )
        )
    )
    return Fleet(
        spec=spec,
        aws_providers=aws_providers,
        clusters=clusters,
        kubernetes_providers=kubernetes_providers,
        kubeconfig=pulumi.Output.secret(merged),
    )
