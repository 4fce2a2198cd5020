"""Logical names, tags and ARN partitions, derived only from config values (never list order)."""

from __future__ import annotations

import hashlib

MANAGED_BY_TAG = {"managed-by": "pulumi-fleet"}


def aws_provider_name(region: str) -> str:
    return f"aws-{region}"


def kubernetes_provider_name(cluster: str) -> str:
    return f"{cluster}-k8s"


def short_hash(text: str, length: int = 8) -> str:
    """A stable short id for values (such as ARNs) that cannot appear in a logical name as-is."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def partition(region: str) -> str:
    """The ARN partition of a region: aws, aws-cn or aws-us-gov."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def cluster_tags(cluster: str, region: str) -> dict[str, str]:
    return {"fleet-cluster": cluster, "fleet-region": region}


# ---------------------------------------------------------------- physical names AWS limits

# Pulumi auto-names a resource "<logical name>-<7 random characters>".
AUTONAME_SUFFIX = 8
# Terraform-style name_prefix arguments append a 26-character unique suffix.
NAME_PREFIX_SUFFIX = 26

# Longest physical name AWS accepts, by resource type (each service's API reference).
NAME_LIMITS: dict[str, int] = {
    "aws:lb/loadBalancer:LoadBalancer": 32,
    "aws:lb/targetGroup:TargetGroup": 32,
    "aws:iam/role:Role": 64,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:iam/policy:Policy": 128,
    "aws:ec2/launchTemplate:LaunchTemplate": 128,
    "aws:ec2/securityGroup:SecurityGroup": 255,
    "aws:ec2/managedPrefixList:ManagedPrefixList": 255,
    "aws:cloudwatch/logGroup:LogGroup": 512,
    "aws:eks/nodeGroup:NodeGroup": 63,
    "eks:index:ManagedNodeGroup": 63,
    "aws:route53/resolverEndpoint:ResolverEndpoint": 64,
    "aws:route53/resolverRule:ResolverRule": 64,
}


def fit(name: str, limit: int) -> str:
    """``name`` itself when it fits, else its head and a hash of the whole: short, stable, still distinct."""
    if len(name) <= limit:
        return name
    digest = short_hash(name, 8)
    if limit <= len(digest) + 1:
        return short_hash(name, limit)
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def fit_prefix(prefix: str, limit: int) -> str:
    """A name_prefix that leaves room for the 26-character suffix AWS name_prefix arguments add."""
    return fit(prefix.rstrip("-"), limit - NAME_PREFIX_SUFFIX - 1) + "-"


def load_balancer_name(cluster: str) -> str:
    """The edge NLB's name: 'edge-' first, so no cluster name can make it start with the reserved 'internal-'."""
    return fit(f"edge-{cluster}", NAME_LIMITS["aws:lb/loadBalancer:LoadBalancer"])


def target_group_name(cluster: str, port: int) -> str:
    """The edge target group's name; the port is in it because a port change replaces the group
    (create first), and two target groups may not share a name."""
    return fit(f"edge-{cluster}-{port}", NAME_LIMITS["aws:lb/targetGroup:TargetGroup"])


def role_name_prefix(text: str) -> str:
    """name_prefix of an IAM role: role names are account-wide, so a prefix keeps two stacks apart."""
    return fit_prefix(text, NAME_LIMITS["aws:iam/role:Role"])


def hub_role_name_prefix(project: str, stack: str) -> str:
    """The name prefix of the Argo CD role a hub stack creates; joining stacks check the role they read by it."""
    return role_name_prefix(f"{project}-{stack}-argocd-hub")


def node_group_name_prefix(cluster: str, group: str) -> str:
    return fit_prefix(f"{cluster}-{group}", NAME_LIMITS["eks:index:ManagedNodeGroup"])


def launch_template_name_prefix(text: str) -> str:
    return fit_prefix(text, NAME_LIMITS["aws:ec2/launchTemplate:LaunchTemplate"])
