"""python -m plan: the offline plan of a stack, as text, JSON and a Mermaid diagram."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import plan.__main__ as plan_main
from components.aws import eks_releases
from offline import stacks
from offline.harness import run_stack
from plan.__main__ import main


def test_text_plan_of_prod(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Stack fleet: 3 clusters, ")
    assert "  prod-us  us-east-1  member  EKS 1.35  vpc 10.20.0.0/16  services 172.21.0.0/16" in out
    assert "    gpu: g6.xlarge, g5.xlarge (AL2023_x86_64_NVIDIA) 0/0/4 min/desired/max" in out
    assert "  api.example.com  weighted  -> prod-eu=30, prod-us=70  (health-checked)" in out
    assert "Submariner clusterset (broker mgmt, libreswan)" in out
    assert "myapp-prod-eu (apps/myapp/overlays/production-eu), myapp-prod-us (apps/myapp/overlays/production-us)" in out
    assert "aws:ec2/vpc:Vpc" in out
    assert "Cross-cluster flows (14, each has a path)" in out
    assert "  argocd-api  mgmt -> prod-us  tcp/443 (internet): 3 egress addresses in prod-us's publicAccessCidrs" in out
    assert "Preflight: pass" in out
    assert "  quota us-east-1 elasticIps: needs 18 of 20 (declared)" in out


def test_json_plan_is_complete_and_has_no_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert set(plan["clusters"]) == {"mgmt", "prod-us", "prod-eu"}
    # One group per zone (on-demand, non-GPU): each zone's share rounded up, so 4 becomes 2+2+2.
    assert plan["clusters"]["mgmt"]["nodeGroups"]["system"] == {
        "instanceTypes": ["m7g.large"],
        "amiType": "AL2023_ARM_64_STANDARD",
        "releaseVersion": eks_releases.RELEASES[plan["clusters"]["mgmt"]["version"]].node_release,
        "updateConfig": {"maxUnavailable": 1},
        "min": 3,
        "desired": 3,
        "max": 6,
        "labels": {"fleet/node-group": "system", "workload": "system"},
        "taints": [],
        "zones": ["use1-az1", "use1-az2", "use1-az4"],
    }
    assert plan["dns"]["api.example.com"]["routing"] == "weighted"
    assert set(plan["clusterset"]["members"]) == {"mgmt", "prod-us", "prod-eu"}
    assert [a["name"] for a in plan["argocd"]["applicationSets"]["myapp"]["applications"]] == ["myapp-prod-eu", "myapp-prod-us"]
    assert plan["resources"]["byType"]["aws:ec2/vpc:Vpc"] == 3
    assert plan["resources"]["total"] == sum(plan["resources"]["byType"].values())
    text = json.dumps(plan)
    assert "kubeconfig" not in text.lower()
    assert "psk" not in text.lower()


def test_diagram_shows_regions_hub_spokes_clusterset_and_dns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diagram = tmp_path / "fleet.mmd"
    assert main(["fleet", "--diagram", str(diagram)]) == 0
    text = diagram.read_text()
    assert text.startswith("flowchart LR\n")
    assert '  subgraph n_eu_west_1["eu-west-1"]' in text
    assert '    n_mgmt{{"mgmt (hub, Submariner broker)"}}' in text
    assert "  n_mgmt -->|Argo CD| n_prod_us" in text
    # Tunnels are a full mesh between members, not a star to the broker.
    assert {"  n_mgmt -.- n_prod_eu", "  n_mgmt -.- n_prod_us", "  n_prod_eu -.- n_prod_us"} <= set(text.splitlines())
    assert "libreswan, no Globalnet, tunnels between all members" in text
    assert "  n_api_example_com -->|prod-us=70| n_prod_us" in text


def test_a_stack_joining_a_hub_is_planned_with_placeholders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diagram = tmp_path / "staging.mmd"
    assert main(["staging", "--diagram", str(diagram)]) == 0
    assert "Argo CD (hub organization/fleet/mgmt)" in capsys.readouterr().out
    assert "n_organization_fleet_mgmt -->|Argo CD| n_staging_us" in diagram.read_text()


@pytest.fixture
def broken_stack() -> Iterator[str]:
    name = "plan-test-broken"
    path = stacks.STACK_DIR / f"Pulumi.{name}.yaml"
    path.write_text(stacks.stack_path("fleet").read_text().replace("vpcCidr: 10.30.0.0/16", "vpcCidr: 10.20.0.0/16"))
    try:
        yield name
    finally:
        path.unlink()


def test_bad_config_prints_the_problems_and_exits_non_zero(broken_stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([broken_stack]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "fleet:clusters[2].vpcCidr: 10.20.0.0/16 overlaps fleet:clusters[1].vpcCidr" in captured.err


def test_unknown_stack_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope"]) == 1
    assert "no Pulumi.nope.yaml" in capsys.readouterr().err


def test_a_failing_guardrail_is_shown_and_fails_the_plan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    unprotected = run_stack("prod", mutate=lambda config: config.update({"fleet:protect": False}))
    monkeypatch.setattr(plan_main, "run_stack", lambda stack, **kw: unprotected if stack == "prod" else run_stack(stack, **kw))
    assert main(["prod"]) == 1
    out = capsys.readouterr().out
    assert "Policy pack: 17 guardrails, 1 failing" in out
    assert "  [mandatory] prod-clusters-protected: EKS cluster prod-eu-eks: stack prod requires protect: true on clusters " in out


def test_the_prod_plan_passes_the_policy_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"]["no-open-ingress"] == []


def test_all_three_stacks_are_planned_each_on_the_others_planned_outputs(
    reference_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The deploy order's rounds, offline: mgmt, prod and staging on mgmt's planned outputs, mgmt on theirs.
    import shutil

    import yaml

    from components.config import hub_stack
    from tests.config_cases import members_registered

    for path in reference_project.iterdir():
        shutil.copy(path, tmp_path / path.name)
    mgmt = yaml.safe_load((tmp_path / "Pulumi.mgmt.yaml").read_text())
    members_registered(mgmt["config"])
    (tmp_path / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(mgmt))
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)
    assert main(["--all", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["order"] == ["mgmt", "prod", "staging"]
    plans = document["stacks"]
    registered = plans["mgmt"]["argocd"]["registeredClusters"]
    assert set(registered) == {"mgmt", "prod-us", "prod-eu", "staging-us"}
    # Each member's planned endpoint, in its own region, not a placeholder.
    assert registered["prod-eu"]["server"].endswith(".eu-west-1.eks.amazonaws.com")
    assert registered["staging-us"]["server"].endswith(".us-west-2.eks.amazonaws.com")
    for stack in ("mgmt", "prod", "staging"):
        assert plans[stack]["preflight"]["verdict"] == "pass"
        assert all(f["path"] is not None for f in plans[stack]["flows"]), stack
    # Prod's and staging's Argo CD flows come from mgmt's stack; prod's clusterset stays in prod.
    argocd = {(f["source"], f["destination"]) for f in plans["prod"]["flows"] if f["kind"] == "argocd-api"}
    assert argocd == {("hub-stack:organization/fleet/mgmt", "prod-us"), ("hub-stack:organization/fleet/mgmt", "prod-eu")}
    assert not [f for f in plans["mgmt"]["flows"] if f["kind"] in ("broker-api", "gateway-tunnel")]


def test_all_takes_no_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prod", "--all"]) == 1
    assert "--all plans every stack" in capsys.readouterr().err
    assert main([]) == 1
    assert "a stack, or --all" in capsys.readouterr().err


def test_all_names_a_broken_stack_file_where_it_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_text("config:\n  fleet:clusters: [a, b\n")
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)
    assert main(["--all"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"python -m plan --all: {tmp_path / 'Pulumi.bad.yaml'}:2:19: the [ opened here is never closed")
    assert "Traceback" not in err
