"""fleet:submariner validation: each rule with its path-named message, before any resource."""

from __future__ import annotations

from typing import Any

import pytest

from components.planning import preflight
from components.planning.checks import load_fleet
from tests.config_cases import problems_after, raw_prod


def only_problem(change: Any) -> str:
    problems = problems_after(change)
    assert len(problems) == 1, problems
    return problems[0]


def submariner(**changes: Any) -> Any:
    return lambda raw: raw["submariner"].update(changes)


def cluster(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in raw["clusters"] if c["name"] == name)


def test_the_broker_must_exist() -> None:
    assert only_problem(submariner(broker="hub2")) == "fleet:submariner.broker: no cluster named 'hub2' in fleet:clusters"


def test_without_a_hub_the_broker_must_be_named() -> None:
    def no_hub(raw: dict[str, Any]) -> None:
        cluster(raw, "mgmt")["role"] = "member"
        del raw["submariner"]["broker"]
        del raw["argocd"]  # which needs a hub as well

    assert only_problem(no_hub) == "fleet:submariner.broker: no hub cluster to default to; name the broker cluster"


def test_every_member_must_exist() -> None:
    message = only_problem(submariner(clusters=["mgmt", "prod-us", "prod-ap"]))
    assert message == "fleet:submariner.clusters[2]: no cluster named 'prod-ap' in fleet:clusters"


def test_a_member_is_listed_once() -> None:
    message = only_problem(submariner(clusters=["mgmt", "prod-us", "mgmt"]))
    assert message == "fleet:submariner.clusters[2]: 'mgmt' is listed twice"


def test_a_clusterset_needs_two_members() -> None:
    assert only_problem(submariner(clusters=["mgmt"])) == "fleet:submariner.clusters: a clusterset needs at least two clusters"


def test_the_cable_driver_is_known() -> None:
    message = only_problem(submariner(cableDriver="ipsec"))
    assert message.startswith("fleet:submariner.cableDriver: Input should be 'libreswan', 'wireguard' or 'vxlan'")


def test_unknown_keys_are_refused_with_a_hint() -> None:
    assert (
        only_problem(submariner(cabledriver="wireguard"))
        == "fleet:submariner.cabledriver: unknown key; did you mean 'cableDriver'?"
    )


def test_gateways_fit_the_availability_zones() -> None:
    def two_zones(raw: dict[str, Any]) -> None:
        cluster(raw, "prod-eu")["availabilityZones"] = 2
        raw["submariner"]["gatewaysPerCluster"] = 3

    assert only_problem(two_zones) == (
        "fleet:submariner.gatewaysPerCluster: 3 gateways, one per AZ, but fleet:clusters[2] (prod-eu) spans 2 AZs"
    )


def test_members_need_a_path_to_the_broker() -> None:
    raw = raw_prod()
    raw.update(apiAccessCidrs=[], interconnect={"mode": "none"})
    errors = preflight.run(load_fleet(raw)).errors
    for member in ("prod-us", "prod-eu"):
        assert any(e.startswith(f"broker-api: {member} -> mgmt: no path: mgmt's endpoint is private-only") for e in errors)
    raw["interconnect"] = {"mode": "peering"}
    assert preflight.run(load_fleet(raw)).errors == []


def test_overlapping_members_without_globalnet_name_both_and_suggest_globalnet() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(vpcCidr="10.20.0.0/16"))
    assert message == (
        "fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr (10.20.0.0/16); "
        "Submariner routes these ranges between clusterset members: make them distinct "
        "or set fleet:submariner.globalnet: true"
    )


def test_overlapping_service_ranges_of_members_are_caught_too() -> None:
    message = only_problem(lambda raw: cluster(raw, "prod-eu").update(serviceCidr="172.21.0.0/16"))
    assert message.startswith("fleet:clusters[2].serviceCidr: 172.21.0.0/16 overlaps fleet:clusters[1].serviceCidr")
    assert message.endswith("or set fleet:submariner.globalnet: true")


def test_globalnet_allows_overlapping_members() -> None:
    raw = raw_prod()
    raw["submariner"]["globalnet"] = True
    cluster(raw, "prod-eu").update(vpcCidr="10.20.0.0/16", serviceCidr="172.21.0.0/16")
    assert load_fleet(raw).submariner is not None


