"""What the fleet a stack registers costs a month, before it is deployed: every priced resource of the
offline run (the program's own registrations, not a second reading of the config) at the dated list
prices of components/aws/prices.py.

Each resource is a cluster's when it carries the fleet-cluster tag (or is the cluster or one of its
node groups), else the stack's shared part. An item's monthly is hourly x quantity x 730; a cluster's
is the sum of its items, and the clusters and the shared part add up to the total. What no source on
hand prices is listed as unpriced, out of the totals, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from components.aws import eks_versions, prices
from components.aws.prices import HOURS_PER_MONTH, Price
from components.config import clock
from offline.harness import Registration, Run

SHARED = ""


@dataclass(frozen=True)
class Item:
    owner: str
    """The cluster, or SHARED."""
    region: str
    item: str
    quantity: float
    price: Price | None

    @property
    def monthly(self) -> float:
        return round(self.price.hourly * self.quantity * HOURS_PER_MONTH, 2) if self.price else 0.0


def _region(run: Run, r: Registration) -> str:
    tags = r.inputs.get("tags") or {}
    if tags.get("fleet-region"):
        return str(tags["fleet-region"])
    if r.inputs.get("region"):
        return str(r.inputs["region"])
    provider = run.registrations.get(r.provider_urn)
    return str(provider.inputs.get("region", "")) if provider is not None else ""


def _owner(r: Registration) -> str:
    if r.type == "eks:index:Cluster":
        return str(r.inputs.get("name") or r.name.removesuffix("-eks"))
    return str((r.inputs.get("tags") or {}).get("fleet-cluster") or SHARED)


def _node_group(run: Run, r: Registration, owner: str, region: str) -> list[Item]:
    types = [str(t) for t in r.inputs.get("instanceTypes") or []] or ["unknown"]
    desired = int((r.inputs.get("scalingConfig") or {}).get("desiredSize", 0))
    group = (r.inputs.get("labels") or {}).get("fleet/node-group", r.name)
    if r.inputs.get("capacityType") == "SPOT":
        # EKS spreads a Spot group over all its types (price-capacity-optimized, EKS user guide "Managed
        # node group capacity types"): the upper bound is the dearest type's on-demand price.
        found = [prices.ec2_on_demand(region, t) for t in types]
        known = [p for p in found if p is not None]
        dearest = max(known, key=lambda p: p.hourly) if len(known) == len(found) else None
        label = f"EC2 {'/'.join(types)} ({group}, Spot at the dearest type's on-demand price: the upper bound)"
        items = [Item(owner, region, label, desired, dearest)]
    else:
        # EKS launches an on-demand group's types in the order given (allocation strategy "prioritized").
        items = [Item(owner, region, f"EC2 {types[0]} ({group})", desired, prices.ec2_on_demand(region, types[0]))]
    template = run.by_id(str((r.inputs.get("launchTemplate") or {}).get("id", "")))
    for mapping in (template.inputs.get("blockDeviceMappings") or []) if template is not None else []:
        ebs = mapping.get("ebs") or {}
        gigabytes = desired * int(ebs.get("volumeSize") or 0)
        items.append(Item(owner, region, f"EBS {ebs.get('volumeType', 'gp3')} node root volumes, GB ({group})", gigabytes, None))
    return items


def _control_plane(r: Registration, owner: str, region: str, today: dt.date) -> Item:
    """EKS bills the extended price only once the version has left standard support, and only under
    EXTENDED: under STANDARD, EKS upgrades the cluster at that date (EKS user guide, "Kubernetes version
    lifecycle" and "Cluster upgrade policy")."""
    version = str(r.inputs.get("version", ""))
    support = str((r.inputs.get("upgradePolicy") or {}).get("supportType", "STANDARD"))
    window = eks_versions.SUPPORT.get(version)
    extended = support == "EXTENDED" and window is not None and today > window.standard_until
    kind = "EXTENDED" if extended else "STANDARD"
    return Item(owner, region, f"EKS control plane ({version}, {kind.lower()} support)", 1, prices.EKS_CONTROL_PLANE[kind])


def items_of(run: Run, today: dt.date) -> list[Item]:
    found: list[Item] = []
    for r in run.registrations.values():
        owner, region = _owner(r), _region(run, r)
        add = found.append
        match r.type:
            case "eks:index:Cluster":
                add(_control_plane(r, owner, region, today))
                if r.inputs.get("enabledClusterLogTypes"):
                    add(_logs(owner, region, "eks control plane"))
            case "eks:index:ManagedNodeGroup":
                found += _node_group(run, r, owner, region)
            case "aws:ec2/natGateway:NatGateway":
                add(Item(owner, region, "NAT gateway", 1, prices.NAT_GATEWAY.get(region)))
            case "aws:ec2/eip:Eip":
                add(Item(owner, region, "public IPv4 address (Elastic IP)", 1, prices.PUBLIC_IPV4))
            case "aws:lb/loadBalancer:LoadBalancer" if r.inputs.get("loadBalancerType") == "network":
                add(Item(owner, region, "Network Load Balancer", 1, prices.NLB.get(region)))
                if not r.inputs.get("internal"):
                    zones = len(r.inputs.get("subnets") or r.inputs.get("subnetMappings") or [])
                    add(Item(owner, region, "public IPv4 address (internet-facing NLB, one per zone)", zones, prices.PUBLIC_IPV4))
            case "aws:route53/healthCheck:HealthCheck":
                found += _health_check(r, owner)
            case "aws:route53recoverycontrol/cluster:Cluster":
                add(Item(owner, region, "Route 53 ARC cluster", 1, prices.ARC_CLUSTER))
            case "aws:ec2transitgateway/vpcAttachment:VpcAttachment":
                add(Item(owner, region, "transit gateway VPC attachment", 1, prices.TRANSIT_GATEWAY_ATTACHMENT.get(region)))
            case "aws:ec2transitgateway/peeringAttachment:PeeringAttachment":
                add(Item(owner, region, "transit gateway peering attachment", 1, None))
            case "aws:route53/resolverEndpoint:ResolverEndpoint":
                add(
                    Item(
                        owner,
                        region,
                        "Route 53 Resolver endpoint ENI",
                        len(r.inputs.get("ipAddresses") or []),
                        prices.RESOLVER_ENI,
                    )
                )
            case "aws:kms/key:Key":
                add(Item(owner, region, "KMS customer managed key", 1, prices.KMS_KEY))
            case "aws:ec2/flowLog:FlowLog" if r.inputs.get("logDestinationType") == "cloud-watch-logs":
                add(_logs(owner, region, "VPC flow logs"))
    return found


def _logs(owner: str, region: str, source: str) -> Item:
    per_gb = prices.LOG_INGESTION_PER_GB.get(region)
    gb = prices.LOG_GB_PER_MONTH[source]
    hourly = Price(per_gb.hourly * gb / HOURS_PER_MONTH, "month / 730", per_gb.source, per_gb.dated) if per_gb else None
    return Item(owner, region, f"CloudWatch Logs ingestion, {source} (assumed {gb:g} GB a month)", 1, hourly)


def _health_check(r: Registration, owner: str) -> list[Item]:
    kind = str(r.inputs.get("type", ""))
    if kind in ("HTTP", "HTTPS", "TCP", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"):
        checks = [Item(owner, "global", f"Route 53 health check ({kind}, AWS endpoint)", 1, prices.ROUTE53_HEALTH_CHECK_AWS)]
        if kind.startswith("HTTPS"):
            checks.append(Item(owner, "global", "Route 53 health check option: HTTPS", 1, prices.ROUTE53_HEALTH_CHECK_FEATURE))
        if (r.inputs.get("requestInterval") or 30) == 10:
            checks.append(
                Item(owner, "global", "Route 53 health check option: fast interval", 1, prices.ROUTE53_HEALTH_CHECK_FEATURE)
            )
        return checks
    return [Item(owner, "global", f"Route 53 health check ({kind})", 1, None)]


def _entry(item: Item) -> dict[str, Any]:
    assert item.price is not None
    return {
        "item": item.item,
        "region": item.region,
        "quantity": item.quantity,
        "hourly": item.price.hourly,
        "monthly": item.monthly,
    }


def _group(items: list[Item]) -> list[Item]:
    """One line per (owner, region, item, price): quantities of the same thing added."""
    merged: dict[tuple[str, str, str, Price | None], float] = defaultdict(float)
    for i in items:
        merged[(i.owner, i.region, i.item, i.price)] += i.quantity
    return [Item(o, r, name, q, p) for (o, r, name, p), q in sorted(merged.items(), key=lambda kv: kv[0][:3])]


def estimate(run: Run, today: dt.date | None = None) -> dict[str, Any]:
    """The monthly estimate; ``today`` (default: the clock, FLEET_TODAY) decides which clusters pay extended support."""
    items = _group(items_of(run, today or clock.today()))
    priced = [i for i in items if i.price is not None]
    clusters: dict[str, dict[str, Any]] = {}
    for owner in sorted({i.owner for i in priced if i.owner != SHARED}):
        mine = [_entry(i) for i in priced if i.owner == owner]
        clusters[owner] = {"monthly": round(sum(e["monthly"] for e in mine), 2), "items": mine}
    shared_items = [_entry(i) for i in priced if i.owner == SHARED]
    shared = {"monthly": round(sum(e["monthly"] for e in shared_items), 2), "items": shared_items}
    regions: dict[str, float] = defaultdict(float)
    for i in priced:
        regions[i.region] += i.monthly
    return {
        "currency": "USD",
        "priceDate": prices.PRICE_DATE,
        "hoursPerMonth": HOURS_PER_MONTH,
        "monthly": round(sum(c["monthly"] for c in clusters.values()) + shared["monthly"], 2),
        "clusters": clusters,
        "shared": shared,
        "regions": {region: round(total, 2) for region, total in sorted(regions.items())},
        "unpriced": [
            {"item": i.item, "region": i.region, "quantity": i.quantity, "cluster": i.owner or None}
            for i in items
            if i.price is None
        ],
        "assumptions": [
            f"{HOURS_PER_MONTH} hours a month; on-demand list prices; Spot counted at its dearest type's on-demand "
            f"price (Spot saves up to {prices.SPOT_SAVING_UP_TO:.0%})",
            *(f"{source}: {gb:g} GB ingested a month per cluster" for source, gb in prices.LOG_GB_PER_MONTH.items()),
            "node groups at their desiredSize; an on-demand group at its first instance type",
            "the extended support price only for clusters under EXTENDED whose version has left standard support today",
        ],
        "notCounted": list(prices.NOT_COUNTED),
    }


def text(found: dict[str, Any]) -> str:
    lines = [f"Monthly estimate, {found['currency']} list prices of {found['priceDate']} ({found['hoursPerMonth']} h a month):"]
    for name, part in [*found["clusters"].items(), ("shared", found["shared"])]:
        lines.append(f"  {name}: ${part['monthly']:,.2f}")
        lines += [
            f"    {e['item']} x {e['quantity']:g} ({e['region']}) at ${e['hourly']:.4f}/h: ${e['monthly']:,.2f}"
            for e in part["items"]
        ]
    lines.append("  by region: " + ", ".join(f"{r} ${m:,.2f}" for r, m in found["regions"].items()))
    lines.append(f"  total: ${found['monthly']:,.2f} a month")
    lines += [
        f"  not priced (no source on hand; out of the total): {u['item']} x {u['quantity']:g} ({u['region']})"
        for u in found["unpriced"]
    ]
    lines += [f"  assumed: {a}" for a in found["assumptions"]]
    lines += [f"  not counted: {n}" for n in found["notCounted"]]
    return "\n".join(lines) + "\n"


def monthly_difference(before: Run, after: Run, today: dt.date | None = None) -> float:
    return round(float(estimate(after, today)["monthly"]) - float(estimate(before, today)["monthly"]), 2)
