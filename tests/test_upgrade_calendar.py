"""Upgrades on the support calendar (issue 34, defect 1): the clock is an input, and a cluster EKS is
about to upgrade, or already may have, is always upgradable through the campaign."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from components.aws import eks_versions
from components.config import clock, hub_stack
from offline import stacks
from offline.harness import Run
from tests import reference_stacks

VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")


def days_around(day: dt.date) -> list[dt.date]:
    return [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("support", ["STANDARD", "EXTENDED"])
def test_the_calendar_walk_says_what_each_day_means(version: str, support: str) -> None:
    window = eks_versions.SUPPORT[version]
    upgrade = eks_versions.auto_upgrade_date(version, support)
    assert upgrade == (window.standard_until if support == "STANDARD" else window.extended_until)
    for boundary in (window.standard_until, window.extended_until):
        for day in days_around(boundary):
            said = eks_versions.support_warning(version, day, support) or ""
            due = eks_versions.due_for_auto_upgrade(version, day, support)
            assert due == ((upgrade - day).days <= eks_versions.AUTO_UPGRADE_NOTICE_DAYS)
            if day > upgrade:
                assert f"left EKS {'standard' if support == 'STANDARD' else 'extended'} support on {upgrade}" in said
            elif support == "EXTENDED" and day > window.standard_until:
                assert "billed at the extended-support price" in said
            elif due:
                assert said.startswith(f"EKS upgrades Kubernetes {version} clusters ({support} support) by itself on {upgrade}")
            else:
                assert said == ""
            if said and eks_versions.next_minor(version) in eks_versions.SUPPORT:
                # Every warning points at the campaign, which runs (test below), never at a refusal.
                assert f"--upgrade-to {eks_versions.next_minor(version)}" in said


def prod_at(directory: Path, version: str) -> Path:
    project = directory / "project"
    shutil.copytree(reference_stacks.reference_project(), project)
    document = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())
    document["config"]["fleet:kubernetesVersion"] = version
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


@pytest.fixture
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    def enter(version: str) -> Path:
        project = prod_at(tmp_path, version)
        monkeypatch.setattr(stacks, "STACK_DIR", project)
        monkeypatch.setattr(hub_stack, "PROJECT_DIR", project)
        return project

    return enter


@pytest.mark.parametrize("version", ["1.31", "1.32", "1.33", "1.34"])
def test_a_production_cluster_past_standard_support_plans_its_upgrade(
    version: str, in_project: object, capsys: pytest.CaptureFixture[str]
) -> None:
    # The catch-22: validation refused the stack and pointed at --upgrade-to, which refused too.
    from plan import __main__ as plan_main

    in_project(version)  # type: ignore[operator]
    the_day_after = eks_versions.SUPPORT[version].standard_until + dt.timedelta(days=1)
    target = eks_versions.next_minor(version)
    status = plan_main.main(["prod", "--upgrade-to", target, "--json", "--today", the_day_after.isoformat()])
    out = capsys.readouterr()
    assert status == 0, out.out + out.err
    campaign = json.loads(out.out)
    assert [w["hops"] for w in campaign["waves"]] == [[f"{version} -> {target}"]]
    assert all(g["passed"] for w in campaign["waves"] for g in w["gates"])


def test_on_todays_date_the_shipped_prod_at_1_34_plans_1_35(in_project: object, capsys: pytest.CaptureFixture[str]) -> None:
    from plan import __main__ as plan_main

    in_project("1.34")  # type: ignore[operator]
    assert clock.today() == dt.date(2026, 12, 7)
    assert plan_main.main(["prod", "--upgrade-to", "1.35", "--json"]) == 0
    campaign = json.loads(capsys.readouterr().out)
    assert campaign["waves"][0]["clusters"] == ["prod-eu", "prod-us"]
    assert plan_main.main(["prod"]) == 0
    out = capsys.readouterr().out
    assert "ACTION NEEDED: fleet:kubernetesVersion (prod-us): Kubernetes 1.34 left EKS standard support on 2026-12-02" in out


def test_a_day_that_is_not_a_date_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    from plan import __main__ as plan_main

    assert plan_main.main(["prod", "--today", "next tuesday"]) == 1
    assert "FLEET_TODAY='next tuesday': expected a date, YYYY-MM-DD" in capsys.readouterr().err


def test_deploy_upgrade_names_a_stack_that_does_not_evaluate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # It crashed with a traceback (the evaluation raised before the campaign began).
    from deploy import upgrade

    project = prod_at(tmp_path, "1.34")
    (project / "Pulumi.prod.yaml").write_text(
        (project / "Pulumi.prod.yaml").read_text().replace("vpcCidr: 10.20.0.0/16", "vpcCidr: 10.20.0.0/33")
    )
    monkeypatch.setattr(stacks, "STACK_DIR", project)
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", project)
    assert upgrade.main(["upgrade", "--stack", "prod", "--to", "1.35"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m deploy upgrade: invalid stack config")
    assert "vpcCidr" in err


def test_every_eks_addon_moves_with_its_clusters_minor() -> None:
    # Issue 34, defect 6: EBS CSI and metrics-server were held at their creation version. Every row of
    # components/aws/eks_addons.py resolves its version for the cluster's minor, and a hop updates it.
    from components.aws import eks_addons
    from offline.harness import run_stack
    from offline.transition import transition

    def at(version: str) -> object:
        return run_stack("staging", mutate=lambda c: c.update({"fleet:kubernetesVersion": version}))

    before, after = at("1.34"), at("1.35")
    for addon in eks_addons.EKS_ADDONS:
        old = before.named(f"staging-us-addons-{addon.part}")  # type: ignore[attr-defined]
        new = after.named(f"staging-us-addons-{addon.part}")  # type: ignore[attr-defined]
        assert old.inputs["addonVersion"].endswith("-1.34-default-eksbuild.1")
        assert new.inputs["addonVersion"].endswith("-1.35-default-eksbuild.1")
        assert "addonVersion" not in new.ignore_changes
    moved = {c.name: c for c in transition(before, after).changes}  # type: ignore[arg-type]
    for addon in eks_addons.EKS_ADDONS:
        change = moved[f"staging-us-addons-{addon.part}"]
        assert (change.action, change.changed) == ("update", ("addonVersion",))


def test_the_charts_gate_checks_every_minor_the_campaign_passes_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 34, defect 5: the gate read only the target's minor; a two-hop campaign passes through 1.34.
    from offline import charts, upgrade_gates
    from offline.harness import run_stack

    asked: list[str] = []

    def problem(directory: Path, minor: str) -> None:
        asked.append(minor)

    monkeypatch.setattr(charts, "kube_version_problem", problem)
    run = run_stack("staging")
    gate = upgrade_gates.chart_gate(run, ["1.35", "1.34"])
    assert gate.passed
    assert sorted(set(asked)) == ["1.34", "1.35"]
    assert gate.detail.endswith("admit Kubernetes 1.34, 1.35")


def test_a_template_change_with_the_image_pin_raised_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fix node-image-drift names: the same deploy raises the pin, so the update names its image.
    from components.aws import eks_releases
    from offline.harness import run_stack
    from offline.transition import transition

    def bigger_disks(config: dict[str, object]) -> None:
        for group in config["fleet:clusters"][0]["nodeGroups"]:  # type: ignore[index]
            group["diskSizeGib"] = 200

    before = run_stack("staging")
    assert {v.rule for v in transition(before, run_stack("staging", mutate=bigger_disks)).violations} == {"node-image-drift"}
    monkeypatch.setattr(eks_releases, "NODE_IMAGE_RELEASE", "20261120")
    after = run_stack("staging", mutate=bigger_disks)
    assert transition(before, after).violations == []


def test_a_pin_that_is_already_the_newest_image_can_be_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Review of #34: when the pin already is EKS's newest release, the update drifts nowhere and "raise the
    # pin" cannot be followed: the message names the SSM parameter that says so, and --accept takes it.
    from components.aws import eks_releases
    from plan import __main__ as plan_main

    document = yaml.safe_load(stacks.stack_path("staging").read_text())
    for group in document["config"]["fleet:clusters"][0]["nodeGroups"]:
        group["diskSizeGib"] = 200
    changed = tmp_path / "Pulumi.staging.yaml"
    changed.write_text(yaml.safe_dump(document, sort_keys=False))
    assert plan_main.main(["staging", "--compare", str(changed)]) == 1
    out = capsys.readouterr().out
    pin = eks_releases.RELEASES["1.35"].node_release
    parameter = "/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/recommended/release_version"
    assert f"`aws ssm get-parameter --name {parameter} --region us-west-2 --query Parameter.Value` prints {pin}" in out
    groups = sorted(set(re.findall(r"--accept node-image-drift:([\w-]+)", out)))
    assert groups == ["staging-us-general-usw2-az1", "staging-us-general-usw2-az2"]
    # Accepted one step at a time: the other group's drift is still an error.
    assert plan_main.main(["staging", "--compare", str(changed), "--accept", f"node-image-drift:{groups[0]}"]) == 1
    capsys.readouterr()
    accepts = [arg for group in groups for arg in ("--accept", f"node-image-drift:{group}")]
    assert plan_main.main(["staging", "--compare", str(changed), *accepts]) == 0
    out = capsys.readouterr().out
    assert "No step breaks an AWS or Pulumi rule." in out
    assert f"accepted [node-image-drift] at update {groups[0]}" in out
    with pytest.raises(SystemExit):
        plan_main.main(["staging", "--compare", str(changed), "--accept", "one-minor-up:x"])


def test_every_ami_type_has_its_recommended_release_parameter() -> None:
    from components.aws import eks_releases
    from components.aws.instance_types import AmiType

    assert set(eks_releases.SSM_AMI_TYPE_PATHS) == {t.value for t in AmiType}


def test_coredns_outside_the_clusterset_is_the_eks_addon_an_upgrade_moves() -> None:
    # Issue 34, defect 7: a cluster outside the clusterset kept EKS's self-managed CoreDNS, which no
    # upgrade touches. Every cluster runs the add-on at its minor's pinned build now, created once its
    # node groups exist (pulumi-eks would create it before any node: pulumi/pulumi-eks#1819).
    from components.aws import eks_releases
    from offline.harness import run_stack
    from offline.transition import transition

    before = run_stack("staging", mutate=lambda c: c.update({"fleet:kubernetesVersion": "1.34"}))
    after = run_stack("staging")
    old, new = before.named("staging-us-addons-coredns"), after.named("staging-us-addons-coredns")
    assert old.inputs["addonVersion"] == eks_releases.RELEASES["1.34"].coredns
    assert new.inputs["addonVersion"] == eks_releases.RELEASES["1.35"].coredns
    assert (new.inputs["resolveConflictsOnCreate"], new.inputs["resolveConflictsOnUpdate"]) == ("OVERWRITE", "OVERWRITE")
    groups = {r.urn for r in after.of_type("eks:index:ManagedNodeGroup")}
    assert groups
    assert groups <= set(after.transitive_dependencies(new))
    assert not [c for c in transition(before, after).changes if c.action in ("replace", "delete")]


def test_a_members_coredns_made_by_pulumi_eks_moves_without_a_replacement(fleet: Run) -> None:
    # Until this change pulumi-eks created the members' CoreDNS add-on as the cluster's child. The same
    # EKS add-on now lives in the cluster's add-ons: an alias moves it (created again, CreateAddon
    # would fail on the existing add-on and the old one's delete would remove it).
    import dataclasses

    from offline.harness import Run as HarnessRun
    from offline.transition import transition

    new = fleet.named("prod-us-addons-coredns")
    cluster = fleet.named("prod-us-eks")
    old_urn = cluster.urn.replace("eks:index:Cluster::", "eks:index:Cluster$aws:eks/addon:Addon::").replace(
        "::prod-us-eks", "::prod-us-eks-coredns"
    )
    assert old_urn in new.aliases
    registrations = {
        (old_urn if urn == new.urn else urn): (dataclasses.replace(r, urn=old_urn, parent=cluster.urn) if urn == new.urn else r)
        for urn, r in fleet.registrations.items()
    }
    before = dataclasses.replace(fleet, registrations=registrations)
    assert isinstance(before, HarnessRun)
    moved = transition(before, fleet)
    assert [c for c in moved.changes if "coredns" in c.name] == []
    assert moved.violations == []


def test_compare_keeps_what_the_resource_ignores() -> None:
    # Issue 34, defect 7: --compare counted changes on ignoreChanges paths, which the engine never sends.
    import dataclasses

    from offline.transition import classify
    from tests.test_transition import reg

    def addon(version: str, tags: dict[str, str] | None = None) -> object:
        made = reg("a", "aws:eks/addon:Addon", addonVersion=version, tags=tags or {})
        return dataclasses.replace(made, ignore_changes=["addonVersion"])

    assert classify(addon("v1"), addon("v2")) is None  # type: ignore[arg-type]
    change = classify(addon("v1"), addon("v2", {"team": "x"}))  # type: ignore[arg-type]
    assert change is not None
    assert change.changed == ("tags.team",)


def test_every_eks_addon_in_the_graph_has_a_version_for_its_clusters_minor() -> None:
    # "What must be true": every EKS add-on has a version resolved for its cluster's minor, recorded in
    # the clusters output (and so in the plan and the stack's outputs).
    from components.aws import eks_addons, eks_releases
    from offline.harness import run_stack

    run = run_stack("staging", mutate=lambda c: c.update({"fleet:kubernetesVersion": "1.34"}))
    (summary,) = run.exports["clusters"].values()
    release = eks_releases.RELEASES["1.34"]
    assert summary["addons"]["kube-proxy"] == release.kube_proxy
    assert summary["addons"]["coredns"] == release.coredns
    assert summary["addons"]["vpc-cni"] == release.vpc_cni
    for addon in eks_addons.EKS_ADDONS:
        assert summary["addons"][addon.name] == run.named(f"staging-us-addons-{addon.part}").inputs["addonVersion"]
        assert "-1.34-" in summary["addons"][addon.name]
    registered = {r.inputs["addonName"] for r in run.of_type("aws:eks/addon:Addon")}
    assert registered <= set(summary["addons"])


def _staging_with(version: str, running: dict[str, str], registered: list[str] | None = None) -> object:
    from offline.harness import run_stack

    return run_stack(
        "staging",
        mutate=lambda c: c.update({"fleet:kubernetesVersion": version}),
        running=running,
        registrations_on_error=registered,
    )


def test_a_deploy_never_asks_eks_to_move_a_running_control_plane_back() -> None:
    # Review of #34: EKS upgraded staging-us to 1.35 at the end of standard support; the stack still says
    # 1.34, so a refreshed `pulumi up` would send UpdateClusterVersion(1.34): refused after EKS's
    # automatic upgrade, a rollback without its nodes and add-ons otherwise.
    from components.config.errors import ConfigError

    registered: list[str] = []
    with pytest.raises(ConfigError) as raised:
        _staging_with("1.34", {"staging-us": "1.35"}, registered)
    (problem,) = raised.value.problems
    assert problem.startswith("fleet:kubernetesVersion: staging-us runs Kubernetes 1.35 (EKS upgraded it")
    assert "would ask EKS to roll its control plane back to 1.34" in problem
    assert "Set fleet:clusters[0].kubernetesVersion: 1.35" in problem
    assert "python -m deploy upgrade --stack staging --to 1.35" in problem
    # Refused before any cloud resource: only the providers the lookups need exist.
    assert all(name.startswith("aws-") for name in registered), registered


def test_a_deploy_moves_a_running_control_plane_one_minor_at_most() -> None:
    from components.config.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        _staging_with("1.35", {"staging-us": "1.33"})
    assert "staging-us runs Kubernetes 1.33; EKS moves a control plane one minor per update, not to 1.35" in str(raised.value)


def test_a_cluster_the_deployer_cannot_describe_is_named() -> None:
    from components.config.errors import ConfigError
    from offline.harness import run_stack

    denied = "AccessDeniedException: User is not authorized to perform: eks:DescribeCluster"
    with pytest.raises(ConfigError) as raised:
        run_stack("staging", describe_errors={"staging-us": denied})
    (problem,) = raised.value.problems
    assert problem.startswith("fleet:clusters[0]: cannot describe staging-us in us-west-2 (eks:DescribeCluster")
    assert "AccessDeniedException" in problem


@pytest.mark.parametrize("running", ["1.34", "1.35"])
def test_the_running_minor_or_the_one_below_deploys(running: str) -> None:
    # The campaign's hop (config one above what runs) and a steady state both deploy.
    assert _staging_with("1.35", {"staging-us": running}) is not None
