"""The interconnect, rule and preflight models without mocks: config errors, defaults, and properties
that must hold for every fleet up to 30 clusters."""

from __future__ import annotations

import copy
import math
from ipaddress import IPv4Network, collapse_addresses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.fleets import generated_fleet
from components.aws import cidr, service_quotas
from components.config.model import CableDriver, InterconnectMode
from components.planning import interconnect, preflight, security_rules, submariner
from components.planning.checks import load_fleet
from components.planning.security_rules import CidrRule
from offline.harness import stack_config
from tests.config_cases import problems_after, raw_prod


def generated_raw(size: int, mode: str | None = None) -> dict[str, Any]:
    return {k.removeprefix("fleet:"): v for k, v in generated_fleet(size, mode).items()}


# ---------------------------------------------------------------- config


@pytest.mark.parametrize(("size", "mode"), [(1, "none"), (3, "none"), (4, "peering"), (30, "peering")])
def test_the_default_mode_follows_the_fleet_size(size: int, mode: str) -> None:
    assert load_fleet(generated_raw(size)).interconnect_mode.value == mode


def test_an_explicit_mode_wins() -> None:
    assert load_fleet(generated_raw(10, "none")).interconnect_mode is InterconnectMode.NONE
    assert load_fleet(generated_raw(2, "peering")).interconnect_mode is InterconnectMode.PEERING


def test_an_unknown_mode_names_the_choices() -> None:
    (problem,) = problems_after(lambda raw: raw.update(interconnect={"mode": "transit"}))
    assert problem.startswith("fleet:interconnect.mode: Input should be 'none', 'peering' or 'transitGateway'")


def test_a_member_overlapping_the_hub_cannot_be_peered() -> None:
    def overlap(raw: dict[str, Any]) -> None:
        raw.update(interconnect={"mode": "peering"}, submariner={**raw["submariner"], "globalnet": True})
        raw["clusters"][1]["vpcCidr"] = "10.10.0.0/16"  # the hub's (mgmt) range

    problems = problems_after(overlap)
    assert (
        "fleet:clusters[1].vpcCidr: 10.10.0.0/16 overlaps fleet:clusters[0].vpcCidr (10.10.0.0/16), but with "
        "fleet:interconnect.mode peering AWS refuses to peer VPCs whose ranges overlap"
    ) in problems


def test_globalnet_members_may_overlap_over_the_internet_but_not_behind_the_hub() -> None:
    def overlap(raw: dict[str, Any]) -> None:
        raw.update(submariner={**raw["submariner"], "globalnet": True})
        raw["clusters"][2].update(vpcCidr="10.20.0.0/16", serviceCidr="172.21.0.0/16")

    raw = raw_prod()
    overlap(raw)
    assert load_fleet(raw).interconnect_mode is InterconnectMode.NONE

    def peered(raw: dict[str, Any]) -> None:
        overlap(raw)
        raw.update(interconnect={"mode": "peering"})

    (problem,) = problems_after(peered)
    assert problem.startswith("fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr (10.20.0.0/16)")
    assert "a route table holds one route per range" in problem


def test_the_broker_must_be_the_hub_to_be_reached_over_its_peering() -> None:
    (problem,) = problems_after(
        lambda raw: raw.update(interconnect={"mode": "peering"}, submariner={**raw["submariner"], "broker": "prod-us"})
    )
    assert problem == (
        "fleet:submariner.broker: with fleet:interconnect.mode peering the broker must be the hub (mgmt): "
        "members reach it over the hub's peering connections"
    )


def test_peering_needs_a_hub() -> None:
    def hubless(raw: dict[str, Any]) -> None:
        raw.update(interconnect={"mode": "peering"})
        raw.pop("argocd")
        raw.pop("submariner")
        raw["clusters"][0]["role"] = "member"

    assert problems_after(hubless) == [
        "fleet:interconnect.mode: peering joins each cluster to the hub's VPC, but the fleet has no hub (role: hub) or broker"
    ]


def test_keeping_the_internet_path_needs_a_private_path_to_keep_it_beside() -> None:
    (problem,) = problems_after(lambda raw: raw.update(interconnect={"mode": "none", "keepInternetPath": True}))
    assert problem.startswith("fleet:interconnect.keepInternetPath: only for the deploy that adds a private path")


def test_keeping_the_internet_path_counts_the_callers_it_keeps() -> None:
    raw = raw_prod()
    raw["interconnect"] = {"mode": "peering"}
    lean = preflight.run(load_fleet(raw)).allow_lists
    raw["interconnect"]["keepInternetPath"] = True
    kept = preflight.run(load_fleet(raw)).allow_lists
    raw["interconnect"] = {"mode": "none"}
    public = preflight.run(load_fleet(raw)).allow_lists
    assert kept == public != lean


