"""Which IAM principals get EKS access entries, as pure logic.

pulumi-eks always creates clusters with ``bootstrapClusterCreatorAdminPermissions: true``: EKS
itself gives the identity that creates a cluster an admin access entry, and creating a second
entry for the same principal fails with ``ResourceInUseException`` (pulumi/pulumi-eks#2373). For
an assumed role that principal is the role, not the session. A role's ARN may carry a path that
the session ARN lacks; role names are unique per account, so principals compare without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_IAM_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):iam::(?P<account>\d{12}):(?P<kind>role|user)/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]+)$"
)
_STS_ARN = re.compile(r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<name>[\w+=,.@-]+)/[^/]+$")


def principal_key(arn: str) -> tuple[str, str, str, str]:
    """(partition, account, role|user, name): equal for a role ARN with or without its path, and for its sessions."""
    if match := _IAM_ARN.match(arn):
        return (match["partition"], match["account"], match["kind"], match["name"])
    if match := _STS_ARN.match(arn):
        return (match["partition"], match["account"], "role", match["name"])
    return ("", "", "", arn)


def same_principal(a: str, b: str) -> bool:
    return principal_key(a) == principal_key(b)


def admins_needing_entries(cluster_admins: Iterable[str], creator: str) -> list[str]:
    """fleet:clusterAdmins minus the cluster's creator, whose admin entry EKS already made; sorted, each once."""
    return sorted({arn for arn in cluster_admins if not same_principal(arn, creator)})
