"""The IAM role a workload's service accounts get (fleet:workloadIdentity, planning/workload_identity.py):
trusted through IRSA, EKS Pod Identity or both, and under Pod Identity its associations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config.cluster import WorkloadIdentity
from ..planning import naming
from ..planning import workload_identity as identity
from ..planning.iam_policies import irsa_trust_policy


def workload_role(
    name: str,
    *,
    mode: WorkloadIdentity,
    cluster: str,
    purpose: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_provider_url: pulumi.Input[str],
    namespace: str,
    service_accounts: Sequence[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    name_prefix: str | None = None,
    description: str | None = None,
    irsa_policy: Callable[[str, str, str, tuple[str, ...]], dict[str, Any]] | None = None,
    cluster_arn: pulumi.Input[str] = "",
) -> aws.iam.Role:
    """The role, trusted by these service accounts of this cluster only, named from a prefix that fits IAM's 64
    characters. Under Pod Identity alone the cluster has no OIDC provider, and the trust names none."""
    accounts = tuple(service_accounts)

    def trust(values: list[str]) -> str:
        oidc, arn = values[:2], values[2]
        irsa = None
        if identity.uses_irsa(mode):
            irsa = (
                irsa_trust_policy(oidc[0], oidc[1], namespace, accounts[0])
                if irsa_policy is None
                else irsa_policy(oidc[0], oidc[1], namespace, accounts)
            )
        return json.dumps(identity.trust_policy(mode, cluster, namespace, accounts, irsa, arn or None))

    policy = pulumi.Output.all(oidc_provider_arn, oidc_provider_url, cluster_arn).apply(trust)
    return aws.iam.Role(
        name,
        aws.iam.RoleArgs(
            name_prefix=name_prefix or naming.role_name_prefix(f"{cluster}-{purpose}"),
            description=description,
            assume_role_policy=policy,
            tags=tags,
        ),
        opts,
    )


def associations(
    name: str,
    *,
    mode: WorkloadIdentity,
    cluster: str,
    namespace: str,
    service_accounts: Sequence[str],
    role: aws.iam.Role,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> list[aws.eks.PodIdentityAssociation]:
    """Under Pod Identity, one association per service account (none under IRSA alone). Named by the
    account; EKS holds one association per service account, so a changed one is replaced delete-first.
    ``opts`` must make it wait for the cluster (it names it by name): created then, it has long reached
    EKS's admission webhook when the workloads' first pods start, once nodes exist (associations are
    eventually consistent, and a pod admitted before its association gets no credentials)."""
    if not identity.uses_pod_identity(mode):
        return []
    return [
        aws.eks.PodIdentityAssociation(
            f"{name}-{account}" if len(service_accounts) > 1 else name,
            aws.eks.PodIdentityAssociationArgs(
                cluster_name=cluster, namespace=namespace, service_account=account, role_arn=role.arn, tags=tags
            ),
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)),
        )
        for account in sorted(service_accounts)
    ]
