"""IAM principal ARNs: when two ARNs name the same principal.

For an assumed role, STS reports the session (``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION``)
and EKS keys access entries by the role. A role's ARN may carry a path that the session ARN lacks;
role names are unique per account (IAM user guide, "IAM identifiers"), so principals compare
without it.
"""

from __future__ import annotations

import re

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
