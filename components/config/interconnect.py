"""How cross-cluster API calls travel (fleet:interconnect): the internet to allow lists, peering or transit gateways."""

from __future__ import annotations

from enum import StrEnum

from .types import (
    Model,
)

# Fleets up to this size default to interconnect mode none (FleetSpec.interconnect_mode).
SMALL_FLEET = 3


class InterconnectMode(StrEnum):
    NONE = "none"
    """Cross-cluster API calls cross the internet to public endpoints that allow-list each caller."""
    PEERING = "peering"
    """The hub's VPC is peered with each other cluster's; API calls take the private endpoints."""
    TRANSIT_GATEWAY = "transitGateway"
    """A transit gateway per region, peered with the hub's region's; API calls take the private endpoints."""


class InterconnectSpec(Model):
    mode: InterconnectMode | None = None
    """none, peering or transitGateway; unset: peering for fleets of more than three clusters, none otherwise."""
    keep_internet_path: bool = False
    """Keep admitting API callers on the public allow lists while the private path comes up: set it in
    the deploy that leaves none, remove it in the next (nothing orders the allow lists after the path)."""
