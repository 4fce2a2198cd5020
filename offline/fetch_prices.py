"""python -m offline.fetch_prices [--region R ...]: refresh components/aws/data/prices.json (EC2 on-demand
and NAT gateway hours) from the AWS Price List bulk API, when the network allows; no credentials needed.

The bulk API (AWS Billing user guide, "Getting price list files manually"): a service's region index,
https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/region_index.json, names
each region's offer file (currentVersionUrl); its CSV form (the same path ending .csv) is streamed row
by row, because the EC2 file of one region is hundreds of MB. The CSV starts with five metadata rows
(FormatVersion, Disclaimer, Publication Date, Version, OfferCode), then the header. A row is an
instance's price when TermType is OnDemand, Operating System Linux, Tenancy Shared, Pre Installed S/W
NA, CapacityStatus Used, License Model "No License required", MarketOption OnDemand (where the file
has the column; Karpenter's generator filters on it too) and Unit Hrs; two such rows that disagree
stop the refresh. A capacity reservation's unused hours are another row; a NAT
gateway's hour has usageType ending NatGateway-Hours. Only the instance types the table already holds
are refreshed, and regions it lists (or --region).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any

from components.aws.prices import PRICES_FILE

PRICING = "https://pricing.us-east-1.amazonaws.com"
REGION_INDEX = f"{PRICING}/offers/v1.0/aws/AmazonEC2/current/region_index.json"
METADATA_ROWS = 5


def offer_rows(lines: Iterable[str]) -> Iterator[dict[str, str]]:
    """The rows of an offer CSV as dicts keyed by its header, after the metadata rows."""
    iterator = iter(lines)
    for _ in range(METADATA_ROWS):
        next(iterator, None)
    yield from csv.DictReader(iterator)


def prices_of(rows: Iterable[dict[str, str]], region: str, types: set[str]) -> tuple[dict[str, float], float | None]:
    """(instance type -> on-demand Linux shared hourly USD, NAT gateway hourly USD or None) of one
    region's EC2 offer rows."""
    found: dict[str, float] = {}
    nat: float | None = None
    for row in rows:
        if row.get("Region Code") not in (region, None) or row.get("Unit") != "Hrs" or row.get("TermType") != "OnDemand":
            continue
        price = float(row.get("PricePerUnit") or 0)
        if str(row.get("usageType", "")).endswith("NatGateway-Hours") and price > 0:
            nat = price
            continue
        if (
            row.get("Instance Type") in types
            and row.get("Operating System") == "Linux"
            and row.get("Tenancy") == "Shared"
            and row.get("Pre Installed S/W") == "NA"
            and row.get("CapacityStatus") == "Used"
            and row.get("License Model", "No License required") == "No License required"
            and row.get("MarketOption", "OnDemand") == "OnDemand"
            and price > 0
        ):
            kind = row["Instance Type"]
            if kind in found and found[kind] != price:
                raise ValueError(f"{region} {kind}: two on-demand Linux rows disagree ({found[kind]} and {price})")
            found[kind] = price
    return found, nat


def _metadata(lines: list[str]) -> dict[str, str]:
    return {row[0]: row[1] for row in csv.reader(lines) if len(row) >= 2}


def refresh(table: dict[str, Any], region: str, lines: Iterable[str]) -> list[str]:
    """Update ``table`` (prices.json's document) for one region from its offer CSV; what changed."""
    iterator = iter(lines)
    head = [next(iterator, "") for _ in range(METADATA_ROWS)]
    published = _metadata(head).get("Publication Date", "")[:10] or "undated"
    source = f"AWS Price List bulk API, AmazonEC2 {region} offer (version {_metadata(head).get('Version', '?')})"
    types = set(table["ec2OnDemand"].get(region, {}))
    ec2, nat = prices_of(csv.DictReader(iterator), region, types)
    changed = []
    for instance_type, usd in sorted(ec2.items()):
        old = table["ec2OnDemand"][region][instance_type]["usd"]
        table["ec2OnDemand"][region][instance_type] = {"usd": usd, "source": source, "dated": published}
        if old != usd:
            changed.append(f"{region} {instance_type}: {old} -> {usd}")
    if nat is not None:
        old_nat = table["natGatewayHour"].get(region, {}).get("usd")
        table["natGatewayHour"][region] = {"usd": nat, "source": source, "dated": published}
        if old_nat != nat:
            changed.append(f"{region} NAT gateway: {old_nat} -> {nat}")
    return changed


def _lines(url: str) -> Iterator[str]:
    with urllib.request.urlopen(url, timeout=60) as response:
        yield from io.TextIOWrapper(response, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.fetch_prices", description=__doc__.splitlines()[0])
    parser.add_argument("--region", action="append", help="only these regions (default: every region the table lists)")
    args = parser.parse_args(argv)
    table = json.loads(PRICES_FILE.read_text())
    regions = args.region or sorted(table["ec2OnDemand"])
    try:
        with urllib.request.urlopen(REGION_INDEX, timeout=60) as response:
            index = json.load(response)["regions"]
        for region in regions:
            table["ec2OnDemand"].setdefault(region, {})
            url = PRICING + index[region]["currentVersionUrl"].removesuffix(".json") + ".csv"
            for line in refresh(table, region, _lines(url)):
                print(line)
    except (OSError, KeyError, ValueError) as error:
        print(f"python -m offline.fetch_prices: {error}: the table is unchanged", file=sys.stderr)
        return 1
    PRICES_FILE.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
