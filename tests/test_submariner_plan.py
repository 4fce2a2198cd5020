"""The pure Submariner plan: Globalnet allocation, broker address, gateway ports, chart values, boot script."""

from __future__ import annotations

import base64
import email
import json
import random
import shutil
import subprocess
from ipaddress import IPv4Network
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config.model import CableDriver
from components.planning import submariner as plan
from components.planning.checks import load_fleet
from components.planning.gateway_boot import gateway_script, gateway_user_data
from components.planning.iam_policies import GATEWAY_POOL_TAG, gateway_node_policy
from tests.config_cases import raw_prod
from tests.reference import chart_values, unknown_keys

GLOBAL_RANGE = IPv4Network("242.0.0.0/8")
names = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
member_sets = st.lists(names, min_size=1, max_size=40, unique=True)


# ---------------------------------------------------------------- Globalnet allocation


@given(member_sets)
def test_global_cidrs_are_distinct_inside_the_range_and_sized(members: list[str]) -> None:
    allocated = plan.allocate_global_cidrs(members, GLOBAL_RANGE, 16, {})
    assert set(allocated) == set(members)
    networks = list(allocated.values())
    assert all(n.subnet_of(GLOBAL_RANGE) and n.prefixlen == 16 for n in networks)
    assert all(not a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


@given(member_sets, st.randoms(use_true_random=False))
def test_global_cidrs_do_not_depend_on_list_order(members: list[str], rng: random.Random) -> None:
    shuffled = list(members)
    rng.shuffle(shuffled)
    assert plan.allocate_global_cidrs(members, GLOBAL_RANGE, 16, {}) == plan.allocate_global_cidrs(shuffled, GLOBAL_RANGE, 16, {})


@given(member_sets, names)
def test_a_newcomer_on_a_free_slot_moves_nobody(members: list[str], newcomer: str) -> None:
    before = plan.allocate_global_cidrs(members, GLOBAL_RANGE, 16, {})
    if newcomer in members or plan.allocate_global_cidrs([newcomer], GLOBAL_RANGE, 16, {})[newcomer] in before.values():
        return  # the newcomer's preferred range is taken: a probe may shift others (pin to avoid)
    after = plan.allocate_global_cidrs([*members, newcomer], GLOBAL_RANGE, 16, {})
    assert {m: after[m] for m in members} == before


@settings(max_examples=50)
@given(member_sets.filter(lambda m: len(m) >= 2), st.integers(min_value=0, max_value=255))
def test_pinned_ranges_are_kept_and_avoided(members: list[str], slot: int) -> None:
    pinned = {members[0]: IPv4Network(f"242.{slot}.0.0/16")}
    allocated = plan.allocate_global_cidrs(members, GLOBAL_RANGE, 16, pinned)
    assert allocated[members[0]] == pinned[members[0]]
    assert all(not n.overlaps(pinned[members[0]]) for m, n in allocated.items() if m != members[0])


def test_allocation_refuses_more_members_than_slots() -> None:
    with pytest.raises(ValueError, match="holds 4 /26 ranges, not 5"):
        plan.allocate_global_cidrs([f"c{i}" for i in range(5)], IPv4Network("242.0.0.0/24"), 26, {})


def test_a_full_range_is_used_to_the_last_slot() -> None:
    members = [f"c{i}" for i in range(4)]
    allocated = plan.allocate_global_cidrs(members, IPv4Network("242.0.0.0/24"), 26, {})
    assert sorted(allocated.values()) == list(IPv4Network("242.0.0.0/24").subnets(new_prefix=26))


# ---------------------------------------------------------------- broker address and ports


@pytest.mark.parametrize(
    ("endpoint", "server"),
    [
        ("https://ABC123.gr7.us-east-1.eks.amazonaws.com", "abc123.gr7.us-east-1.eks.amazonaws.com:443"),
        ("https://broker.example.com:6443/", "broker.example.com:6443"),
        ("broker.example.com", "broker.example.com:443"),
    ],
)
def test_broker_server_is_host_and_port_without_scheme(endpoint: str, server: str) -> None:
    assert plan.broker_server(endpoint) == server
    assert "://" not in plan.broker_server(endpoint)


def test_broker_server_needs_a_host() -> None:
    with pytest.raises(ValueError, match="has no host"):
        plan.broker_server("https://")


def test_libreswan_gateways_accept_nat_t_nat_discovery_ike_and_esp() -> None:
    rules = {(r.protocol, r.port) for r in plan.gateway_ports(CableDriver.LIBRESWAN)}
    assert rules == {("udp", 4500), ("udp", 4490), ("udp", 500), ("50", None)}


@pytest.mark.parametrize("driver", [CableDriver.WIREGUARD, CableDriver.VXLAN])
def test_other_cable_drivers_need_no_ike_or_esp(driver: CableDriver) -> None:
    assert {(r.protocol, r.port) for r in plan.gateway_ports(driver)} == {("udp", 4500), ("udp", 4490)}


# ---------------------------------------------------------------- the plan from the prod stack


def prod_clusterset(change: object = None) -> plan.ClusterSet:
    raw = raw_prod()
    if callable(change):
        change(raw)
    clusterset = plan.plan_clusterset(load_fleet(raw))
    assert clusterset is not None
    return clusterset


def test_prod_clusterset_members_broker_and_ranges() -> None:
    clusterset = prod_clusterset()
    assert clusterset.broker == "mgmt"
    assert [m.name for m in clusterset.members] == ["mgmt", "prod-eu", "prod-us"]
    assert clusterset.member("prod-us").routed_cidrs == (IPv4Network("10.20.0.0/16"), IPv4Network("172.21.0.0/16"))
    assert [p.name for p in clusterset.peers_of("prod-us")] == ["mgmt", "prod-eu"]
    assert clusterset.summary()["members"]["prod-eu"] == {
        "clusterId": "prod-eu",
        "region": "eu-west-1",
        "clusterCidr": "10.30.0.0/16",
        "serviceCidr": "172.22.0.0/16",
    }


def test_members_and_broker_default_to_every_cluster_and_the_hub() -> None:
    def defaults(raw: dict) -> None:
        raw["submariner"] = {"enabled": True}

    clusterset = prod_clusterset(defaults)
    assert clusterset.broker == "mgmt"
    assert [m.name for m in clusterset.members] == ["mgmt", "prod-eu", "prod-us"]
    assert clusterset.cable_driver is CableDriver.LIBRESWAN
    assert clusterset.gateways_per_cluster == 2


def test_globalnet_members_are_routed_by_their_global_cidr() -> None:
    clusterset = prod_clusterset(lambda raw: raw["submariner"].update(globalnet=True, globalCidrs={"mgmt": "242.7.0.0/16"}))
    assert clusterset.member("mgmt").global_cidr == IPv4Network("242.7.0.0/16")
    for member in clusterset.members:
        assert member.routed_cidrs == (member.global_cidr,)
        assert clusterset.summary()["members"][member.name]["globalCidr"] == str(member.global_cidr)


def test_no_clusterset_when_disabled() -> None:
    raw = raw_prod()
    raw["submariner"]["enabled"] = False
    assert plan.plan_clusterset(load_fleet(raw)) is None


# ---------------------------------------------------------------- chart values against upstream


def test_operator_values_use_only_keys_the_chart_has() -> None:
    clusterset = prod_clusterset(lambda raw: raw["submariner"].update(globalnet=True))
    values = plan.operator_values(clusterset)
    assert unknown_keys(values, "submariner/submariner-operator") == []
    assert values["broker"]["globalnet"] is True


def test_broker_values_use_only_keys_the_chart_has() -> None:
    assert unknown_keys(plan.broker_values(), "submariner/submariner-k8s-broker") == []


def test_the_key_check_catches_a_typo() -> None:
    assert unknown_keys({"submariner": {"clusterID": "x"}, "ipsec": {"psk": "p"}}, "submariner/submariner-operator") == [
        "submariner/clusterID"
    ]


def test_cable_drivers_match_the_charts_default_spelling() -> None:
    assert chart_values("submariner/submariner-operator")["submariner"]["cableDriver"] in {d.value for d in CableDriver}


def test_ipsec_ports_match_the_charts_defaults() -> None:
    ipsec = chart_values("submariner/submariner-operator")["ipsec"]
    assert (ipsec["ikePort"], ipsec["natPort"]) == (plan.IKE_PORT, plan.NAT_T_PORT)


# ---------------------------------------------------------------- gateway boot script and its IAM scope


def test_gateway_user_data_is_a_mime_shell_script_for_its_cluster() -> None:
    message = email.message_from_string(base64.b64decode(gateway_user_data("prod-us")).decode())
    assert message.is_multipart()
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["text/x-shellscript"]
    script = str(parts[0].get_payload())
    assert script.startswith("#!/bin/bash")
    assert "--no-source-dest-check" in script
    assert f"Name=tag:{GATEWAY_POOL_TAG},Values=prod-us" in script
    assert "--no-allow-reassociation" in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_gateway_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n"], input=gateway_script("prod-us"), text=True, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


def test_gateway_node_policy_is_scoped_to_its_cluster() -> None:
    policy = gateway_node_policy("aws", "eu-west-1", "prod-eu")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["FindPoolAddresses"]["Action"] == ["ec2:DescribeAddresses"]
    claim = statements["ClaimPoolAddress"]
    assert claim["Resource"] == "arn:aws:ec2:eu-west-1:*:elastic-ip/*"
    assert claim["Condition"] == {"StringEquals": {f"aws:ResourceTag/{GATEWAY_POOL_TAG}": "prod-eu"}}
    own = statements["OwnGatewayInterface"]
    assert own["Resource"] == "arn:aws:ec2:eu-west-1:*:network-interface/*"
    assert own["Condition"]["StringEquals"]["aws:ResourceTag/fleet-cluster"] == "prod-eu"
    assert own["Condition"]["StringEquals"]["aws:ResourceTag/fleet-node-group"] == "submariner-gateway"
    every_action = {a for s in policy["Statement"] for a in s["Action"]}
    assert every_action == {"ec2:DescribeAddresses", "ec2:AssociateAddress", "ec2:ModifyNetworkInterfaceAttribute"}
    # Nothing may touch an instance: the script works on the primary interface by id.
    assert not [s for s in policy["Statement"] if ":instance/" in str(s["Resource"])]
    json.dumps(policy)


def test_the_preflight_plans_the_clusterset_once_per_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    # It asks for the plan once per flow: recomputing it made the preflight cubic in the fleet size.
    from benchmarks.fleets import generated_fleet
    from components.planning import preflight

    computed: list[str] = []
    original = plan._plan_clusterset

    def counted(spec: Any) -> Any:
        computed.append(spec.clusters[0].name)
        return original(spec)

    monkeypatch.setattr(plan, "_plan_clusterset", counted)
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in generated_fleet(10).items()})
    assert preflight.run(spec).passed
    assert len(computed) == 1
    copy = spec.model_copy()
    assert plan.plan_clusterset(copy) == plan.plan_clusterset(spec)
    assert len(computed) == 2  # a copy may differ, so it plans afresh
