"""Security group rules from ``security_rules.CidrRule`` values: the one place they become resources."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from ..planning.security_rules import CidrRule


def cidr_rules(
    name: str,
    group: pulumi.Input[str],
    rules: Sequence[CidrRule],
    opts: pulumi.ResourceOptions,
    *,
    egress: bool = False,
    region: str | None = None,
) -> None:
    """One ingress (or egress) rule per CidrRule on ``group``, named ``<name>-<rule slug>``.

    ``region`` places the rules in another region than the provider's (a hub's group, from a link).
    """
    for rule in rules:
        # Spelled out twice: the two types take the same arguments, but their Args classes differ.
        if egress:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{rule.slug}",
                aws.vpc.SecurityGroupEgressRuleArgs(
                    security_group_id=group,
                    ip_protocol=rule.protocol,
                    from_port=rule.port,
                    to_port=rule.port,
                    cidr_ipv4=str(rule.cidr),
                    description=rule.purpose,
                    region=region,
                ),
                opts,
            )
        else:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{rule.slug}",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=group,
                    ip_protocol=rule.protocol,
                    from_port=rule.port,
                    to_port=rule.port,
                    cidr_ipv4=str(rule.cidr),
                    description=rule.purpose,
                    region=region,
                ),
                opts,
            )
