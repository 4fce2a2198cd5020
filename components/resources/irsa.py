"""An IAM role one Kubernetes service account assumes through its cluster's OIDC provider (IRSA)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from ..planning import naming
from ..planning.iam_policies import irsa_trust_policy


def irsa_role(
    name: str,
    *,
    cluster: str,
    purpose: str,
    oidc_provider_arn: pulumi.Input[str],
    oidc_provider_url: pulumi.Input[str],
    service_account: tuple[str, str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """The role, trusted by ``service_account`` (namespace, name) only (sub and aud pinned), named from a prefix
    that fits IAM's 64 characters."""
    namespace, account = service_account
    return aws.iam.Role(
        name,
        aws.iam.RoleArgs(
            name_prefix=naming.role_name_prefix(f"{cluster}-{purpose}"),
            assume_role_policy=pulumi.Output.all(oidc_provider_arn, oidc_provider_url).apply(
                lambda oidc: json.dumps(irsa_trust_policy(oidc[0], oidc[1], namespace, account))
            ),
            tags=tags,
        ),
        opts,
    )
