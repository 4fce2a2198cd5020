"""AWS's quotas and hard limits the fleet leans on, each with the page that documents it.

Adjustable quotas carry their Service Quotas code and AWS's default (the preflight counts what a
stack registers against them, and ``fleet:quotas`` declares an account's raised values); hard limits
are plain numbers. EC2's vCPU quotas per instance class are in ``ec2_quotas.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

# EKS accepts at most 40 CIDR blocks in a cluster's publicAccessCidrs
# (aws/containers-roadmap#2174; EKS API reference, VpcConfigRequest.publicAccessCidrs).
EKS_PUBLIC_ACCESS_CIDRS_MAX = 40

# Defaults of adjustable quotas (VPC user guide, "Amazon VPC quotas", security groups).
INBOUND_RULES_PER_GROUP = 60
GROUPS_PER_INTERFACE = 5
# Not adjustable: the product of the two quotas above.
RULES_TIMES_GROUPS = 1000
# EKS's cluster security group comes with one inbound rule: everything from itself.
EKS_SELF_RULES = 1

EKS_QUOTAS = "EKS user guide, Amazon EKS service quotas; EKS API reference, VpcConfigRequest"
VPC_QUOTAS = "Amazon VPC user guide, Amazon VPC quotas"
WEIGHTED_RECORDS_PER_NAME = 100
ROUTE53_QUOTAS = "Route 53 developer guide, Quotas"


@dataclass(frozen=True)
class Quota:
    """An adjustable quota: its key under fleet:quotas, AWS's default, and how to raise it."""

    key: str
    title: str
    default: int
    scope: str
    """region or account."""
    service: str
    code: str | None = None
    """The Service Quotas code, where it is one we could confirm."""

    def how_to_raise(self, region: str | None, needed: int) -> str:
        where = f" --region {region}" if region else " --region us-east-1"
        if self.code is not None:
            request = (
                f"aws service-quotas request-service-quota-increase --service-code {self.service} "
                f"--quota-code {self.code} --desired-value {needed}{where}"
            )
        else:
            request = f"Service Quotas console ({self.service}: {self.title}){where}"
        declared = f"fleet:quotas.regions.{region}.{self.key}" if region else f"fleet:quotas.account.{self.key}"
        return f"request it ({request}), then declare {declared}: {needed}"


# Defaults from each service's quota page (Service Quotas shows the account's current values).
QUOTAS = {
    q.key: q
    for q in (
        Quota("elasticIps", "EC2-VPC Elastic IPs", 5, "region", "ec2", "L-0263D0A3"),
        Quota("vpcs", "VPCs per Region", 5, "region", "vpc", "L-F678F1CE"),
        Quota("internetGateways", "Internet gateways per Region", 5, "region", "vpc", "L-A4707A72"),
        Quota("natGatewaysPerAz", "NAT gateways per Availability Zone", 5, "region", "vpc", "L-FE5A380F"),
        Quota("networkLoadBalancers", "Network Load Balancers per Region", 50, "region", "elasticloadbalancing", "L-69A177A2"),
        Quota("resolverEndpoints", "Endpoints per AWS Region (Route 53 Resolver)", 4, "region", "route53resolver"),
        Quota("peeringConnectionsPerVpc", "Active VPC peering connections per VPC", 50, "region", "vpc", "L-7E9ECCDB"),
        Quota("routesPerRouteTable", "Routes per route table", 50, "region", "vpc", "L-93826ACB"),
        Quota("transitGateways", "Transit gateways per Region", 5, "region", "ec2"),
        Quota("transitGatewayPeeringAttachments", "Peering attachments per transit gateway", 50, "region", "ec2"),
        Quota("prefixListsPerRegion", "Prefix lists per Region", 100, "region", "vpc"),
        Quota("route53HealthChecks", "Health checks per account", 200, "account", "route53", "L-ACB674F3"),
        Quota("iamOidcProviders", "OpenID Connect providers per account", 100, "account", "iam"),
        Quota("iamRoles", "Roles per account", 1000, "account", "iam"),
    )
}
RULES_QUOTA = Quota(
    "inboundRulesPerSecurityGroup",
    "Inbound or outbound rules per security group",
    INBOUND_RULES_PER_GROUP,
    "region",
    "vpc",
    "L-0EA8095F",
)
GROUPS_QUOTA = Quota(
    "securityGroupsPerInterface",
    "Security groups per network interface",
    GROUPS_PER_INTERFACE,
    "region",
    "vpc",
    "L-2AFB9258",
)