def test_quotas_are_validated_with_their_paths() -> None:
    problems = problems_after(
        lambda raw: raw.update(quotas={"regions": {"us-east-1": {"elasticIp": 10}, "mars-1": {}}, "account": {"vpcs": 0}})
    )
    assert any(
        p.startswith("fleet:quotas.regions.us-east-1.elasticIp: unknown key; did you mean 'elasticIps'?") for p in problems
    )
    assert any(p.startswith("fleet:quotas.regions.mars-1") for p in problems)
    assert any(p.startswith("fleet:quotas.account.vpcs: unknown key") for p in problems)


def test_the_plan_joins_every_caller_and_callee_of_the_hub() -> None:
    plan = interconnect.plan_interconnect(load_fleet(generated_raw(10)))
    assert plan is not None
    assert (plan.hub, plan.hub_region, str(plan.hub_cidr)) == ("hub", "us-east-1", "10.10.0.0/16")
    assert [s.name for s in plan.spokes] == [f"c{i:02d}" for i in range(1, 10)]
    assert all(s.argocd and s.broker_client for s in plan.spokes)
    assert plan.joins("hub", "c01")
    assert plan.joins("c01", "hub")
    assert not plan.joins("c01", "c02")  # members never call each other's APIs
    assert plan.resolvers


# ---------------------------------------------------------------- rules: properties


networks = st.builds(lambda a, p: IPv4Network((a, p), strict=False), st.integers(0, 2**32 - 1), st.integers(8, 28))
rules = st.builds(CidrRule, st.sampled_from(["-1", "tcp", "udp"]), st.sampled_from([443, 53]), networks, st.just("test")).map(
    lambda r: r if r.protocol != "-1" else CidrRule("-1", None, r.cidr, r.purpose)
)


@given(st.lists(rules, max_size=12), st.lists(rules, max_size=4))
def test_dropping_covered_rules_admits_exactly_the_same_traffic(candidates: list[CidrRule], existing: list[CidrRule]) -> None:
    kept = security_rules.without_covered(candidates, existing)
    assert set(kept) <= set(candidates)
    for rule in candidates:
        assert any(other.covers(rule) for other in [*kept, *existing])
    for rule in kept:
        assert not any(o.covers(rule) for o in existing)
        assert not any(o != rule and o.covers(rule) for o in kept)


@given(st.lists(networks, max_size=20))
def test_collapsing_covers_exactly_the_same_addresses(ranges: list[IPv4Network]) -> None:
    collapsed = cidr.collapse(ranges)
    assert list(collapse_addresses(collapsed)) == list(collapsed)  # already minimal
    for network in ranges:
        assert any(network.subnet_of(c) for c in collapsed)
    for c in collapsed:
        assert sum(n.num_addresses for n in collapse_addresses(n for n in ranges if n.subnet_of(c))) == c.num_addresses


