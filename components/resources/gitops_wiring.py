"""Wires the GitOps hub: Argo CD on this stack's hub, or registration into another stack's hub."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..config.model import ClusterSpec, FleetSpec
from ..planning import cells, gitops, naming
from ..planning.trust import HUB_EGRESS_KEY, HUB_OUTPUT
from . import providers
from .cluster import RegionalCluster
from .gitops import ArgoCdHub, ArgoCdHubArgs, ArgoCdMember, ArgoCdMemberArgs, ArgoCdPulledMember, ArgoCdPulledMemberArgs
from .interconnect import InterconnectLink
from .stack_reads import OtherStacks


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
    registration: pulumi.Output[Any] | None = None
    """A member stack's gitops.REGISTRATION_OUTPUT, which the hub stack pulls."""
    pulled: dict[str, tuple[pulumi.Output[str], dict[str, str]]] = field(default_factory=dict)
    """On the hub: each fleet:members cluster's server (from its stack's outputs) and labels."""

    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """The ``argocd`` stack output: hub, registered clusters, and the Applications each set will generate."""
        specs = sorted((c for c in self.spec.clusters if c.name in self.servers), key=lambda c: c.name)
        pulled = sorted(self.pulled)
        config = self.spec.gitops

        def build(servers: list[str]) -> dict[str, Any]:
            own, others = servers[: len(specs)], servers[len(specs) :]
            clusters = [
                gitops.RegisteredCluster(c.name, server, gitops.cluster_labels(c, self.stack))
                for c, server in zip(specs, own, strict=True)
            ]
            clusters += [gitops.RegisteredCluster(n, server, self.pulled[n][1]) for n, server in zip(pulled, others, strict=True)]
            clusters.sort(key=lambda c: c.name)
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

        return pulumi.Output.all(*[self.servers[c.name] for c in specs], *[self.pulled[n][0] for n in pulled]).apply(build)

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
        # No secret here: every stack that joins reads these outputs, and Pulumi hands a reader the
        # referenced stack's outputs. Argo CD's admin password stays in this stack's state alone
        # (docs/runbooks.md: "Sign in to Argo CD as admin").
        return exports


def build_gitops(
    spec: FleetSpec,
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    kubernetes_providers: dict[str, k8s.Provider],
    others: OtherStacks,
    registrations: dict[str, pulumi.Output[Any]],
    links: dict[str, InterconnectLink],
) -> GitOps | None:
    """Argo CD on this stack's hub, registering its own clusters and pulling its fleet:members'
    (``registrations``: each member stack's exported registration); or, joining another stack's hub,
    the hub role's entries and this stack's registration output (with its peering ends, ``links``)."""
    stack = cells.environment_of(pulumi.get_stack())
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
                role_name_prefix=naming.hub_role_name_prefix(pulumi.get_project(), stack),
                oidc_provider_arn=hub_cluster.oidc_provider_arn,
                oidc_provider_url=hub_cluster.oidc_provider_url,
                tags=naming.cluster_tags(hub_spec.name, hub_spec.region),
                workload_identity=spec.workload_identity,
                cluster_arn=account.account_id.apply(partial(_cluster_arn, hub_spec.region, name=hub_spec.name)),
                eks_cluster=hub_cluster.eks_cluster,
            ),
            providers.for_cluster(hub_spec.name, hub_spec.region, aws_providers, kubernetes_providers),
        )
        members = [c for c in spec.clusters if c.name != hub_spec.name]
        hub_provider = kubernetes_providers[hub_spec.name]
        _register(members, clusters, aws_providers, hub_provider, hub.role_arn, stack, account.account_id, here=True)
        pulled = _pull_members(spec, hub_provider, hub.role_arn, registrations, others.absent)
        servers = {c.name: clusters[c.name].endpoint for c in members}
        servers[hub_spec.name] = pulumi.Output.from_input(gitops.IN_CLUSTER_SERVER)
        return GitOps(spec, stack, hub_spec.name, hub.role_arn, servers, hub, pulled=pulled)

    if spec.hub_stack is not None:
        # Only the hub's role is read from the hub stack (checked by stack_reads against fleet:hub):
        # this stack grants it an entry on its own clusters and exports what the hub needs; the hub
        # stack writes the Secrets, as itself.
        # A cell registers its own cluster only (planning/cells.py).
        built = [c for c in spec.clusters if c.name in clusters]
        role_arn = others.hub_value(lambda hub: str(hub[HUB_OUTPUT]["roleArn"]))
        any_region = sorted({c.region for c in built})[0]
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=aws_providers[any_region]))
        _register(built, clusters, aws_providers, None, role_arn, stack, account.account_id, here=False)
        servers = {c.name: clusters[c.name].endpoint for c in built}
        registration = _registration(spec, clusters, account.account_id, links)
        return GitOps(spec, stack, spec.hub_stack.stack, role_arn, servers, None, registration)
    return None


