"""A stack that joins another stack's hub (fleet:hub) joins that hub's interconnect too."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import hub_stack
from components.planning import flows, preflight
from components.planning.checks import load_fleet
from components.planning.gitops import REGISTRATION_OUTPUT
from components.planning.trust import INTERCONNECT_OUTPUT
from offline.graph import Graph
from offline.harness import ROOT, Run, placeholder_registration, run_stack, stack_config
from offline.reachability import check
from tests.config_cases import staging_registered

HUB = "organization/fleet/mgmt"


def peered(config: dict[str, Any]) -> None:
    config["fleet:interconnect"] = {"mode": "peering"}
    staging_registered(config)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This project with mgmt's stack file switched to peering, as the joining stack reads it."""
    directory = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    document = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    peered(document["config"])
    (directory / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(document))
    shutil.copy(ROOT / "Pulumi.staging.yaml", directory / "Pulumi.staging.yaml")  # mgmt's fleet:members
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hub_stack, "PROJECT_DIR", directory)
        yield directory


@pytest.fixture(scope="module")
def runs(project: Path) -> tuple[Run, Run]:
    return hub_then_member_then_hub(peered)


def hub_then_member_then_hub(mutate: Any) -> tuple[Run, Run]:
    """The deploy order: the hub, staging (reading the hub's outputs), the hub again (building its
    side of staging's peering and registration from staging's outputs)."""
    first = run_stack("mgmt", mutate=mutate)
    outputs = {key: first.exports[key] for key in ("argocdHub", INTERCONNECT_OUTPUT)}
    staging = run_stack("staging", stack_outputs={HUB: outputs})
    registration = {REGISTRATION_OUTPUT: staging.exports[REGISTRATION_OUTPUT]}
    return run_stack("mgmt", mutate=mutate, stack_outputs={"organization/fleet/staging": registration}), staging


def staging_spec(project: Path, mutate: Any = None) -> Any:
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()}
    if mutate is not None:
        mutate(raw)
    spec = load_fleet(raw)
    return hub_stack.with_hub_stack(spec, project)


def test_the_hub_exports_what_joining_stacks_peer_with(runs: tuple[Run, Run]) -> None:
    hub, _ = runs
    exported = hub.exports[INTERCONNECT_OUTPUT]
    assert exported["region"] == "us-east-1"
    assert exported["vpcCidr"] == "10.10.0.0/16"
    assert exported["vpcId"] == hub.named("mgmt-network-vpc").id
    # Nothing a member would need to write into the hub's VPC: the hub builds its side itself.
    assert set(exported) == {"region", "vpcCidr", "vpcId"}


def test_argo_cd_reaches_the_joining_clusters_over_the_peering(project: Path, runs: tuple[Run, Run]) -> None:
    hub, staging = runs
    spec = staging_spec(project)
    calls = [f for f in flows.fleet_flows(spec) if f.to_api]
    assert [(f.source, f.destination, f.route) for f in calls] == [(f"hub-stack:{HUB}", "staging-us", flows.Route.PEERING)]
    # The hub's NAT addresses leave the allow list: only the operators' CIDRs stay.
    assert staging.named("staging-us-eks").inputs["publicAccessCidrs"] == ["203.0.113.0/24"]
    both = Run({**hub.registrations, **staging.registrations}, {}, set(), [])
    graph = Graph(both, parties={f"hub-stack:{HUB}": "mgmt"})
    verdict = check(graph, calls[0])
    assert verdict.problem == ""
    assert "forwarded by staging-us-interconnect-hub-resolves via mgmt-interconnect-dns-out" in str(verdict.path)
    # The hub's side is the hub stack's, built as itself: the acceptance, a route per hub table, the
    # forwarding rule; staging creates nothing in the hub's region.
    assert not [r for r in staging.registrations.values() if r.inputs.get("region") == "us-east-1"]
    assert not [r for r in staging.registrations.values() if "-from-hub-" in r.name or "hub-resolves" in r.name]
    routes = [r for r in hub.of_type("aws:ec2/route:Route") if r.name.startswith("staging-us-interconnect-from-hub-")]
    hub_tables = {r.id for r in hub.of_type("aws:ec2/routeTable:RouteTable") if r.name.startswith("mgmt-network-")}
    assert {r.inputs["routeTableId"] for r in routes} == hub_tables
    peering = staging.named("staging-us-interconnect-peering")
    assert {r.inputs["vpcPeeringConnectionId"] for r in routes} == {peering.id}
    (accepted,) = [
        r for r in hub.of_type("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter") if "staging" in r.name
    ]
    assert accepted.inputs["vpcPeeringConnectionId"] == peering.id


