"""Cross-cluster flows: the pure model, its limits, and a path for every flow in what the program registers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.aws import service_quotas
from components.planning import flows, preflight
from components.planning.checks import load_fleet
from components.planning.flows import Egress, FlowKind
from offline.graph import Graph
from offline.harness import Run, run_stack, stack_config
from offline.reachability import check


def spec_of(stack: str = "fleet", mutate: Any = None) -> Any:
    raw = {k.removeprefix("fleet:"): v for k, v in copy.deepcopy(stack_config(stack)).items()}
    if mutate is not None:
        mutate(raw)
    return load_fleet(raw)


def test_prod_flows() -> None:
    by_kind: dict[FlowKind, set[tuple[str, str]]] = {}
    for flow in flows.fleet_flows(spec_of()):
        by_kind.setdefault(flow.kind, set()).add((flow.source, flow.destination))
    assert by_kind[FlowKind.ARGOCD_API] == {("mgmt", "prod-us"), ("mgmt", "prod-eu")}
    assert by_kind[FlowKind.BROKER_API] == {("prod-us", "mgmt"), ("prod-eu", "mgmt")}
    members = ("mgmt", "prod-us", "prod-eu")
    assert by_kind[FlowKind.TUNNEL] == {(a, b) for a in members for b in members if a != b}
    assert by_kind[FlowKind.EDGE_TO_PODS] == {("edge-nlb", "prod-us"), ("edge-nlb", "prod-eu")}
    assert by_kind[FlowKind.HEALTH_CHECK] == {("route53-health-checkers", c) for c in ("prod-us", "prod-eu")}


def test_api_sources_merge_egress_kinds() -> None:
    spec = spec_of()
    sources = flows.api_sources(flows.fleet_flows(spec), "mgmt")
    assert [(s.source, s.egress) for s in sources] == [
        ("prod-eu", (Egress.GATEWAY, Egress.NAT)),
        ("prod-us", (Egress.GATEWAY, Egress.NAT)),
    ]
    assert [(s.source, s.egress) for s in flows.api_sources(flows.fleet_flows(spec), "prod-us")] == [("mgmt", (Egress.NAT,))]


def test_a_joining_stack_admits_the_hubs_egress() -> None:
    spec = spec_of("staging")
    (flow,) = [f for f in flows.fleet_flows(spec) if f.to_api]
    assert (flow.kind, flow.source, flow.destination) == (FlowKind.ARGOCD_API, "hub-stack:organization/fleet/mgmt", "staging-us")


def test_edge_flows_use_the_target_port() -> None:
    def istio(raw: dict[str, Any]) -> None:
        raw["clusters"][1]["edge"] = {"ingress": {"port": 443, "targetPort": 8443}}

    edge = {f.destination: f for f in flows.fleet_flows(spec_of(mutate=istio)) if f.kind is FlowKind.EDGE_TO_PODS}
    assert edge["prod-us"].ports == (8443,)
    assert edge["prod-eu"].ports == (443,)


def test_prod_allow_lists_fit_and_are_counted_exactly(fleet: Run) -> None:
    spec = spec_of()
    fleet_flows = flows.fleet_flows(spec)
    assert preflight.run(spec).errors == []
    for cluster in ("mgmt", "prod-us", "prod-eu"):
        registered = fleet.named(f"{cluster}-eks").inputs["publicAccessCidrs"]
        assert flows.public_access_entries(spec, cluster, fleet_flows) == len(registered)


@settings(max_examples=60, deadline=None)
@given(
    members=st.integers(2, 12),
    azs=st.integers(2, 3),
    single_nat=st.booleans(),
    gateways=st.integers(1, 2),
    operators=st.integers(1, 5),
)
def test_the_limit_check_refuses_exactly_the_fleets_eks_would(
    members: int, azs: int, single_nat: bool, gateways: int, operators: int
) -> None:
    def fleet(raw: dict[str, Any]) -> None:
        base = raw["clusters"][1]
        raw["clusters"] = [raw["clusters"][0]] + [
            {**copy.deepcopy(base), "name": f"m{i:02d}", "vpcCidr": f"10.{100 + i}.0.0/16", "serviceCidr": f"172.{21 + i}.0.0/16"}
            for i in range(members - 1)
        ]
        for cluster in raw["clusters"]:
            cluster["availabilityZones"] = azs
            cluster["natGateways"] = "Single" if single_nat else "OnePerAz"
        raw["submariner"].update(clusters=None, gatewaysPerCluster=gateways)
        raw["submariner"].pop("clusters")
        raw["apiAccessCidrs"] = [f"203.0.{i}.0/24" for i in range(operators)]
        raw.pop("dns")
        raw["argocd"]["ha"] = False
        # Over the internet: what EKS's 40-entry allow list bounds (peering keeps them flat).
        raw["interconnect"] = {"mode": "none"}
        raw.pop("quotas")  # quotas only warn unless declared; this test is about the allow lists

    raw = {k.removeprefix("fleet:"): v for k, v in copy.deepcopy(stack_config("fleet")).items()}
    fleet(raw)
    # Counted by hand from AWS's side: the broker admits each other member's NAT gateways and its
    # gateway pool (gateways plus an update's surge of two per gateway AZ).
    nat = 1 if single_nat else azs
    broker_entries = operators + (members - 1) * (nat + 3 * gateways)
    if broker_entries > service_quotas.EKS_PUBLIC_ACCESS_CIDRS_MAX:
        errors = preflight.run(load_fleet(raw)).errors
        assert [e for e in errors if "publicAccessCidrs" in e] == [
            e for e in errors if e.startswith(f"mgmt public API endpoint: needs {broker_entries} publicAccessCidrs")
        ]
        assert errors
        return
    spec = load_fleet(raw)
    assert preflight.run(spec).errors == []
    for cluster in spec.clusters:
        entries = flows.public_access_entries(spec, cluster.name, flows.fleet_flows(spec))
        assert entries <= service_quotas.EKS_PUBLIC_ACCESS_CIDRS_MAX


# ---------------------------------------------------------------- every flow has a path in the registered graph


@pytest.mark.parametrize("flow", flows.fleet_flows(spec_of()), ids=lambda f: f.name)
def test_every_prod_flow_has_a_path(fleet: Run, flow: flows.Flow) -> None:
    verdict = check(Graph(fleet), flow)
    assert verdict.path is not None, f"{flow.name}: {verdict.problem}"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_flow_of_a_stack_joining_mgmt_has_a_path(mgmt: Run, prod: Run, staging: Run, stack: str) -> None:
    # Prod's broker is prod-us, not the hub: prod-eu's agents reach it over the internet, admitted
    # by prod-us's allow list (its NAT and gateway addresses); mgmt's Argo CD reaches both.
    run = {"prod": prod, "staging": staging}[stack]
    hub_egress = mgmt.exports["argocdHub"]["egressIps"]
    graph = Graph(run, foreign_egress={"hub-stack:organization/fleet/mgmt": hub_egress})
    stack_flows = flows.fleet_flows(spec_of(stack))
    verdicts = [check(graph, flow) for flow in stack_flows]
    assert verdicts
    assert all(v.path is not None for v in verdicts), [v.problem for v in verdicts if v.path is None]
    if stack == "prod":
        assert {(f.kind, f.source, f.destination) for f in stack_flows if f.to_api} == {
            (FlowKind.ARGOCD_API, "hub-stack:organization/fleet/mgmt", "prod-us"),
            (FlowKind.ARGOCD_API, "hub-stack:organization/fleet/mgmt", "prod-eu"),
            (FlowKind.BROKER_API, "prod-eu", "prod-us"),
        }


def test_the_checker_finds_a_missing_path(fleet: Run) -> None:
    # The defect the first review found: members admitted only fleet:apiAccessCidrs, so the hub reached none.
    broken = copy.deepcopy(fleet)
    member = broken.named("prod-us-eks")
    member.inputs["publicAccessCidrs"] = ["203.0.113.0/24"]
    (flow,) = [f for f in flows.fleet_flows(spec_of()) if f.kind is FlowKind.ARGOCD_API and f.destination == "prod-us"]
    verdict = check(Graph(broken), flow)
    assert verdict.path is None
    assert "publicAccessCidrs do not admit" in verdict.problem


def test_the_checker_finds_a_target_port_nobody_admits() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1].update(edge={"ingress": {"port": 443, "targetPort": 8443}}))
    spec = spec_of(mutate=lambda raw: raw["clusters"][1].update(edge={"ingress": {"port": 443, "targetPort": 8443}}))
    (flow,) = [f for f in flows.fleet_flows(spec) if f.kind is FlowKind.EDGE_TO_PODS and f.destination == "prod-us"]
    assert check(Graph(run), flow).path is not None
    # The same flow against rules that admit only the Service port (what the program registered before).
    for rule in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if rule.name == "prod-us-edge-pods-from-nlb":
            rule.inputs.update(fromPort=443, toPort=443)
    assert check(Graph(run), flow).path is None


def test_the_checker_finds_a_health_check_on_the_nlbs_own_hostname(fleet: Run) -> None:
    broken = copy.deepcopy(fleet)
    check_registration = next(
        r for r in broken.of_type("aws:route53/healthCheck:HealthCheck") if r.inputs["tags"]["fleet-cluster"] == "prod-eu"
    )
    check_registration.inputs["fqdn"] = broken.named("prod-eu-edge-nlb").outputs["dnsName"]
    (flow,) = [f for f in flows.fleet_flows(spec_of()) if f.kind is FlowKind.HEALTH_CHECK and f.destination == "prod-eu"]
    verdict = check(Graph(broken), flow)
    assert verdict.path is None
    assert "answers it with 404" in verdict.problem
