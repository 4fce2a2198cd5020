"""Where EC2 offers each instance type: per region, the zone IDs that have it.

Source: ``data/ec2_offerings.json.gz`` (region -> type -> zone IDs), copied by ``python -m
offline.ec2_data --update`` from the DescribeInstanceTypeOfferings answers (location type
availability-zone-id) moto ships (moto 5.2.6, released 2026-11-23; moto records no date of its
crawl, from one account). AWS's page is "Amazon EC2 instance types by Region"
(docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-regions.html). Offered is not the same
as having capacity, and AWS adds types and zones over time: a region or a type the copy does not
list is not checked (the preflight says so for a region). The live check is

    aws ec2 describe-instance-type-offerings --region REGION --location-type availability-zone-id \
        --filters Name=instance-type,Values=TYPE --query 'InstanceTypeOfferings[].Location'

EKS refuses to create a managed node group with a type that a zone of its subnets does not offer
(CreateNodegroup: 400 InvalidRequestException, "Your requested instance type (g4dn.xlarge) is not
supported in your requested Availability Zone (us-west-2d)"; awslabs/ec2-spot-workshops#154,
eksctl-io/eksctl#6461): the deploy stops after the cluster is built.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

from . import ec2_sizes

OFFERINGS_FILE = Path(__file__).parent / "data" / "ec2_offerings.json.gz"
SNAPSHOT = "EC2's offerings as moto 5.2.6 ships them (released 2026-11-23)"


@cache
def _offerings() -> dict[str, dict[str, list[str]]]:
    return dict(json.loads(gzip.decompress(OFFERINGS_FILE.read_bytes())))


def regions() -> tuple[str, ...]:
    """The regions the copy has EC2's answers for."""
    return tuple(sorted(_offerings()))


def offered_zones(instance_type: str, region: str) -> tuple[str, ...] | None:
    """The zone IDs of ``region`` offering ``instance_type``: () when EC2 does not offer it there, None
    when the copy cannot say (a region it has no answers for, or a type EC2 did not describe)."""
    table = _offerings().get(region)
    if table is None or not ec2_sizes.known(instance_type):
        return None
    return tuple(table.get(instance_type, ()))