def test_a_joining_cluster_overlapping_the_hubs_stack_fails_preflight(project: Path) -> None:
    spec = staging_spec(project, lambda raw: raw["clusters"][0].update(vpcCidr="10.10.0.0/16"))
    (error,) = preflight.run(spec).errors
    assert error.startswith(f"fleet:clusters[0].vpcCidr: 10.10.0.0/16 overlaps mgmt (10.10.0.0/16) of {HUB}")


def test_a_hub_over_the_internet_keeps_joining_stacks_on_their_allow_lists() -> None:
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()}
    spec = load_fleet(raw)
    spec = hub_stack.with_hub_stack(spec, ROOT)  # the real mgmt file: interconnect none
    assert [f.route for f in flows.fleet_flows(spec) if f.to_api] == [flows.Route.INTERNET]


def test_a_hub_in_another_project_cannot_be_read() -> None:
    assert hub_stack.stack_file_of("organization/other/prod") is None


def test_the_plan_of_a_joining_stack_shows_its_flow_over_the_peering(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from offline import stacks
    from plan.__main__ import main

    shutil.copy(ROOT / "Pulumi.staging.yaml", project / "Pulumi.staging.yaml")
    monkeypatch.setattr(stacks, "STACK_DIR", project)
    diagram = project / "staging.mmd"
    assert main(["staging", "--json", "--diagram", str(diagram)]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert "-->|Argo CD over VPC peering| n_staging_us" in diagram.read_text()
    (flow,) = [f for f in plan["flows"] if f["kind"] == "argocd-api"]
    assert flow["route"] == "peering"
    assert "forwarded by staging-us-interconnect-hub-resolves" in flow["path"]
    assert plan["preflight"]["verdict"] == "pass"


def test_a_joining_stack_reaches_argo_cd_of_a_transit_gateway_hub_over_a_peering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def transit(config: dict[str, Any]) -> None:
        config["fleet:interconnect"] = {"mode": "transitGateway"}
        staging_registered(config)

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    transit(document["config"])
    (tmp_path / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(document))
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")  # mgmt's fleet:members
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)
    hub, staging = hub_then_member_then_hub(transit)
    spec = staging_spec(tmp_path)
    (call,) = [f for f in flows.fleet_flows(spec) if f.to_api]
    assert call.route is flows.Route.PEERING
    graph = Graph(Run({**hub.registrations, **staging.registrations}, {}, set(), []), parties={f"hub-stack:{HUB}": "mgmt"})
    assert check(graph, call).problem == ""


def test_a_joining_stacks_allow_list_counts_the_hubs_real_nat_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    # From mgmt's file: mgmt has 3 AZs with a NAT gateway each; without the file, the most (6).
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", ROOT)  # the real mgmt file: interconnect none
    spec = staging_spec(ROOT)
    assert preflight.run(spec).allow_lists == {"staging-us": 1 + 3}
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()}
    assert preflight.run(load_fleet(raw)).allow_lists == {"staging-us": 1 + flows.MAX_FOREIGN_HUB_NAT}
    registered = staging_internet_run().named("staging-us-eks").inputs["publicAccessCidrs"]
    assert len(registered) == 1 + 3


def staging_internet_run() -> Run:
    """Staging joining the real mgmt (interconnect none): the hub's NAT addresses on its allow list."""
    hub = run_stack("mgmt")
    return run_stack("staging", stack_outputs={HUB: {k: hub.exports[k] for k in ("argocdHub",)}})


# ---------------------------------------------------------------- the hub's VPC quotas count every joining stack


