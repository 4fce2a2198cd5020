"""Pure IPv4 range logic: privacy, overlaps across the fleet and subnet planning inside a VPC.

Nothing here creates resources, so it is property-tested without mocks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

RFC1918 = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)

# A VPC is split into eight equal blocks: the first six hold one private subnet per AZ (at most
# six AZs), the last one is cut into eight public subnets. Private subnets get the bulk of the
# space because the VPC CNI gives every pod an address from them.
_PRIVATE_SPLIT_BITS = 3
_PUBLIC_SPLIT_BITS = 3
MAX_AZS = 6


def parse_network(text: str) -> IPv4Network:
    """Parse ``a.b.c.d/n`` strictly: host bits must be zero. Raises ValueError with a clear reason."""
    if not isinstance(text, str) or "/" not in text:
        raise ValueError(f"{text!r} is not a CIDR block (expected a.b.c.d/n)")
    try:
        return IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError as exc:
        raise ValueError(f"{text!r} has an invalid prefix length") from exc
    except ValueError as exc:
        if "host bits set" in str(exc):
            network = IPv4Network(text, strict=False)
            raise ValueError(f"{text!r} has host bits set; did you mean {network}?") from exc
        raise ValueError(f"{text!r} is not a valid IPv4 CIDR block") from exc


def is_private(network: IPv4Network) -> bool:
    """True when the whole range lies inside one RFC 1918 block."""
    return any(network.subnet_of(block) for block in RFC1918)


def overlapping_pairs(networks: Sequence[IPv4Network]) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j, of indexes whose ranges share at least one address."""
    # Sorting by start address lets each range stop scanning at the first later range that
    # starts after it ends, so fleets of hundreds of ranges stay cheap.
    order = sorted(range(len(networks)), key=lambda i: (int(networks[i].network_address), i))
    pairs: list[tuple[int, int]] = []
    for position, i in enumerate(order):
        end = int(networks[i].broadcast_address)
        for j in order[position + 1 :]:
            if int(networks[j].network_address) > end:
                break
            pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


@dataclass(frozen=True)
class SubnetPlan:
    """The subnets of one VPC, index i of each tuple being availability zone i."""

    private: tuple[IPv4Network, ...]
    public: tuple[IPv4Network, ...]


def plan_subnets(vpc: IPv4Network, az_count: int) -> SubnetPlan:
    """Private and public subnets for ``az_count`` AZs; stable for a given VPC and AZ count."""
    if not 1 <= az_count <= MAX_AZS:
        raise ValueError(f"az_count must be 1..{MAX_AZS}, got {az_count}")
    if vpc.prefixlen + _PRIVATE_SPLIT_BITS + _PUBLIC_SPLIT_BITS > 28:
        raise ValueError(f"{vpc} is too small to plan subnets (a /22 or larger is needed)")
    blocks = list(vpc.subnets(prefixlen_diff=_PRIVATE_SPLIT_BITS))
    public_block = blocks[-1]
    public = list(public_block.subnets(prefixlen_diff=_PUBLIC_SPLIT_BITS))
    return SubnetPlan(private=tuple(blocks[:az_count]), public=tuple(public[:az_count]))


def collapse(networks: Iterable[IPv4Network]) -> tuple[IPv4Network, ...]:
    """The fewest CIDRs covering exactly the given ranges, sorted: one firewall rule or route each."""
    return tuple(sorted(ipaddress.collapse_addresses(set(networks))))