def _registration(
    spec: FleetSpec, clusters: dict[str, RegionalCluster], account_id: pulumi.Output[str], links: dict[str, InterconnectLink]
) -> pulumi.Output[Any]:
    """The member side's registration output (gitops.REGISTRATION_OUTPUT)."""
    names = sorted(c.name for c in spec.clusters if c.name in clusters)
    regions = {c.name: c.region for c in spec.clusters}
    parts = [
        pulumi.Output.all(clusters[n].endpoint, clusters[n].certificate_authority_data, _link_end(links.get(n))) for n in names
    ]

    def build(args: list[Any]) -> dict[str, Any]:
        account, triples = args[0], args[1:]
        exported: dict[str, dict[str, Any]] = {}
        for name, (server, ca, link) in zip(names, triples, strict=True):
            exported[name] = {"server": server, "caData": ca, "arn": _cluster_arn(regions[name], str(account), name)}
            if link is not None:
                exported[name]["interconnect"] = link
        return gitops.registration_export(exported)

    return pulumi.Output.all(account_id, *parts).apply(build)


def _link_end(link: InterconnectLink | None) -> pulumi.Output[dict[str, Any] | None]:
    """A cluster's peering end for the hub to accept and route to, and its resolver to forward to."""
    if link is None or link.connection is None:
        return pulumi.Output.from_input(None)
    resolver_ips: pulumi.Output[list[str]] = (
        link.inbound.ip_addresses.apply(lambda addresses: sorted(str(a.ip) for a in addresses))
        if link.inbound is not None
        else pulumi.Output.from_input([])
    )
    return pulumi.Output.all(link.connection.id, resolver_ips).apply(
        lambda pair: {"peeringConnectionId": pair[0], "resolverIps": pair[1]}
    )


def _cluster_arn(region: str, account: str, name: str) -> str:
    return f"arn:{naming.partition(region)}:eks:{region}:{account}:cluster/{name}"


def _pull_members(
    spec: FleetSpec,
    hub_provider: k8s.Provider,
    role_arn: pulumi.Output[str],
    registrations: dict[str, pulumi.Output[Any]],
    absent: dict[str, set[str]] | None = None,
) -> dict[str, tuple[pulumi.Output[str], dict[str, str]]]:
    """Every cluster of every fleet:members stack, registered from its outputs; names and labels come
    from its stack file (checks.membership_problems made sure there is one, joining this hub)."""
    pulled: dict[str, tuple[pulumi.Output[str], dict[str, str]]] = {}
    for reference, member in spec.member_specs.items():
        member_stack = reference.rsplit("/", 1)[-1]
        registration = registrations[reference]
        for cluster in sorted(member.clusters, key=lambda c: c.name):
            if cluster.name in (absent or {}).get(reference, set()):
                continue  # its cell has not deployed yet (stack_reads.py)
            labels = gitops.cluster_labels(cluster, member_stack)
            registered = ArgoCdPulledMember(
                f"{cluster.name}-argocd",
                ArgoCdPulledMemberArgs(
                    cluster_name=cluster.name,
                    labels=labels,
                    registration=registration,
                    member_stack=reference,
                    hub_role_arn=role_arn,
                ),
                pulumi.ResourceOptions(providers={"kubernetes": hub_provider}),
            )
            pulled[cluster.name] = (registered.server, labels)
    return pulled


def _register(
    members: list[ClusterSpec],
    clusters: dict[str, RegionalCluster],
    aws_providers: dict[str, aws.Provider],
    hub_provider: k8s.Provider | None,
    role_arn: pulumi.Input[str],
    stack: str,
    account_id: pulumi.Output[str],
    here: bool,
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
                cluster_arn=account_id.apply(partial(_cluster_arn, member.region, name=member.name)),
                region=member.region,
                hub_role_arn=role_arn,
                stack=stack,
                eks_cluster=cluster.eks_cluster,
                registered_here=here,
            ),
            pulumi.ResourceOptions(
                providers={"aws": aws_providers[member.region], **({"kubernetes": hub_provider} if hub_provider else {})}
            ),
        )