def test_globalnet_does_not_excuse_a_cluster_outside_the_clusterset() -> None:
    def overlap(raw: dict[str, Any]) -> None:
        raw["submariner"].update(globalnet=True, clusters=["mgmt", "prod-us"])
        cluster(raw, "prod-eu").update(vpcCidr="10.20.0.0/16")

    message = only_problem(overlap)
    assert message == "fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr (10.20.0.0/16)"


def test_pinned_global_cidrs_need_globalnet() -> None:
    message = only_problem(submariner(globalCidrs={"mgmt": "242.1.0.0/16"}))
    assert message == "fleet:submariner: globalCidrs is only used with globalnet: true"


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ({"mgmt": "10.99.0.0/16"}, ["fleet:submariner.globalCidrs.mgmt: 10.99.0.0/16 is outside globalnetCidrRange 242.0.0.0/8"]),
        ({"mgmt": "242.1.0.0/20"}, ["fleet:submariner.globalCidrs.mgmt: 242.1.0.0/20 must be a /16 (globalnetClusterPrefix)"]),
        ({"prod-ap": "242.1.0.0/16"}, ["fleet:submariner.globalCidrs.prod-ap: 'prod-ap' is not a clusterset member"]),
        (
            {"mgmt": "242.1.0.0/16", "prod-us": "242.1.0.0/16"},
            ["fleet:submariner.globalCidrs.prod-us: 242.1.0.0/16 overlaps fleet:submariner.globalCidrs.mgmt (242.1.0.0/16)"],
        ),
    ],
    ids=["outside-range", "wrong-size", "not-a-member", "pinned-twice"],
)
def test_pinned_global_cidrs(pins: dict[str, str], expected: list[str]) -> None:
    assert problems_after(submariner(globalnet=True, globalCidrs=pins)) == expected


def test_the_globalnet_range_must_not_overlap_cluster_ranges() -> None:
    problems = problems_after(submariner(globalnet=True, globalnetCidrRange="10.0.0.0/8"))
    assert problems[0] == "fleet:submariner.globalnetCidrRange: 10.0.0.0/8 overlaps fleet:clusters[0].vpcCidr (10.10.0.0/16)"
    assert len(problems) == 3


def test_the_globalnet_range_must_hold_every_member() -> None:
    message = only_problem(submariner(globalnet=True, globalnetCidrRange="242.0.0.0/23", globalnetClusterPrefix=24))
    assert message == "fleet:submariner.globalnetClusterPrefix: 242.0.0.0/23 holds 2 /24 ranges, fewer than the 3 members"


def test_the_cluster_prefix_must_fit_the_range() -> None:
    message = only_problem(submariner(globalnet=True, globalnetCidrRange="242.0.0.0/16", globalnetClusterPrefix=12))
    assert message == "fleet:submariner: globalnetClusterPrefix /12 is larger than globalnetCidrRange 242.0.0.0/16"


def test_a_configured_psk_must_be_long() -> None:
    message = only_problem(submariner(psk="short"))
    assert message == "fleet:submariner.psk: psk must be at least 32 characters (omit it to have one generated)"
    assert "short" not in message.split(":", 1)[0]


def test_psk_version_only_rotates_a_generated_psk() -> None:
    message = only_problem(submariner(psk="k" * 40, pskVersion=2))
    assert message == "fleet:submariner: pskVersion rotates a generated PSK; with psk set, rotate by changing psk"


def test_a_psk_never_appears_in_an_error() -> None:
    secret = "s3cr3t-but-too-short"
    problems = problems_after(submariner(psk=secret))
    assert all(secret not in p for p in problems)


def test_gateway_instance_type_is_checked() -> None:
    message = only_problem(submariner(gatewayInstanceType="large"))
    assert (
        message == "fleet:submariner.gatewayInstanceType: 'large' is not an EC2 instance type (e.g. m7g.large, p6-b200.48xlarge)"
    )


def test_disabled_submariner_joins_nothing_and_validates_nothing_else() -> None:
    raw = raw_prod()
    raw["submariner"]["enabled"] = False
    spec = load_fleet(raw)
    assert spec.clusterset is None
    assert spec.clusterset_members() == []
    # Switched off, the section's other keys are not read, so they are not checked either (#22).
    raw["submariner"]["cableDriver"] = "gre"
    assert load_fleet(raw).clusterset is None
    assert only_problem(submariner(enabled=True, cableDriver="gre")).startswith("fleet:submariner.cableDriver")
