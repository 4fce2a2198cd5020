"""Generated fleets of 10 and 30 clusters under mocks, in each interconnect mode: every flow arrives and
every AWS limit holds, measured on what the program registers (not on the model that built it)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import pytest

from benchmarks.fleets import generated_fleet
from components.planning import flows, naming, preflight
from components.planning.checks import load_fleet
from components.planning.flows import Route
from components.planning.preflight import PreflightError
from offline.graph import Graph
from offline.harness import Registration, Run, physical_name_length, run_program
from offline.reachability import check

# Whole fleets of 10 and 30 clusters: `pytest -m "not slow"` skips them in a quick loop; CI runs them.
pytestmark = pytest.mark.slow

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SIZES = (10, 30)


def spec_of(size: int, mode: str | None = None) -> Any:
    return load_fleet({k.removeprefix("fleet:"): v for k, v in generated_fleet(size, mode).items()})


MODES = ("peering", "transitGateway")
PRIVATE = [(size, mode) for size in SIZES for mode in MODES]


class Deployed:
    """Each generated size in each private interconnect mode, run once per session when first asked for."""

    def __init__(self) -> None:
        self.runs: dict[tuple[int, str], Run] = {}

    def __getitem__(self, key: tuple[int, str]) -> Run:
        if key not in self.runs:
            self.runs[key] = run_program(generated_fleet(*key))
        return self.runs[key]


@pytest.fixture(scope="session")
def peered() -> Deployed:
    return Deployed()


# ---------------------------------------------------------------- interconnect none: stopped before anything exists


@pytest.mark.parametrize("size", SIZES)
def test_over_public_endpoints_the_program_stops_at_preflight_before_registering_anything(size: int) -> None:
    registered: list[str] = []
    with pytest.raises(PreflightError) as refused:
        run_program(generated_fleet(size, "none"), registrations_on_error=registered)
    assert registered == []
    (problem,) = refused.value.problems
    entries = 1 + (size - 1) * (3 + 6)  # apiAccessCidrs, then each member's 3 NAT and 6 pool addresses
    assert problem.startswith(f"hub public API endpoint: needs {entries} publicAccessCidrs")
    assert "limit 40" in problem
    assert "fix: fleet:interconnect.mode: peering" in problem


# ---------------------------------------------------------------- interconnect peering: every flow arrives


@pytest.mark.parametrize(("size", "mode"), PRIVATE)
def test_every_flow_of_the_private_fleet_arrives(peered: Deployed, size: int, mode: str) -> None:
    spec = spec_of(size, mode)
    graph = Graph(peered[size, mode])
    fleet_flows = flows.fleet_flows(spec)
    api = [f for f in fleet_flows if f.to_api]
    assert len(api) == 2 * (size - 1)  # Argo CD to each member, each member to the broker
    assert all(f.route is Route(mode) for f in api)
    missing = [f"{f.name}: {v.problem}" for f in fleet_flows if (v := check(graph, f)).path is None]
    assert missing == []


@pytest.mark.parametrize(("size", "mode"), PRIVATE)
def test_allow_lists_stay_flat_as_the_fleet_grows(peered: Deployed, size: int, mode: str) -> None:
    run = peered[size, mode]
    lists = {r.inputs["name"]: r.inputs.get("publicAccessCidrs") for r in run.of_type("eks:index:Cluster")}
    assert len(lists) == size
    # Only fleet:apiAccessCidrs: no cluster's addresses, so nothing grows with the fleet.
    assert {tuple(v or ()) for v in lists.values()} == {("203.0.113.0/24",)}


# ---------------------------------------------------------------- every limit, counted on the registrations


def inbound_rules_by_group(run: Run) -> dict[str, int]:
    """Rules per security group as AWS counts them: a prefix-list reference counts its maxEntries."""
    lists = {r.id: int(r.inputs["maxEntries"]) for r in run.of_type("aws:ec2/managedPrefixList:ManagedPrefixList")}
    counts: Counter[str] = Counter()
    for rule in run.of_type(INGRESS):
        counts[str(rule.inputs["securityGroupId"])] += lists.get(str(rule.inputs.get("prefixListId")), 1)
    # EKS creates its cluster security group with one rule of its own: everything from itself.
    for cluster in run.of_type("eks:index:Cluster"):
        counts[str(cluster.outputs["clusterSecurityGroupId"])] += 1
    return dict(counts)


@pytest.mark.parametrize(("size", "mode"), PRIVATE)
def test_no_security_group_passes_60_rules_and_no_interface_5_groups(peered: Deployed, size: int, mode: str) -> None:
    run = peered[size, mode]
    counts = inbound_rules_by_group(run)
    assert max(counts.values()) <= 60, sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    egress = Counter(str(r.inputs["securityGroupId"]) for r in run.of_type(EGRESS))
    assert max(egress.values()) <= 60
    for template in run.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        for interface in template.inputs.get("networkInterfaces") or []:
            assert len(interface["securityGroups"]) <= 5, template.name


@pytest.mark.parametrize(("size", "mode"), PRIVATE)
def test_the_preflight_counts_exactly_what_is_registered(peered: Deployed, size: int, mode: str) -> None:
    run = peered[size, mode]
    counts = inbound_rules_by_group(run)
    by_cluster = {str(r.outputs["clusterSecurityGroupId"]): r.inputs["name"] for r in run.of_type("eks:index:Cluster")}
    predicted = {g.name: g.inbound for g in preflight.security_group_uses(spec_of(size, mode))}
    assert {f"{name} cluster security group": counts[group] for group, name in by_cluster.items()} == {
        name: rules for name, rules in predicted.items() if name.endswith("cluster security group")
    }
    gateway_groups = [r for r in run.of_type("aws:ec2/securityGroup:SecurityGroup") if "-submariner-gateway-sg" in r.name]
    assert len(gateway_groups) == sum(1 for name in predicted if " gateway group " in name)
    # Quotas: what the stack registers, per region, against what the preflight said it would.
    needs = {(key, region): n for key, region, n in preflight.quota_needs(spec_of(size, mode))}
    for region in ("us-east-1", "eu-west-1", "us-west-2"):
        in_region = [r for r in run.registrations.values() if _region(run, r) == region]
        assert needs[("elasticIps", region)] == sum(r.type == "aws:ec2/eip:Eip" for r in in_region)
        assert needs[("vpcs", region)] == sum(r.type == "aws:ec2/vpc:Vpc" for r in in_region)
        assert needs[("resolverEndpoints", region)] == sum(
            r.type == "aws:route53/resolverEndpoint:ResolverEndpoint" for r in in_region
        )
        lists = sum(r.type == "aws:ec2/managedPrefixList:ManagedPrefixList" for r in in_region)
        assert needs.get(("prefixListsPerRegion", region), 0) == lists
        gateways = sum(r.type == "aws:ec2transitgateway/transitGateway:TransitGateway" for r in in_region)
        assert needs.get(("transitGateways", region), 0) == gateways
    peerings = run.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert needs.get(("peeringConnectionsPerVpc", "us-east-1"), 0) == len(peerings)
    tgw_peerings = run.of_type("aws:ec2transitgateway/peeringAttachment:PeeringAttachment")
    assert needs.get(("transitGatewayPeeringAttachments", "us-east-1"), 0) == len(tgw_peerings)
    assert needs[("route53HealthChecks", None)] == len(run.of_type("aws:route53/healthCheck:HealthCheck"))
    hidden = preflight.PULUMI_EKS_ROLES_PER_CLUSTER * len(run.of_type("eks:index:Cluster"))
    assert needs[("iamRoles", None)] == len(run.of_type("aws:iam/role:Role")) + hidden


def _region(run: Run, registration: Registration) -> str:
    return Graph(run)._region(registration) if registration.custom else ""


@pytest.mark.parametrize(("size", "mode"), PRIVATE)
def test_route_tables_and_names_stay_within_limits(peered: Deployed, size: int, mode: str) -> None:
    run = peered[size, mode]
    per_table = Counter(str(r.inputs["routeTableId"]) for r in run.of_type("aws:ec2/route:Route"))
    assert max(per_table.values()) <= 50  # routes per route table (default quota)
    needs = {(key, region): n for key, region, n in preflight.quota_needs(spec_of(size, mode))}
    # The hub's: its default route and one per member, in either mode (one name per member route).
    assert max(per_table.values()) == needs[("routesPerRouteTable", "us-east-1")] == size
    too_long = [
        r.name
        for r in run.registrations.values()
        if r.type in naming.NAME_LIMITS and physical_name_length(r) > naming.NAME_LIMITS[r.type]
    ]
    assert too_long == []


def test_private_fleets_pass_preflight_with_only_quota_warnings() -> None:
    for size, mode in PRIVATE:
        checked = preflight.run(spec_of(size, mode))
        assert checked.errors == []
        assert checked.warnings
        assert all("fleet:quotas." in w for w in checked.warnings)


# ---------------------------------------------------------------- the checker catches what AWS would not forgive


def without(run: Run, dropped: Callable[[Registration], bool]) -> Run:
    return dataclasses.replace(run, registrations={u: r for u, r in run.registrations.items() if not dropped(r)})


def first_api_problems(run: Run, size: int, mode: str) -> list[str]:
    graph = Graph(run)
    return [check(graph, f).problem for f in flows.fleet_flows(spec_of(size, mode)) if f.to_api]


@pytest.mark.parametrize(
    ("dropped", "problem"),
    [
        # The hub's tables then send members' ranges to the NAT gateway (the default route).
        (lambda r: "-from-hub-" in r.name and r.type == "aws:ec2/route:Route", "not over a peering connection"),
        (lambda r: r.type == "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter", "is never accepted"),
        (lambda r: r.type == "aws:route53/resolverRuleAssociation:ResolverRuleAssociation", "resolves"),
        # Without Globalnet, Submariner's routed-range rules admit the peered VPCs (and the API with them).
        (lambda r: "-interconnect-api-" in r.name or r.name.endswith("-submariner-from-peers"), "does not admit 10.1"),
        (lambda r: "-dns-in-" in r.name and r.type == INGRESS, "does not admit DNS"),
    ],
    ids=["return-route", "accepter", "dns-forwarding", "api-opening", "resolver-firewall"],
)
def test_the_private_path_check_fails_without_each_piece(peered: Deployed, dropped: Any, problem: str) -> None:
    problems = first_api_problems(without(peered[10, "peering"], dropped), 10, "peering")
    assert any(problem in p for p in problems), problems[:3]


def test_globalnet_members_still_reach_the_broker_over_its_own_api_opening() -> None:
    # Globalnet routes global ranges, so the broker's cluster group gets 443 from the members' VPCs itself.
    def globalnet(config: dict[str, Any]) -> None:
        config["fleet:submariner"]["globalnet"] = True

    config = generated_fleet(4)
    globalnet(config)
    run = run_program(config)
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in config.items()})
    opening = [r for r in run.of_type(INGRESS) if r.name.startswith("hub-interconnect-api-")]
    assert sorted(IPv4Network(r.inputs["cidrIpv4"]) for r in opening) == [
        IPv4Network("10.11.0.0/16"),
        IPv4Network("10.12.0.0/15"),
    ]
    graph = Graph(run)
    assert [check(graph, f).problem for f in flows.fleet_flows(spec) if f.to_api] == [""] * 6


def _one_zone_only(registration: Registration) -> Registration:
    inputs = {**registration.inputs, "subnetIds": registration.inputs["subnetIds"][:1]}
    return dataclasses.replace(registration, inputs=inputs)


@pytest.mark.parametrize(
    ("dropped", "problem"),
    [
        (lambda r: r.type == "aws:ec2transitgateway/route:Route", "has no route to 10.10.0.0/16"),
        (lambda r: r.type == "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter", "is never accepted"),
        (lambda r: r.name == "c01-interconnect-attachment", "is not attached to"),
        (lambda r: r.name == "hub-interconnect-attachment", "but is not attached to"),
    ],
    ids=["static-route", "peering-accepter", "member-attachment", "hub-attachment"],
)
def test_the_transit_gateway_check_fails_without_each_piece(peered: Deployed, dropped: Any, problem: str) -> None:
    problems = first_api_problems(without(peered[10, "transitGateway"], dropped), 10, "transitGateway")
    assert any(problem in p for p in problems), problems[:3]


def test_an_attachment_missing_a_zone_strands_traffic_from_it(peered: Deployed) -> None:
    run = peered[10, "transitGateway"]
    registrations = {
        urn: _one_zone_only(r) if r.name == "c01-interconnect-attachment" else r for urn, r in run.registrations.items()
    }
    problems = first_api_problems(dataclasses.replace(run, registrations=registrations), 10, "transitGateway")
    assert any("c01-interconnect-attachment has no subnet in" in p and "cannot enter" in p for p in problems), problems[:3]
