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
