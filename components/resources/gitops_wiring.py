"""Wires the GitOps hub: Argo CD on this stack's hub, or registration into another stack's hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.model import ClusterSpec, FleetSpec
from ..planning import gitops, naming
from . import providers
from .cluster import RegionalCluster
from .gitops import ArgoCdHub, ArgoCdHubArgs, ArgoCdMember, ArgoCdMemberArgs

# What a hub stack exports for the stacks that register into it.
HUB_OUTPUT = "argocdHub"
HUB_KUBECONFIG_OUTPUT = "hubKubeconfig"
# Inside HUB_OUTPUT: the hub's NAT addresses, which joining stacks admit to their API endpoints.
HUB_EGRESS_KEY = "egressIps"


@dataclass(frozen=True)
class GitOps:
    spec: FleetSpec
    stack: str
    hub_name: str
    """The hub cluster (this stack's) or the hub stack's name."""
    role_arn: pulumi.Output[str]
    servers: dict[str, pulumi.Output[str]]
    """The server each of this stack's clusters is registered with (known at deploy time)."""
    hub: ArgoCdHub | None

    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """The ``argocd`` stack output: hub, registered clusters, and the Applications each set will generate."""
        specs = sorted(self.spec.clusters, key=lambda c: c.name)
        config = self.spec.gitops

        def build(servers: list[str]) -> dict[str, Any]:
            clusters = [
                gitops.RegisteredCluster(c.name, server, gitops.cluster_labels(c, self.stack))
                for c, server in zip(specs, servers, strict=True)
            ]
            summary: dict[str, Any] = {
                "hub": self.hub_name,
                "namespace": gitops.NAMESPACE,
                "registeredClusters": {c.name: {"server": c.server, "labels": dict(c.labels)} for c in clusters},
            }
            if config is not None:
                summary["chartVersion"] = config.chart_version
                summary["repo"] = {"url": config.repo.url, "revision": config.repo.revision}
                summary["applicationSets"] = {
                    s.name: {
                        "selector": dict(s.selector),
                        "path": s.path,
                        "applications": [
                            {"name": a.name, "cluster": a.cluster, "path": a.path, "namespace": a.namespace}
                            for a in gitops.generated_applications(s, clusters)
                        ],
                    }
                    for s in sorted(config.application_sets, key=lambda s: s.name)
                }
            return summary

        return pulumi.Output.all(*[self.servers[c.name] for c in specs]).apply(build)

    def hub_exports(self, egress_ips: pulumi.Input[list[str]]) -> dict[str, Any]:
        """Outputs another stack's ``fleet:hub`` reads (only from the stack that runs the hub).

        ``egress_ips`` are the addresses Argo CD leaves the hub's network from; a joining stack's
        clusters must admit them to their API endpoints, or the hub can sync nothing there.
        """
        if self.hub is None:
            return {}
        exports: dict[str, Any] = {
            HUB_OUTPUT: {
                "cluster": self.hub_name,
                "namespace": gitops.NAMESPACE,
                "roleArn": self.role_arn,
                HUB_EGRESS_KEY: egress_ips,
            }
        }
        if self.hub.admin_password is not None:
            exports["argocdAdminPassword"] = pulumi.Output.secret(self.hub.admin_password)
        return exports


def build_gitops(
    spec: FleetSpec,
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    kubernetes_providers: dict[str, k8s.Provider],
    hub_reference: pulumi.StackReference | None,
) -> GitOps | None:
    stack = pulumi.get_stack()
    hub_spec = spec.hub
    config = spec.gitops
    if config is not None and hub_spec is not None:
        hub_cluster = clusters[hub_spec.name]
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_providers[hub_spec.region]))
        hub = ArgoCdHub(
            "argocd",
            ArgoCdHubArgs(
                config=config,
                hub=gitops.RegisteredCluster(hub_spec.name, gitops.IN_CLUSTER_SERVER, gitops.cluster_labels(hub_spec, stack)),
                region=hub_spec.region,
                role_name_prefix=naming.role_name_prefix(f"{pulumi.get_project()}-{stack}-argocd-hub"),
                oidc_provider_arn=hub_cluster.oidc_provider_arn,
                oidc_provider_url=hub_cluster.oidc_provider_url,
                tags=naming.cluster_tags(hub_spec.name, hub_spec.region),
            ),
            providers.for_cluster(hub_spec.name, hub_spec.region, aws_providers, kubernetes_providers),
        )
        members = [c for c in spec.clusters if c.name != hub_spec.name]
        _register(members, clusters, aws_providers, kubernetes_providers[hub_spec.name], hub.role_arn, stack, account.account_id)
        servers = {c.name: clusters[c.name].endpoint for c in members}
        servers[hub_spec.name] = pulumi.Output.from_input(gitops.IN_CLUSTER_SERVER)
        return GitOps(spec, stack, hub_spec.name, hub.role_arn, servers, hub)

    if spec.hub_stack is not None:
        assert hub_reference is not None  # built from spec.hub_stack by the caller
        reference = hub_reference
        hub_kubeconfig: pulumi.Output[str] = pulumi.Output.secret(reference.require_output(HUB_KUBECONFIG_OUTPUT)).apply(str)
        role_arn = reference.require_output(HUB_OUTPUT).apply(lambda hub: str(hub["roleArn"]))
        # Built from the hub stack's kubeconfig, whose current context is the hub.
        hub_provider = k8s.Provider("hub-k8s", k8s.ProviderArgs(kubeconfig=hub_kubeconfig))
        any_region = sorted({c.region for c in spec.clusters})[0]
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_providers[any_region]))
        _register(spec.clusters, clusters, aws_providers, hub_provider, role_arn, stack, account.account_id)
        servers = {c.name: clusters[c.name].endpoint for c in spec.clusters}
        return GitOps(spec, stack, spec.hub_stack.stack, role_arn, servers, None)
    return None


def _register(
    members: list[ClusterSpec],
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    hub_provider: k8s.Provider,
    role_arn: pulumi.Input[str],
    stack: str,
    account_id: pulumi.Input[str],
) -> None:
    for member in sorted(members, key=lambda c: c.name):
        cluster = clusters[member.name]
        ArgoCdMember(
            f"{member.name}-argocd",
            ArgoCdMemberArgs(
                cluster_name=member.name,
                labels=gitops.cluster_labels(member, stack),
                endpoint=cluster.endpoint,
                certificate_authority_data=cluster.certificate_authority_data,
                cluster_arn=pulumi.Output.concat(
                    "arn:", naming.partition(member.region), ":eks:", member.region, ":", account_id, ":cluster/", member.name
                ),
                region=member.region,
                hub_role_arn=role_arn,
                stack=stack,
                eks_cluster=cluster.eks_cluster,
            ),
            pulumi.ResourceOptions(providers={"aws": aws_providers[member.region], "kubernetes": hub_provider}),
        )
