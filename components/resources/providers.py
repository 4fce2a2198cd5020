"""Explicit providers: one AWS provider per region, one Kubernetes provider per cluster.

Every resource gets its provider from here through ``opts.providers``; nothing relies on the
ambient AWS region or the operator's local kubeconfig (pulumi-eks#555).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..aws.api_retries import RETRY_MODE
from ..config.model import AccountSpec, DnsAccountSpec
from ..planning import cells, naming


def aws_providers(regions: Iterable[str], account: AccountSpec | None = None, role: str | None = None) -> dict[str, aws.Provider]:
    """One provider per distinct region, shared by every cluster in that region. With fleet:account,
    each assumes ``role`` there and refuses any other account (allowed_account_ids), so credentials
    for the wrong account fail before anything is read or changed."""
    stack = cells.environment_of(pulumi.get_stack())
    assume = [aws.ProviderAssumeRoleArgs(role_arn=role, session_name=f"fleet-{stack}")] if account and role else None
    return {
        region: aws.Provider(
            naming.aws_provider_name(region),
            aws.ProviderArgs(
                region=region,
                default_tags=aws.ProviderDefaultTagsArgs(tags={**naming.MANAGED_BY_TAG, "fleet-stack": stack}),
                allowed_account_ids=[account.id] if account else None,
                assume_roles=assume,
                retry_mode=RETRY_MODE,
            ),
        )
        for region in sorted(set(regions))
    }


def dns_provider(region: str, account: DnsAccountSpec, preview: bool) -> aws.Provider:
    """Route 53 in the account that holds the zone (fleet:dns.account), as its role (its preview role for a preview)."""
    stack = cells.environment_of(pulumi.get_stack())
    role = account.preview_role_arn if preview and account.preview_role_arn else account.role_arn
    return aws.Provider(
        "aws-dns",
        aws.ProviderArgs(
            region=region,
            default_tags=aws.ProviderDefaultTagsArgs(tags={**naming.MANAGED_BY_TAG, "fleet-stack": stack}),
            allowed_account_ids=[account.id],
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role, session_name=f"fleet-{stack}-dns")],
            retry_mode=RETRY_MODE,
        ),
    )


def kubernetes_provider(cluster_name: str, kubeconfig: pulumi.Input[str], nodes: Sequence[pulumi.Resource] = ()) -> k8s.Provider:
    """A provider bound to one cluster's own kubeconfig, never to the local one.

    It waits for the cluster's node groups: Helm releases wait for their pods to be ready, and
    with no node to schedule on they would race the node groups' create against Helm's timeout.
    """
    return k8s.Provider(
        naming.kubernetes_provider_name(cluster_name),
        k8s.ProviderArgs(kubeconfig=kubeconfig, context=cluster_name),
        pulumi.ResourceOptions(depends_on=list(nodes)),
    )


def for_cluster(
    name: str, region: str, aws_providers: Mapping[str, aws.Provider], kubernetes_providers: Mapping[str, k8s.Provider]
) -> pulumi.ResourceOptions:
    """Options for a component that works in one cluster: its region's AWS provider and its own Kubernetes provider."""
    return pulumi.ResourceOptions(providers={"aws": aws_providers[region], "kubernetes": kubernetes_providers[name]})


def reader_provider(name: str, account: str, role: str) -> aws.Provider:
    """Reads in another stack's account as that stack's read-only role (its fleet:deployer.preview), bound
    to that account; each call names its region."""
    stack = cells.environment_of(pulumi.get_stack())
    return aws.Provider(
        name,
        aws.ProviderArgs(
            region="us-east-1",
            allowed_account_ids=[account],
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=role, session_name=f"fleet-{stack}-read")],
            retry_mode=RETRY_MODE,
        ),
    )
