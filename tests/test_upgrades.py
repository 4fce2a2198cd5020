"""Upgrade campaigns: waves, hops, steps and gates (components/planning/upgrades.py, offline/upgrade_gates.py)."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.config import hub_stack
from components.config.model import FleetSpec
from components.planning import upgrades
from components.planning.checks import load_fleet
from offline import upgrade_gates
from offline.harness import ROOT, Run, run_stack
from offline.transition import transition
from tests.config_cases import problems_after, raw_prod
from tests.reference_stacks import fleet_hub_project

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")


def prod_at(version: str, waves: list[dict[str, Any]] | None = None) -> FleetSpec:
    raw = raw_prod()
    raw["kubernetesVersion"] = version
    raw["supportType"] = "EXTENDED"
    if waves is not None:
        raw["upgrades"] = {"waves": waves}
    return hub_stack.with_hub_stack(load_fleet(raw), fleet_hub_project(), stack="prod")


def test_by_default_joining_stacks_go_first_then_members_then_the_hub() -> None:
    campaign = upgrades.plan_campaign(prod_at("1.34"), "1.35")
    assert [(w.name, [c.name for c in w.clusters]) for w in campaign.waves] == [
        ("stack-staging", ["staging-us"]),
        ("members", ["prod-eu", "prod-us"]),
        ("hub", ["mgmt"]),
    ]
    assert campaign.passed


# prod pins neither: each hop moves them to EKS's default build for the new minor (components/aws/eks_addons.py).
UNPINNED = (
    "aws-ebs-csi-driver EKS's default for {new} (DescribeAddonVersions), "
    "metrics-server EKS's default for {new} (DescribeAddonVersions)"
)


def test_each_hop_moves_the_control_plane_then_the_add_ons_then_every_node_group() -> None:
    campaign = upgrades.plan_campaign(prod_at("1.33"), "1.35")
    members = campaign.waves[1]
    assert members.hops == ["1.33 -> 1.34", "1.34 -> 1.35"]
    prod_us = [s for s in members.steps if s.startswith("prod-us:")]
    assert prod_us == [
        "prod-us: control plane 1.33 -> 1.34",
        "prod-us: add-ons kube-proxy v1.34.6-eksbuild.2, vpc-cni v1.21.1-eksbuild.7, "
        "coredns v1.13.2-eksbuild.4, cluster-autoscaler image v1.34.0, " + UNPINNED.format(new="1.34"),
        "prod-us: node groups arm, general, gpu, submariner-gateway -> 1.34 (image 1.34.9-20260714, rolling)",
        "prod-us: control plane 1.34 -> 1.35",
        "prod-us: add-ons kube-proxy v1.35.3-eksbuild.2, vpc-cni v1.21.1-eksbuild.7, "
        "coredns v1.13.2-eksbuild.4, cluster-autoscaler image v1.35.0, " + UNPINNED.format(new="1.35"),
        "prod-us: node groups arm, general, gpu, submariner-gateway -> 1.35 (image 1.35.6-20260714, rolling)",
    ]


def test_a_cluster_above_the_target_stops_the_campaign() -> None:
    campaign = upgrades.plan_campaign(prod_at("1.35"), "1.34")
    failed = [g for w in campaign.waves for g in w.gates if not g.passed]
    assert failed
    assert all(g.name == "version" and "never moves a control plane down" in g.detail for g in failed)
    assert not campaign.passed


def test_waves_name_a_cluster_in_none_or_in_two() -> None:
    spec = prod_at("1.34", [{"clusters": ["staging-us", "prod-us"]}, {"selector": {"environment": "production"}}])
    campaign = upgrades.plan_campaign(spec, "1.35")
    assert campaign.problems == [
        "fleet:upgrades.waves[1]: prod-us is already in fleet:upgrades.waves[0]; a cluster moves in one wave",
        "fleet:upgrades.waves: mgmt is in no wave; add it to one",
    ]
    assert not campaign.passed
    unknown = upgrades.plan_campaign(prod_at("1.34", [{"clusters": ["nope"]}]), "1.35")
    assert "fleet:upgrades.waves[0].clusters[0]: no cluster named 'nope' in this stack or a stack joining it" in unknown.problems


def test_a_wave_names_or_selects_but_not_both() -> None:
    (problem,) = problems_after(lambda raw: raw.update(upgrades={"waves": [{"clusters": ["mgmt"], "selector": {"a": "b"}}]}))
    assert problem.startswith("fleet:upgrades.waves[0]: a wave names its clusters or selects them by labels")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=4, max_size=4), st.sampled_from(["1.33", "1.34", "1.35"]))
def test_every_cluster_moves_in_exactly_one_wave_in_the_configured_order(assignment: list[int], version: str) -> None:
    names = ["mgmt", "prod-eu", "prod-us", "staging-us"]
    chosen = sorted(set(assignment))
    waves = [{"name": f"w{n}", "clusters": [name for name, a in zip(names, assignment, strict=True) if a == n]} for n in chosen]
    campaign = upgrades.plan_campaign(prod_at(version, waves), "1.35")
    assert campaign.problems == []
    placed = [c.name for w in campaign.waves for c in w.clusters]
    assert sorted(placed) == names
    assert [w.name for w in campaign.waves] == [f"w{n}" for n in chosen]
    for wave in campaign.waves:
        moving = [c for c in wave.clusters if c.stack == "" and c.version != "1.35"]
        assert bool(wave.hops) == bool(moving)


@needs_kubectl
def test_an_api_the_target_removes_stops_the_campaign_before_any_change(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "gitops", tmp_path / "gitops")
    overlay = tmp_path / "gitops" / "apps" / "myapp" / "overlays" / "production-us"
    (overlay / "flowschema.yaml").write_text(
        "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: myapp\n"
        "spec:\n  priorityLevelConfiguration:\n    name: workload-low\n"
    )
    kustomization = overlay / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources:\n", "resources:\n  - flowschema.yaml\n", 1))
    gate = upgrade_gates.removed_api_gate({"1.31"}, "1.32", tmp_path / "gitops")
    assert not gate.passed
    assert "flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema myapp is served by 1.31, not by 1.32" in gate.detail
    assert upgrade_gates.removed_api_gate({"1.31"}, "1.32", ROOT / "gitops").passed


def test_the_plan_prints_the_campaign_and_exits_1_on_a_failing_gate(capsys: pytest.CaptureFixture[str]) -> None:
    from plan.__main__ import main

    assert main(["prod", "--upgrade-to", "1.35"]) == 0
    assert "Every gate passes." in capsys.readouterr().out
    assert main(["prod", "--upgrade-to", "1.34", "--json"]) == 1
    assert '"gate": "version"' in capsys.readouterr().out
    assert main(["prod", "--upgrade-to", "2.0"]) == 1
    assert "not a version this program supports" in capsys.readouterr().err


def versioned(version: str, support: str = "EXTENDED") -> Run:
    return run_stack("fleet", mutate=lambda c: c.update({"fleet:kubernetesVersion": version, "fleet:supportType": support}))


def test_every_hop_of_a_two_minor_campaign_is_a_clean_transition() -> None:
    runs = [versioned("1.33"), versioned("1.34"), versioned("1.35")]
    for before, after in itertools.pairwise(runs):
        moved = transition(before, after)
        assert moved.violations == [], [v.message for v in moved.violations]
        assert {c.action for c in moved.changes} == {"update"}
    skipped = transition(runs[0], runs[2]).violations
    assert {v.rule for v in skipped} == {"one-minor-up"}


# ---------------------------------------------------------------- EBS CSI and metrics-server pinned per minor

PINS = {
    "ebsCsiVersion": {"1.34": "v1.48.0-eksbuild.2", "1.35": "v1.50.0-eksbuild.1"},
    "metricsServerVersion": {"1.34": "v0.8.0-eksbuild.1", "1.35": "v0.8.0-eksbuild.2"},
}


def pinned_at(version: str) -> Run:
    def edit(config: dict[str, Any]) -> None:
        config.update({"fleet:kubernetesVersion": version, "fleet:supportType": "EXTENDED"})
        config["fleet:addons"] = {**config.get("fleet:addons", {}), **PINS}

    return run_stack("fleet", mutate=edit)


def test_a_version_bump_moves_the_add_ons_pinned_per_minor() -> None:
    before, after = pinned_at("1.34"), pinned_at("1.35")
    for addon, pin in (("ebs-csi", PINS["ebsCsiVersion"]), ("metrics-server", PINS["metricsServerVersion"])):
        old, new = before.named(f"prod-eu-addons-{addon}"), after.named(f"prod-eu-addons-{addon}")
        assert (old.inputs["addonVersion"], new.inputs["addonVersion"]) == (pin["1.34"], pin["1.35"])
        assert new.ignore_changes == []  # pinned: held by the config, not by ignoring the version
    moved = transition(before, after)
    assert moved.violations == [], [v.message for v in moved.violations]
    changed = {c.name: c.changed for c in moved.changes if c.name.startswith("prod-eu-addons-")}
    assert changed["prod-eu-addons-ebs-csi"] == ("addonVersion",)
    assert changed["prod-eu-addons-metrics-server"] == ("addonVersion",)


def test_a_per_minor_pin_must_cover_every_clusters_minor() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["addons"] = {**raw.get("addons", {}), "ebsCsiVersion": {"1.34": "v1.48.0-eksbuild.2"}}

    (problem,) = problems_after(edit)
    assert problem.startswith("fleet:addons.ebsCsiVersion: no aws-ebs-csi-driver version for Kubernetes 1.35")
    assert "--addon-name aws-ebs-csi-driver --kubernetes-version 1.35" in problem


def test_the_campaign_moves_pinned_add_ons_and_stops_where_a_pin_is_missing() -> None:
    raw = raw_prod()
    raw.update(kubernetesVersion="1.34", supportType="EXTENDED")
    raw["addons"] = {**raw.get("addons", {}), "ebsCsiVersion": {"1.34": "v1.48.0-eksbuild.2"}}
    spec = hub_stack.with_hub_stack(load_fleet(raw), fleet_hub_project(), stack="prod")
    campaign = upgrades.plan_campaign(spec, "1.35")
    members = next(w for w in campaign.waves if w.name == "members")
    gate = next(g for g in members.gates if g.name == "add-ons")
    assert not gate.passed
    assert "aws-ebs-csi-driver 1.35" in gate.detail
    raw["addons"]["ebsCsiVersion"] = PINS["ebsCsiVersion"]
    spec = hub_stack.with_hub_stack(load_fleet(raw), fleet_hub_project(), stack="prod")
    members = next(w for w in upgrades.plan_campaign(spec, "1.35").waves if w.name == "members")
    assert next(g for g in members.gates if g.name == "add-ons").passed
    steps = " ".join(members.steps)
    assert "aws-ebs-csi-driver v1.50.0-eksbuild.1" in steps
    assert "metrics-server EKS's default for 1.35 (DescribeAddonVersions)" in steps


def test_on_mgmt_each_environment_is_its_own_wave_staging_before_prod() -> None:
    # A bad version stops in one environment: staging (nothing protected) moves before prod, the hub last.
    from tests.config_cases import raw_mgmt
    from tests.reference_stacks import reference_project

    raw = raw_mgmt()
    raw.update(kubernetesVersion="1.34", supportType="EXTENDED")
    spec = hub_stack.with_hub_stack(load_fleet(raw), reference_project(), stack="mgmt")
    campaign = upgrades.plan_campaign(spec, "1.35")
    assert [(w.name, sorted(c.name for c in w.clusters)) for w in campaign.waves] == [
        ("stack-staging", ["staging-us"]),
        ("stack-prod", ["prod-eu", "prod-us"]),
        ("hub", ["mgmt"]),
    ]
