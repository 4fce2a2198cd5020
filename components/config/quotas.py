"""Quotas the account has raised above AWS's defaults (fleet:quotas), per region and account-wide."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..aws import ec2_quotas
from ..aws.ec2_quotas import VcpuClass
from .types import (
    Model,
    Quota,
    Region,
)


class RegionQuotasSpec(Model):
    """An account's raised values of per-region quotas (Service Quotas); unset means AWS's default."""

    elastic_ips: Quota | None = None
    """EC2-VPC Elastic IPs (L-0263D0A3)."""
    vpcs: Quota | None = None
    """VPCs per Region (L-F678F1CE)."""
    internet_gateways: Quota | None = None
    """Internet gateways per Region (L-A4707A72)."""
    nat_gateways_per_az: Quota | None = None
    """NAT gateways per Availability Zone (L-FE5A380F)."""
    network_load_balancers: Quota | None = None
    """Network Load Balancers per Region (L-69A177A2)."""
    resolver_endpoints: Quota | None = None
    """Route 53 Resolver endpoints per Region."""
    peering_connections_per_vpc: Quota | None = None
    """Active VPC peering connections per VPC (L-7E9ECCDB)."""
    routes_per_route_table: Quota | None = None
    """Routes per route table (L-93826ACB)."""
    transit_gateways: Quota | None = None
    """Transit gateways per Region."""
    transit_gateway_peering_attachments: Quota | None = None
    """Peering attachments per transit gateway."""
    inbound_rules_per_security_group: Quota | None = None
    """Inbound rules per security group (L-0EA8095F)."""
    security_groups_per_interface: Quota | None = None
    """Security groups per network interface (L-2AFB9258)."""
    prefix_lists_per_region: Quota | None = None
    """Customer-managed prefix lists per Region (VPC)."""
    on_demand_vcpus: dict[VcpuClass, Quota] = Field(default_factory=dict)
    """Running On-Demand instances, in vCPUs, per quota class (Standard L-1216C47A, P L-417A185B, G L-DB2E81BA,
    Inf L-1945791B, Trn L-2C3B7624, ...: components/aws/ec2_quotas.py); AWS's defaults are 5 and 0."""
    spot_vcpus: dict[VcpuClass, Quota] = Field(default_factory=dict)
    """Spot Instance requests, in vCPUs, per quota class (Standard L-34B43A08, G L-3819A6DF, P L-7212CCBC, P5
    L-C4BD4855, ...); High Memory and HPC have no Spot quota."""

    @model_validator(mode="after")
    def _classes_aws_has(self) -> RegionQuotasSpec:
        problems = []
        if "P5" in self.on_demand_vcpus:
            problems.append("onDemandVcpus.P5: P5 On-Demand counts against P (L-417A185B); declare it as P")
        problems += [
            f"spotVcpus.{klass}: AWS has no Spot quota for {klass} instances"
            for klass in sorted(self.spot_vcpus)
            if ec2_quotas.VCPU_QUOTAS[klass].spot is None
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class AccountQuotasSpec(Model):
    """An account's raised values of global quotas; unset means AWS's default."""

    route53_health_checks: Quota | None = None
    """Route 53 health checks per account."""
    iam_oidc_providers: Quota | None = None
    """IAM OpenID Connect providers per account."""
    iam_roles: Quota | None = None
    """IAM roles per account (this stack's count; other stacks in the account hold their own)."""


class QuotasSpec(Model):
    account: AccountQuotasSpec = Field(default_factory=AccountQuotasSpec)
    """Global quotas the account has raised."""
    regions: dict[Region, RegionQuotasSpec] = Field(default_factory=dict)
    """Per region, the quotas the account has raised there."""
