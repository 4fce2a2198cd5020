"""The AWS regions the fleet can use, with each region's availability zone IDs.

From AWS's published zone IDs per region (EC2 user guide, "Regions and Zones"; `aws ec2
describe-availability-zones --all-availability-zones`). Validation uses it to refuse a region
code AWS does not have, and an `availabilityZones` count the region cannot provide (EKS refuses
some zone IDs: components/aws/zones.py), before anything is deployed. Opt-in regions (af-south-1,
ap-east-1, me-south-1, ...) must be enabled in the account first. A region AWS opens later is
added here with its zone IDs.
"""

from __future__ import annotations

from .zones import EKS_UNSUPPORTED_ZONE_IDS


def _ids(prefix: str, *numbers: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-az{n}" for n in numbers)


ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": _ids("use1", 1, 2, 3, 4, 5, 6),
    "us-east-2": _ids("use2", 1, 2, 3),
    "us-west-1": _ids("usw1", 1, 2, 3),
    "us-west-2": _ids("usw2", 1, 2, 3, 4),
    "ca-central-1": _ids("cac1", 1, 2, 4),
    "ca-west-1": _ids("caw1", 1, 2, 3),
    "mx-central-1": _ids("mxc1", 1, 2, 3),
    "sa-east-1": _ids("sae1", 1, 2, 3),
    "eu-west-1": _ids("euw1", 1, 2, 3),
    "eu-west-2": _ids("euw2", 1, 2, 3),
    "eu-west-3": _ids("euw3", 1, 2, 3),
    "eu-central-1": _ids("euc1", 1, 2, 3),
    "eu-central-2": _ids("euc2", 1, 2, 3),
    "eu-north-1": _ids("eun1", 1, 2, 3),
    "eu-south-1": _ids("eus1", 1, 2, 3),
    "eu-south-2": _ids("eus2", 1, 2, 3),
    "il-central-1": _ids("ilc1", 1, 2, 3),
    "me-south-1": _ids("mes1", 1, 2, 3),
    "me-central-1": _ids("mec1", 1, 2, 3),
    "af-south-1": _ids("afs1", 1, 2, 3),
    "ap-east-1": _ids("ape1", 1, 2, 3),
    "ap-east-2": _ids("ape2", 1, 2, 3),
    "ap-south-1": _ids("aps1", 1, 2, 3),
    "ap-south-2": _ids("aps2", 1, 2, 3),
    "ap-southeast-1": _ids("apse1", 1, 2, 3),
    "ap-southeast-2": _ids("apse2", 1, 2, 3),
    "ap-southeast-3": _ids("apse3", 1, 2, 3),
    "ap-southeast-4": _ids("apse4", 1, 2, 3),
    "ap-southeast-5": _ids("apse5", 1, 2, 3),
    "ap-southeast-7": _ids("apse7", 1, 2, 3),
    "ap-northeast-1": _ids("apne1", 1, 2, 4),
    "ap-northeast-2": _ids("apne2", 1, 2, 3, 4),
    "ap-northeast-3": _ids("apne3", 1, 2, 3),
    "us-gov-west-1": _ids("usgw1", 1, 2, 3),
    "us-gov-east-1": _ids("usge1", 1, 2, 3),
    "cn-north-1": _ids("cnn1", 1, 2, 3),
    "cn-northwest-1": _ids("cnnw1", 1, 2, 3),
}


def usable_zone_count(region: str) -> int:
    """Zones of ``region`` EKS accepts for cluster subnets."""
    return len([z for z in ZONE_IDS[region] if z not in EKS_UNSUPPORTED_ZONE_IDS])


def chosen_zone_ids(region: str, count: int) -> tuple[str, ...]:
    """The zone IDs a cluster of ``count`` zones spans: the first usable ones by ID (zones.choose_zones
    picks the same from what EC2 describes in the account)."""
    return tuple(sorted(z for z in ZONE_IDS[region] if z not in EKS_UNSUPPORTED_ZONE_IDS)[:count])
