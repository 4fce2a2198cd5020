"""AWS list prices (USD) for what the fleet registers, each with its source and the date that source shows.

``python -m offline.fetch_prices`` rewrites the EC2 and NAT gateway figures (data/prices.json) from the
AWS Price List bulk API when the network allows; the others are kept here with their sources. Prices
that no source on hand states are absent, never guessed: the estimate lists what it could not price.

HOURS_PER_MONTH is AWS's own convention in its pricing examples (730 hours a month). A monthly price
is held here as its hourly equivalent (monthly / 730), so every item of an estimate is hourly x
quantity x 730.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOURS_PER_MONTH = 730
PRICE_DATE = "2026-12-07"
"""When this table was compiled from the sources below (each price keeps its source's own date)."""


@dataclass(frozen=True)
class Price:
    hourly: float
    """USD per unit-hour (a monthly price divided by HOURS_PER_MONTH)."""
    unit: str
    source: str
    dated: str
    """The date the source shows for it, or "undated"."""


def _monthly(usd: float) -> float:
    return usd / HOURS_PER_MONTH


_EKS_BLOG = "AWS Containers blog, 'Amazon EKS extended support for Kubernetes versions pricing'"
EKS_CONTROL_PLANE = {
    "STANDARD": Price(0.10, "cluster-hour", _EKS_BLOG, "2024-04-01"),
    "EXTENDED": Price(0.60, "cluster-hour", _EKS_BLOG, "2024-04-01"),
}

PRICES_FILE = Path(__file__).parent / "data" / "prices.json"
"""EC2 on-demand and NAT gateway hours per region, each with its source: python -m offline.fetch_prices
rewrites them from the Price List's offer files."""
_DATA: dict[str, Any] = json.loads(PRICES_FILE.read_text())


def _price(entry: dict[str, Any] | None, unit: str) -> Price | None:
    return Price(float(entry["usd"]), unit, str(entry["source"]), str(entry["dated"])) if entry else None


def ec2_on_demand(region: str, instance_type: str) -> Price | None:
    """Linux, shared tenancy, on-demand; None when no source on hand states it."""
    return _price(_DATA["ec2OnDemand"].get(region, {}).get(instance_type), "instance-hour")


SPOT_SAVING_UP_TO = 0.90
"""Spot prices move; AWS states Spot saves "up to 90%" of on-demand (Amazon EC2 Spot Instances page).
The estimate counts Spot at on-demand (the upper bound) and says so."""

_VPC_PRICING = "aws.amazon.com/vpc/pricing (via the AWS Price List)"
NAT_GATEWAY = {region: p for region, entry in _DATA["natGatewayHour"].items() if (p := _price(entry, "NAT gateway-hour"))}
PUBLIC_IPV4 = Price(0.005, "address-hour", _VPC_PRICING + "; charged since 2024-02-01", "2024-02-01")
NLB = {
    "us-east-1": Price(0.0225, "load balancer-hour", "Infracost output for a Network Load Balancer (730 h = $16.43)", "undated")
}
NLCU = Price(0.006, "NLCU-hour", "aws.amazon.com/elasticloadbalancing/pricing", "2026-09-20")

_ROUTE53 = "Route 53 pricing (an architecture catalog's copy, October 2026)"
ROUTE53_HEALTH_CHECK_AWS = Price(_monthly(0.50), "health check-month / 730", _ROUTE53, "2026-10")
ROUTE53_HEALTH_CHECK_FEATURE = Price(
    _monthly(1.00), "optional feature-month / 730 (HTTPS, string match, fast interval)", _ROUTE53, "2026-10"
)
ARC_CLUSTER = Price(2.50, "cluster-hour", _ROUTE53, "2026-10")
TRANSIT_GATEWAY_ATTACHMENT = {
    "us-east-1": Price(0.05, "attachment-hour", "aws pricing get-products AmazonVPC (USE1-TransitGateway-Hours)", "undated")
}
RESOLVER_ENI = Price(0.125, "ENI-hour", "Route 53 Resolver pricing (ResolverNetworkInterface)", "2026-10")
KMS_KEY = Price(_monthly(1.00), "key-month / 730", "AWS KMS pricing, as quoted in a 2019 gist (dasgoll)", "2019-10-30")
LOG_INGESTION_PER_GB = {
    "us-east-1": Price(0.50, "GB", "Infracost output, CloudWatch Logs data ingested", "undated"),
    "eu-west-1": Price(0.57, "GB", "AWS Price List SKU KJBTQPDHW2H92B8Y", "2026-03-01"),
    "us-west-2": Price(0.50, "GB", "AWS bill line USW2-DataProcessing-Bytes", "undated"),
}

LOG_GB_PER_MONTH = {"eks control plane": 10.0, "VPC flow logs": 5.0}
"""Stated assumptions, not measurements: GB a month each cluster's control-plane logs (all five types
on) and its VPC's flow logs ingest. Real volume follows API traffic and connections."""

NOT_COUNTED = (
    "data transfer (inter-AZ, inter-region, internet egress) and NAT gateway, transit gateway and NLB per-GB charges",
    "NLB capacity units (LCUs) beyond the hourly charge",
    "EBS PersistentVolumes, by what workloads claim (node root volumes are listed, in GB, as unpriced)",
    "Route 53 queries, and the hosted zone itself (the program looks it up; it does not create it)",
    "CloudWatch log storage, metrics and alarms",
)
