"""Which availability zones a cluster spans: chosen by zone ID, never by name.

Zone *names* (us-east-1a) map to physical zones differently in every AWS account; zone *IDs*
(use1-az1) do not. EKS refuses control-plane subnets in a few zone IDs (EKS user guide,
"Subnet requirements and considerations"): a name that happens to map to one of them in the
deploying account would fail cluster creation, so zones are picked by ID with those excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Zone IDs EKS does not accept for cluster subnets (EKS user guide, network requirements).
EKS_UNSUPPORTED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")


@dataclass(frozen=True)
class Zone:
    id: str
    """The account-independent zone ID (use1-az1); subnets are placed by it."""
    name: str
    """The zone name in the deploying account (us-east-1a), for people reading the console."""

    @property
    def slug(self) -> str:
        """The part of a logical name that stands for this zone: its ID, stable across accounts."""
        return self.id


def usable_zones(names: Sequence[str], zone_ids: Sequence[str]) -> list[Zone]:
    """Zones EKS accepts, sorted by zone ID (the order is the same in every account)."""
    if len(names) != len(zone_ids):
        raise ValueError(f"{len(names)} zone names but {len(zone_ids)} zone IDs")
    return sorted(
        (
            Zone(id=zone_id, name=name)
            for name, zone_id in zip(names, zone_ids, strict=True)
            if zone_id not in EKS_UNSUPPORTED_ZONE_IDS
        ),
        key=lambda zone: zone.id,
    )


def choose_zones(names: Sequence[str], zone_ids: Sequence[str], count: int) -> tuple[Zone, ...]:
    """The first ``count`` usable zones by ID; ValueError when the region has fewer."""
    usable = usable_zones(names, zone_ids)
    if len(usable) < count:
        listing = ", ".join(zone.id for zone in usable) or "none"
        raise ValueError(f"{count} requested but only {len(usable)} zones are available to EKS ({listing})")
    return tuple(usable[:count])