@given(st.integers(2, 40), st.integers(1, 3))
def test_gateway_shards_hold_every_peer_once_within_60_rules(members: int, gateways: int) -> None:
    plan = submariner.ClusterSet(
        broker="m00",
        members=tuple(
            submariner.Member(f"m{i:02d}", "us-east-1", IPv4Network(f"10.{i}.0.0/16"), IPv4Network(f"172.16.{i}.0/24"), None, 3)
            for i in range(members)
        ),
        cable_driver=CableDriver.LIBRESWAN,
        globalnet=False,
        gateways_per_cluster=gateways,
    )
    pool = submariner.gateway_pool_size(gateways)
    for member in plan.members:
        shards = security_rules.gateway_shards(plan, member.name)
        assert sorted(p.name for shard in shards for p in shard) == sorted(p.name for p in plan.peers_of(member.name))
        assert security_rules.shard_max_entries(plan) <= service_quotas.INBOUND_RULES_PER_GROUP
        assert all(len(shard) * pool <= security_rules.shard_max_entries(plan) for shard in shards)
        assert len(shards) == max(1, math.ceil((members - 1) / (60 // pool)))


# ---------------------------------------------------------------- preflight: never silently past a limit


@st.composite
def fleets(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 30))
    raw = generated_raw(size, draw(st.sampled_from([None, "none", "peering", "transitGateway"])) if size > 1 else None)
    azs = draw(st.integers(2, 3))
    nat = draw(st.sampled_from(["Single", "OnePerAz"]))
    for cluster in raw["clusters"]:
        cluster.update(availabilityZones=azs, natGateways=nat)
        if draw(st.booleans()):
            # Scattered ranges: nothing collapses.
            index = int(cluster["vpcCidr"].split(".")[1])
            cluster["vpcCidr"] = f"10.{100 + (index * 7) % 150}.0.0/16"
    raw["apiAccessCidrs"] = [f"203.0.{i}.0/24" for i in range(draw(st.integers(1, 5)))]
    raw["submariner"]["gatewaysPerCluster"] = draw(st.integers(1, 2))
    raw["submariner"]["globalnet"] = draw(st.booleans())
    return raw


def independent_counts(raw: dict[str, Any]) -> dict[str, int]:
    """What AWS would count, from the raw config alone, without the program's models."""
    clusters = raw["clusters"]
    size = len(clusters)
    joined = raw["submariner"]["enabled"]
    pool = 3 * raw["submariner"]["gatewaysPerCluster"] if joined else 0
    peering = (raw.get("interconnect", {}).get("mode") or ("peering" if size > 3 else "none")) != "none"
    nat = 1 if clusters[0]["natGateways"] == "Single" else clusters[0]["availabilityZones"]
    operators = len(raw["apiAccessCidrs"])
    hub_list = operators + (0 if peering else (size - 1) * (nat + pool))
    member_list = operators + (0 if peering else nat)
    counts = {"allow list": max(hub_list, member_list if size > 1 else 0)}
    worst = 0
    for cluster in clusters:
        peers = [c for c in clusters if c is not cluster] if joined else []
        if raw["submariner"]["globalnet"]:
            routed = len(cidr.collapse(_global_ranges(raw, cluster["name"]))) if peers else 0
        else:
            ranges = [IPv4Network(p[k]) for p in peers for k in ("vpcCidr", "serviceCidr")]
            routed = len(list(collapse_addresses(ranges)))
        api = 0
        if peering and cluster.get("role") == "hub" and raw["submariner"]["globalnet"]:
            api = len(list(collapse_addresses(IPv4Network(c["vpcCidr"]) for c in clusters if c is not cluster)))
        elif peering and cluster.get("role") != "hub" and raw["submariner"]["globalnet"]:
            api = 1
        edge = 1 if cluster.get("role") != "hub" or size == 1 else 0
        worst = max(worst, 1 + edge + routed + api)
    counts["cluster group"] = worst
    counts["groups per interface"] = 1 + math.ceil((size - 1) / (60 // pool)) if joined and pool else 1
    return counts


def _global_ranges(raw: dict[str, Any], member: str) -> list[IPv4Network]:
    spec = load_fleet(copy.deepcopy(raw))
    plan = submariner.plan_clusterset(spec)
    assert plan is not None
    return [p.global_cidr for p in plan.peers_of(member) if p.global_cidr is not None]


@settings(max_examples=40, deadline=None)
@given(fleets())
def test_every_fleet_up_to_30_passes_preflight_or_names_the_exact_limit(raw: dict[str, Any]) -> None:
    counts = independent_counts(raw)
    checked = preflight.run(load_fleet(raw))
    named = {
        "allow list": [e for e in checked.errors if "public API endpoint: needs" in e and "; limit 40," in e],
        "cluster group": [e for e in checked.errors if "cluster security group" in e and "limit 60" in e],
        "groups per interface": [e for e in checked.errors if "security groups (the cluster group" in e],
    }
    limits = {"allow list": 40, "cluster group": 60, "groups per interface": 5}
    for what, count in counts.items():
        # Over a limit if and only if the preflight says so, naming that limit.
        assert bool(named[what]) is (count > limits[what]), (what, count, checked.errors)
    other = [e for e in checked.errors if not any(e in errors for errors in named.values())]
    assert other == []
    assert checked.passed is all(count <= limits[what] for what, count in counts.items())


def test_past_30_clusters_scattered_ranges_overflow_a_cluster_group_and_preflight_names_it() -> None:
    raw = generated_raw(35)
    for i, cluster in enumerate(raw["clusters"]):
        # Every other /16 and /20: no two peers' ranges collapse into one rule.
        cluster.update(vpcCidr=f"10.{2 * i + 100}.0.0/16", serviceCidr=f"172.{16 + (2 * i) // 16}.{((2 * i) % 16) * 16}.0/20")
    errors = preflight.run(load_fleet(raw)).errors
    assert errors
    # Each cluster's group takes 2 x 34 peers' ranges; the hub's resolver groups take DNS from 34 VPCs.
    assert all(" rules, counting each prefix list as its maxEntries; limit 60" in e for e in errors)
    assert sum("cluster security group" in e for e in errors) == 35  # every cluster, the hub too
    assert errors[0].startswith("c01 cluster security group (us-east-1): 70 inbound rules")
    assert "fleet:submariner.globalnet: true" in errors[0]


def test_too_many_gateway_groups_for_one_interface_are_named() -> None:
    raw = generated_raw(40)
    raw["submariner"]["gatewaysPerCluster"] = 3
    errors = preflight.run(load_fleet(raw)).errors
    assert errors[0].startswith(
        "c01 gateway nodes' interface: 8 security groups (the cluster group and one per 6 peers); limit 5"
    )
    assert "--quota-code L-2AFB9258 --desired-value 8" in errors[0]


def test_a_declared_quota_below_the_need_is_an_error_and_the_product_cap_holds() -> None:
    raw = raw_prod()
    raw["quotas"] = {"regions": {"us-east-1": {"elasticIps": 10, "inboundRulesPerSecurityGroup": 250}}}
    errors = preflight.run(load_fleet(raw)).errors
    assert errors[0].startswith("us-east-1: fleet:quotas declares 250 rules per group x 5 groups per interface = 1250")
    assert errors[1].startswith("us-east-1: EC2-VPC Elastic IPs: the stack needs 18, fleet:quotas declares 10")


def test_undeclared_quotas_warn_with_the_request_to_make() -> None:
    raw = raw_prod()
    raw.pop("quotas")
    checked = preflight.run(load_fleet(raw))
    assert checked.passed
    assert (
        "us-east-1: EC2-VPC Elastic IPs: the stack needs 18, AWS's default is 5 (other stacks in the account, and a "
        "default VPC, count too); request it (aws service-quotas request-service-quota-increase --service-code ec2 "
        "--quota-code L-0263D0A3 --desired-value 18 --region us-east-1), then declare "
        "fleet:quotas.regions.us-east-1.elasticIps: 18"
    ) in checked.warnings


@pytest.mark.parametrize("stack", ["mgmt", "prod", "staging"])
def test_the_reference_stacks_pass_preflight_with_their_declared_quotas(stack: str) -> None:
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config(stack).items()}
    checked = preflight.run(load_fleet(raw))
    assert checked.errors == []
    # Every quota above AWS's default is declared; prod's one warning is its geolocation name, whose
    # default (prod-us) answers no one while us-east-1 is down.
    assert checked.warnings == (
        [
            "fleet:dns.survive: with us-east-1 down, shop.example.com leaves the clients of its locations there without "
            "an answer (a geolocation default in the failed region answers no one): point default at a cluster in "
            "another region"
        ]
        if stack == "prod"
        else []
    )
    vcpus = {"prod": ["elasticIps", "elasticIps", "onDemandVcpus.Standard", "onDemandVcpus.G", "onDemandVcpus.Standard"]}
    declared = sorted(q.quota.key for q in checked.quotas if q.declared)
    assert declared == sorted(
        vcpus.get(stack, ["onDemandVcpus.Standard"]) + (["spotVcpus.Standard"] * 2 if stack == "prod" else [])
    )


def test_a_transit_gateway_plan_spans_every_member_region_hub_first() -> None:
    plan = interconnect.plan_interconnect(load_fleet(generated_raw(10, "transitGateway")))
    assert plan is not None
    assert plan.transit
    assert plan.regions == ("us-east-1", "eu-west-1", "us-west-2")
    # One gateway per region, two peered with the hub's; the hub's tables route each member, as with
    # peering, so that a switch between the modes changes each route's target in place.
    needs = {(key, region): n for key, region, n in preflight.quota_needs(load_fleet(generated_raw(10, "transitGateway")))}
    assert [needs[("transitGateways", r)] for r in plan.regions] == [1, 1, 1]
    assert needs[("transitGatewayPeeringAttachments", "us-east-1")] == 2
    assert needs[("routesPerRouteTable", "us-east-1")] == 1 + len(plan.spokes)
    assert ("peeringConnectionsPerVpc", "us-east-1") not in needs


def test_a_joining_stack_peers_with_a_transit_gateway_hub() -> None:
    hub = load_fleet(generated_raw(4, "transitGateway"))
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()}
    joiner = load_fleet(raw).with_joined_hub(hub)
    plan = interconnect.plan_joined(joiner)
    assert plan is not None
    assert plan.mode is InterconnectMode.PEERING
    assert (plan.hub, str(plan.hub_cidr)) == ("hub", "10.10.0.0/16")
