"""Where EC2 offers each instance type: per region, the zone IDs that have it.

Source: ``data/ec2_offerings.json.gz`` (region -> type -> zone IDs), copied by ``python -m
offline.ec2_data --update`` from the DescribeInstanceTypeOfferings answers (location type
availability-zone-id) moto ships (moto 5.2.6, crawled from AWS in November 2026). AWS's page is
"Amazon EC2 instance types by Region" (docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-regions.html).
Offered is not the same as having capacity, and AWS adds types and zones over time: a region or a
type the copy does not list is not checked. The live check is

    aws ec2 describe-instance-type-offerings --region REGION --location-type availability-zone-id \
        --filters Name=instance-type,Values=TYPE --query 'InstanceTypeOfferings[].Location'

A managed node group whose types no zone of its subnets offers never gets a node: its Auto Scaling
group fails every launch (EKS reports the group degraded) while the deploy itself succeeds.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from . import ec2_sizes

OFFERINGS_FILE = Path(__file__).parent / "data" / "ec2_offerings.json.gz"
SNAPSHOT = "EC2's offerings as moto 5.2.6 ships them (November 2026)"


@cache
def _offerings() -> dict[str, dict[str, list[str]]]:
    return dict(json.loads(gzip.decompress(OFFERINGS_FILE.read_bytes())))


def offered_zones(instance_type: str, region: str) -> tuple[str, ...] | None:
    """The zone IDs of ``region`` offering ``instance_type``: () when EC2 does not offer it there, None
    when the copy cannot say (a region it has no answers for, or a type EC2 did not describe)."""
    table = _offerings().get(region)
    if table is None or not ec2_sizes.known(instance_type):
        return None
    return tuple(table.get(instance_type, ()))