def quota_project(directory: Path, routes_declared: int | None = None) -> Path:
    """mgmt (peering) with staging and a second joining stack, dev, beside it."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    hub = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    peered(hub["config"])
    if routes_declared is not None:
        hub["config"]["fleet:quotas"] = {"regions": {"us-east-1": {"routesPerRouteTable": routes_declared}}}
    (directory / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(hub))
    staging = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    (directory / "Pulumi.staging.yaml").write_text(yaml.safe_dump(staging))
    staging["config"]["fleet:clusters"][0].update(name="dev-us", vpcCidr="10.41.0.0/16")
    (directory / "Pulumi.dev.yaml").write_text(yaml.safe_dump(staging))
    return directory


def spec_of(directory: Path, stack: str) -> Any:
    raw = {
        k.removeprefix("fleet:"): v for k, v in yaml.safe_load((directory / f"Pulumi.{stack}.yaml").read_text())["config"].items()
    }
    return hub_stack.with_hub_stack(load_fleet(raw), directory, stack=stack)


def test_the_hub_vpc_counts_every_joining_stacks_clusters_from_either_side(tmp_path: Path) -> None:
    # Defect 8: the hub's route tables and peerings hold the joining stacks' clusters too.
    directory = quota_project(tmp_path)
    alone = preflight.hub_vpc_use(spec_of(directory, "mgmt").with_joining({}, []))
    hub = preflight.hub_vpc_use(spec_of(directory, "mgmt"))
    joiner = preflight.hub_vpc_use(spec_of(directory, "staging"))
    assert alone is not None
    assert hub is not None
    assert joiner is not None
    assert hub.joined == {"dev": 1, "staging": 1}
    assert (hub.routes, hub.peerings) == (alone.routes + 2, alone.peerings + 2)
    assert (joiner.routes, joiner.peerings, joiner.region) == (hub.routes, hub.peerings, "us-east-1")
    assert joiner.joined == {"dev": 1, preflight.THIS_STACK: 1}


def test_a_hub_route_table_full_only_with_its_joiners_fails_both_preflights(tmp_path: Path) -> None:
    probe = preflight.hub_vpc_use(spec_of(quota_project(tmp_path / "probe"), "mgmt"))
    assert probe is not None
    own = probe.routes - 2
    directory = quota_project(tmp_path / "declared", routes_declared=own)
    for stack in ("mgmt", "staging"):
        errors = [e for e in preflight.run(spec_of(directory, stack)).errors if "Routes per route table" in e]
        assert len(errors) == 1, (stack, errors)
        assert f"the hub's VPC (mgmt) needs {own + 2}" in errors[0]
        assert "1 of dev" in errors[0]
        assert f"declares {own}" in errors[0]


def test_a_joining_stack_counts_its_own_resolver_endpoint(tmp_path: Path) -> None:
    needs = {(key, region): n for key, region, n in preflight.quota_needs(spec_of(quota_project(tmp_path), "staging"))}
    assert needs[("resolverEndpoints", "us-west-2")] == 1


def test_a_broken_stack_file_beside_the_hub_is_named_not_fatal(tmp_path: Path) -> None:
    directory = quota_project(tmp_path)
    (directory / "Pulumi.dev.yaml").write_text("config:\n  fleet:clusters: [a, b\n")
    checked = preflight.run(spec_of(directory, "mgmt"))
    assert checked.passed
    (warning,) = [w for w in checked.warnings if "Pulumi.dev.yaml" in w]
    assert "the [ opened here is never closed" in warning
    assert "would not be counted in its VPC's quotas" in warning


def test_moving_the_hub_side_of_a_peering_to_the_hub_stack(runs: tuple[Run, Run]) -> None:
    # The graphs as the push design built them, a peered hub and staging (tests/graph/pushed-registration),
    # against the pulled design: staging keeps its peering connection and resolver, and hands the
    # hub-side pieces to the hub's stack.
    from offline.graph_lock import LOCK_DIR, differences, fingerprint

    hub, staging = runs
    before = {s: json.loads((LOCK_DIR / "pushed-registration" / f"{s}-peered.json").read_text()) for s in ("prod", "staging")}

    def names(diff: list[str], kind: str) -> list[str]:
        return sorted(d.rsplit("::", 1)[-1] for d in diff if d.startswith(kind))

    member = differences(before["staging"], fingerprint(staging))
    # The hub's side of staging-us's peering: routes in each hub table, the outbound resolver's
    # opening (tcp and udp 53 to staging's range), the forwarding rule and its association, the acceptance.
    hub_side_pieces = [
        f"staging-us-interconnect-from-hub-{t}" for t in ("private-use1-az1", "private-use1-az2", "private-use1-az4")
    ]
    hub_side_pieces += ["staging-us-interconnect-from-hub-public"]
    hub_side_pieces += [f"staging-us-interconnect-hub-dns-out-{p}-53-10-40-0-0-16" for p in ("tcp", "udp")]
    hub_side_pieces += ["staging-us-interconnect-hub-resolves"] * 2 + ["staging-us-interconnect-peering-accept"]
    assert names(member, "removed resource") == ["aws-us-east-1", *hub_side_pieces]
    # CoreDNS's EKS add-on joined every cluster's add-ons later (issue 34), and EKS Pod Identity's agent and
    # associations (issue 37, fleet:workloadIdentity), apart from this move.
    later = {"staging-us-addons-coredns", "staging-us-addons-pod-identity-agent", "staging-us-addons-autoscaler-identity"}
    later |= {"staging-us-edge-lbc-identity"}
    assert [n for n in names(member, "added resource") if n not in later] == []
    # Its own routes only lose their wait for the acceptance (a dependency, not an input: no update).
    changed = names(member, "changed resource")
    assert "staging-us-interconnect-peering" not in changed
    assert not [c for c in changed if "dns-in" in c]
    assert {c for c in changed if "interconnect" in c} == {
        f"staging-us-interconnect-to-hub-{t}" for t in ("public", "private-usw2-az1", "private-usw2-az2")
    }
    # The hub then lived in prod's stack; it is mgmt's now, whose graph gains exactly staging's hub side.
    hub_side = differences(before["prod"], fingerprint(hub))
    assert [n for n in names(hub_side, "added resource") if n.startswith("staging-us-interconnect")] == [
        "staging-us-interconnect",
        *hub_side_pieces,
    ]
    assert not [n for n in names(hub_side, "removed resource") if n.startswith("staging-us-interconnect")]


def test_a_hub_listing_a_member_that_still_builds_the_hub_side_stops_naming_it() -> None:
    # Before its deploy, staging's registration has no peering end: the hub would race its routes.
    exported = placeholder_registration("organization/fleet/staging")["argocdRegistration"]["clusters"]["staging-us"]
    exported.pop("interconnect")
    staging_outputs = {"argocdRegistration": {"clusters": {"staging-us": exported}}}
    with pytest.raises(
        Exception, match="exports no peering for cluster staging-us in argocdRegistration: deploy organization/fleet/staging"
    ):
        run_stack("mgmt", mutate=peered, stack_outputs={"organization/fleet/staging": staging_outputs})


def test_the_plan_of_a_hub_registers_its_members_from_their_planned_outputs(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deploy order's rounds, offline: staging planned on mgmt's planned outputs, mgmt on staging's.
    from offline import stacks
    from plan.__main__ import main

    shutil.copy(ROOT / "Pulumi.staging.yaml", project / "Pulumi.staging.yaml")
    monkeypatch.setattr(stacks, "STACK_DIR", project)
    assert main(["mgmt", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    staging = plan["argocd"]["registeredClusters"]["staging-us"]
    assert staging["labels"]["fleet/stack"] == "staging"
    assert staging["server"].endswith(".gr7.us-west-2.eks.amazonaws.com")  # staging's planned endpoint, not a placeholder


def test_prod_joining_a_peering_hub_cannot_peer_its_own_clusters_and_keeps_its_brokers_public_path(
    tmp_path: Path,
) -> None:
    # Prod's clusterset has its broker on prod-us. Its clusters peer with mgmt's VPC, and AWS routes
    # nothing onward through a peered VPC, so prod-eu reaches prod-us's API only over the internet.
    # A second interconnect of prod's own would register a link per cluster under the same name as
    # the hub's (<cluster>-interconnect): Pulumi refuses a duplicate URN (mocks do not).
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    hub = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    hub["config"]["fleet:interconnect"] = {"mode": "peering"}
    (tmp_path / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(hub))
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("prod").items()}
    raw["interconnect"] = {"mode": "peering"}
    from components.planning.checks import membership_problems

    spec = hub_stack.with_hub_stack(load_fleet(raw), tmp_path, stack="prod")
    (problem,) = membership_problems(spec, "prod")
    assert problem.startswith(f"fleet:interconnect.mode: peering: this stack joins {HUB}, which peers its members")
    raw["interconnect"] = {"mode": "none"}
    raw["apiAccessCidrs"] = []
    spec = hub_stack.with_hub_stack(load_fleet(raw), tmp_path, stack="prod")
    assert membership_problems(spec, "prod") == []
    (error,) = [e for e in preflight.run(spec).errors if e.startswith("broker-api")]
    assert "keep the public endpoints (fleet:apiAccessCidrs) for calls between its own clusters" in error
    # With its public endpoints, prod-eu reaches the broker over the internet and mgmt reaches both privately.
    raw["apiAccessCidrs"] = ["203.0.113.0/24"]
    spec = hub_stack.with_hub_stack(load_fleet(raw), tmp_path, stack="prod")
    routes = {(f.kind.value, f.source, f.destination): f.route for f in flows.fleet_flows(spec) if f.to_api}
    assert routes[("broker-api", "prod-eu", "prod-us")] is flows.Route.INTERNET
    assert routes[("argocd-api", f"hub-stack:{HUB}", "prod-eu")] is flows.Route.PEERING
    assert preflight.run(spec).errors == []
