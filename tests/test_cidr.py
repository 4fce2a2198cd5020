"""Property tests of the pure CIDR logic: overlap detection and subnet planning."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.aws import cidr


@st.composite
def networks(draw: st.DrawFn, min_prefix: int = 8, max_prefix: int = 28) -> IPv4Network:
    prefix = draw(st.integers(min_prefix, max_prefix))
    address = draw(st.integers(0, 2**32 - 1))
    return IPv4Network((address, prefix), strict=False)


@given(st.lists(networks(), max_size=25))
def test_overlapping_pairs_matches_brute_force(ranges: list[IPv4Network]) -> None:
    expected = [(i, j) for i, j in itertools.combinations(range(len(ranges)), 2) if ranges[i].overlaps(ranges[j])]
    assert cidr.overlapping_pairs(ranges) == expected


@given(st.lists(networks(), max_size=12), st.randoms())
def test_overlap_verdict_does_not_depend_on_order(ranges: list[IPv4Network], random) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(ranges)
    random.shuffle(shuffled)

    def as_sets(items: list[IPv4Network]) -> set[frozenset[IPv4Network]]:
        return {frozenset((items[i], items[j])) for i, j in cidr.overlapping_pairs(items)}

    assert as_sets(ranges) == as_sets(shuffled)


@given(networks(min_prefix=16, max_prefix=22), st.integers(1, cidr.MAX_AZS))
@settings(max_examples=200)
def test_subnet_plan_is_inside_the_vpc_disjoint_and_one_per_zone(vpc: IPv4Network, zones: int) -> None:
    plan = cidr.plan_subnets(vpc, zones)
    assert len(plan.private) == len(plan.public) == zones
    every = [*plan.private, *plan.public]
    assert all(subnet.subnet_of(vpc) for subnet in every)
    assert cidr.overlapping_pairs(every) == []
    # Private subnets carry pod addresses under the VPC CNI: each is 8x a public subnet.
    assert all(p.num_addresses == 8 * q.num_addresses for p, q in zip(plan.private, plan.public, strict=True))


@given(networks(min_prefix=16, max_prefix=22), st.integers(1, cidr.MAX_AZS - 1))
def test_adding_a_zone_keeps_existing_subnets(vpc: IPv4Network, zones: int) -> None:
    # Growing a cluster into one more AZ must not move (and so replace) the subnets it has.
    before, after = cidr.plan_subnets(vpc, zones), cidr.plan_subnets(vpc, zones + 1)
    assert after.private[:zones] == before.private
    assert after.public[:zones] == before.public


def test_subnet_plan_for_a_16() -> None:
    plan = cidr.plan_subnets(IPv4Network("10.20.0.0/16"), 3)
    assert [str(n) for n in plan.private] == ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]
    assert [str(n) for n in plan.public] == ["10.20.224.0/22", "10.20.228.0/22", "10.20.232.0/22"]


def test_subnet_plan_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="az_count"):
        cidr.plan_subnets(IPv4Network("10.0.0.0/16"), 7)
    with pytest.raises(ValueError, match="too small"):
        cidr.plan_subnets(IPv4Network("10.0.0.0/24"), 2)


@given(networks(min_prefix=8, max_prefix=32))
def test_private_means_inside_one_rfc1918_block(network: IPv4Network) -> None:
    inside = any(network.subnet_of(block) for block in cidr.RFC1918)
    assert cidr.is_private(network) is inside


@pytest.mark.parametrize(
    ("text", "private"),
    [("10.0.0.0/8", True), ("172.16.0.0/12", True), ("172.32.0.0/16", False), ("192.168.1.0/24", True), ("100.64.0.0/10", False)],
)
def test_private_examples(text: str, private: bool) -> None:
    assert cidr.is_private(IPv4Network(text)) is private


@given(networks(min_prefix=0, max_prefix=32))
def test_parse_network_round_trips(network: IPv4Network) -> None:
    assert cidr.parse_network(str(network)) == network
