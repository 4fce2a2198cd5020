"""Capacity after a failure (components/planning/capacity.py), the fleet:dns.survive preflight rule,
and python -m plan --what-if."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.aws import ec2_sizes
from components.planning import capacity, preflight
from components.planning.checks import load_fleet
from tests.config_cases import raw_prod


@pytest.mark.parametrize(
    ("instance_type", "vcpu", "memory"),
    [
        ("m7i.xlarge", 4, 16.0),
        ("c6i.large", 2, 4.0),
        ("r7g.2xlarge", 8, 64.0),
        ("g6.xlarge", 4, 16.0),
        # What a ratio of names got wrong: a medium burstable has 2 vCPUs, a metal size has a size.
        ("t3.medium", 2, 4.0),
        ("m7i.metal-24xl", 96, 384.0),
        ("p5.48xlarge", 192, 2048.0),
        ("m99.xlarge", None, None),
    ],
)
def test_sizes_are_what_ec2_describes(instance_type: str, vcpu: int | None, memory: float | None) -> None:
    assert ec2_sizes.vcpus(instance_type) == vcpu
    assert ec2_sizes.memory_gib(instance_type) == memory


# What an m7i.xlarge (4 vCPU, 16 GiB, 58 pods) allocates on the EKS AMI: 4000m - (60 + 10 + 10)m,
# and 16384 - (11 x 58 + 255) - 100 MiB (components/aws/ec2_sizes.py, nodeadm's formulas).
NODE = capacity.Resources(3.92, 15391 / 1024)


def test_an_eks_node_allocates_less_than_its_size() -> None:
    assert ec2_sizes.max_pods("m7i.xlarge") == 58  # amazon-eks-ami eni-max-pods.txt
    assert ec2_sizes.max_pods("t3.medium") == 17
    assert ec2_sizes.allocatable("m7i.xlarge") == (NODE.vcpu, NODE.memory_gib)


def test_the_survivor_carries_a_region_failure_in_prod() -> None:
    spec = load_fleet(raw_prod())
    found = capacity.verdict(spec, {"prod-us", "mgmt"})
    assert found.carries
    assert found.load[("prod-eu", "amd64")] == capacity.Resources(72.0, 144.0)
    # Only general counts (on-demand, untainted, amd64): 21 nodes at what each allocates. The Spot ARM
    # group and the tainted GPU group do not (issue 36, defect 6: they were half of the 96 vCPU claimed).
    assert found.capacity[("prod-eu", "amd64")] == NODE.scaled(21)
    # What runs now (desiredSize 3) is far below: the autoscaler must add the rest.
    assert found.now[("prod-eu", "amd64")] == NODE.scaled(3)
    assert found.as_dict()["carriesNow"] is False


def test_spot_and_tainted_groups_do_not_carry() -> None:
    # Defect 6: a what-if against a cluster whose on-demand capacity is small and whose rest is Spot or
    # tainted GPU says it does not carry.
    raw = raw_prod()
    for cluster in raw["clusters"][1:]:
        cluster["nodeGroups"][0]["maxSize"] = 6
        cluster["nodeGroups"][1]["maxSize"] = 60  # Spot ARM
    found = capacity.verdict(load_fleet(raw), {"prod-us", "mgmt"})
    assert not found.carries
    assert found.capacity[("prod-eu", "amd64")] == NODE.scaled(6)


def test_capacity_stays_within_the_declared_vcpu_quota() -> None:
    raw = raw_prod()
    raw["quotas"] = {"regions": {"eu-west-1": {"onDemandVcpus": {"Standard": 54}}}}
    found = capacity.verdict(load_fleet(raw), {"prod-us", "mgmt"})
    key = ("prod-eu", "amd64")
    assert found.quota_share[key] < 1.0
    assert not found.carries
    assert "quotaShare" in found.as_dict()["clusters"]["prod-eu"]  # type: ignore[index]


def test_a_zone_outage_takes_the_zones_share_of_capacity() -> None:
    spec = load_fleet(raw_prod())
    found = capacity.verdict(spec, set(), {"prod-eu": 1})
    assert found.capacity[("prod-eu", "amd64")] == NODE.scaled(21 * 2 / 3)


def one_node_short(raw: dict[str, Any]) -> None:
    # prod-eu alone allocates 82.32 vCPU; 72 vCPU of demand move there, so 82.32 - 72 + 0.01 more make it short.
    raw["dns"]["records"][0]["demand"] = {"vcpu": 58.33, "memoryGib": 96}


def test_the_preflight_refuses_a_fleet_one_node_short_of_surviving_a_region() -> None:
    raw = raw_prod()
    one_node_short(raw)
    errors = [e for e in preflight.run(load_fleet(raw)).errors if e.startswith("fleet:dns.survive")]
    assert len(errors) == 2
    assert errors[1].startswith(
        "fleet:dns.survive: with us-east-1 down, prod-eu must carry 82.33 vCPU and 144 GiB of amd64 pods but its "
        "on-demand, untainted amd64 nodes allocate 82.32 vCPU"
    )
    assert "fix: raise maxSize of such a group (or add one) there" in errors[1]
    for cluster in raw["clusters"][1:]:
        cluster["nodeGroups"][0]["maxSize"] = 22  # one more node each
    assert not [e for e in preflight.run(load_fleet(raw)).errors if e.startswith("fleet:dns.survive")]
    raw["dns"]["survive"] = 0
    one_node_short(raw)
    for cluster in raw["clusters"][1:]:
        cluster["nodeGroups"][0]["maxSize"] = 21
    assert not [e for e in preflight.run(load_fleet(raw)).errors if e.startswith("fleet:dns.survive")]


def test_surviving_every_serving_region_is_refused() -> None:
    raw = raw_prod()
    raw["dns"]["survive"] = 2
    assert "fleet:dns.survive: 2 region(s) may fail, but the names are served from 2" in " ".join(
        preflight.run(load_fleet(raw)).errors
    )


def test_what_if_prints_answers_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    from plan.__main__ import main

    # Exit 1: half of shop.example.com's clients get no answer, whatever the capacity.
    assert main(["fleet", "--what-if", "region:us-east-1:down", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["down"] == ["mgmt", "prod-us"]
    assert found["answers"]["api.example.com"] == {
        "before": [{"cluster": "prod-eu", "share": 0.3}, {"cluster": "prod-us", "share": 0.7}],
        "after": [{"cluster": "prod-eu", "share": 1.0}],
    }
    # The geolocation default is in the failed region: its clients get no answer.
    assert found["answers"]["shop.example.com"]["after"] == [{"cluster": "prod-eu", "share": 0.5}]
    assert found["unanswered"] == {"shop.example.com": 0.5}
    assert found["capacity"]["carries"] is True
    assert [s["service"] for s in found["alsoDown"]] == ["Argo CD hub", "Submariner broker"]
    assert found["latencyUnmeasured"] == {}
    assert main(["fleet", "--what-if", "nowhere:down"]) == 1
    assert "no cluster, region or zone by that name" in capsys.readouterr().err


def test_demand_from_an_application_set_sums_its_overlays() -> None:
    from components.config.dns import parse_record
    from offline import overlay_demand

    raw = raw_prod()
    raw["dns"]["records"][1]["demandFrom"] = "myapp"  # app.example.com
    spec = load_fleet(raw)
    found = overlay_demand.measured_demands(spec, "prod")
    # production-us: 6 x (500m, 512Mi); production-eu: 3 x (250m, 256Mi) in the template overlays.
    assert found == {"app.example.com": capacity.Resources(3.75, 3.75)}
    prod_us_down = capacity.verdict(spec, {"prod-us", "mgmt"}, measured=found)
    assert prod_us_down.load[("prod-eu", "amd64")] == capacity.Resources(75.75, 147.75)
    assert overlay_demand.quantity("1500m") == 1.5
    assert overlay_demand.quantity("2Gi") == 2 * 2**30
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        overlay_demand.quantity("lots")
    with pytest.raises(Exception, match="set demand or demandFrom, not both"):
        parse_record(
            {
                "name": "x.example.com",
                "routing": "latency",
                "clusters": ["a"],
                "demand": {"vcpu": 1, "memoryGib": 1},
                "demandFrom": "myapp",
            }
        )


def test_two_failures_at_once_and_an_arc_control_off(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    # Issue 36, defect 9: the what-if took one failure; an incident can take a region and a cluster.
    from plan.__main__ import main

    assert main(["fleet", "--what-if", "region:us-east-1:down,prod-eu:down", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["down"] == ["mgmt", "prod-eu", "prod-us"]
    # Every record set unhealthy: Route 53 fails open and answers as if all were healthy.
    assert found["answers"]["api.example.com"]["after"] == found["answers"]["api.example.com"]["before"]
    # With ARC, a routing control turned Off takes its cluster's records out exactly as a failure does.
    assert main(["fleet", "--what-if", "arc:prod-us:off"]) == 1
    assert "fleet:dns.arc is not on" in capsys.readouterr().err


def test_an_arc_control_off_moves_the_load_like_a_failure_without_losing_the_cluster() -> None:
    raw = raw_prod()
    raw["dns"]["arc"] = True
    spec = load_fleet(raw)
    off = capacity.verdict(spec, set(), switched_off=frozenset({"prod-us"}))
    failed = capacity.verdict(spec, {"prod-us"})
    assert off.load == failed.load
    assert not off.dead
    # prod-us and prod-eu both off: Route 53 fails open onto clusters that still run (no dead load).
    both = capacity.verdict(spec, set(), switched_off=frozenset({"prod-us", "prod-eu"}))
    assert not both.dead
    assert capacity.verdict(spec, {"prod-us", "prod-eu"}).dead


def test_a_zone_named_twice_counts_once_and_every_zone_lost_is_a_cluster_down(capsys: pytest.CaptureFixture[str]) -> None:
    from plan.__main__ import main

    main(["fleet", "--what-if", "zone:euw1-az1:down,zone:euw1-az1:down", "--json"])
    assert json.loads(capsys.readouterr().out)["zonesLost"] == {"prod-eu": 1}
    main(["fleet", "--what-if", "zone:euw1-az1:down,zone:euw1-az2:down,zone:euw1-az3:down", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert "prod-eu" in found["down"]
    assert found["answers"]["app.example.com"]["after"] == [{"cluster": "prod-us", "share": 1.0}]


def test_the_scale_up_bound_is_the_pinned_autoscalers_default() -> None:
    # The defaults are cluster-autoscaler's (its FAQ's parameter table); the pinned chart's values.yaml
    # shows them as extraArgs examples, and the fleet overrides neither.
    from components.planning import autoscaling
    from offline import charts
    from tests.reference import PINNED

    text = (charts.chart_dir(*PINNED["cluster-autoscaler"]) / "values.yaml").read_text()
    assert f"# max-node-provision-time: {autoscaling.MAX_NODE_PROVISION_MINUTES}m0s" in text
    assert f"# scan-interval: {autoscaling.SCAN_INTERVAL_SECONDS}s" in text
    extra_args = autoscaling.autoscaler_values("c", "us-east-1", "arn", "1.35")["extraArgs"]
    assert "max-node-provision-time" not in extra_args
    assert "scan-interval" not in extra_args


def test_a_state_the_safety_rule_refuses_is_said() -> None:
    from components.planning import dns_answers

    raw = raw_prod()
    raw["dns"]["arc"] = True
    spec = load_fleet(raw)
    assert dns_answers.arc_refuses(spec, {"prod-us"}) is None
    # Both controls Off leaves none On: ARC refuses it; it is not Route 53's fail-open.
    refused = dns_answers.arc_refuses(spec, {"prod-us", "prod-eu"})
    assert refused is not None
    assert refused.startswith("ARC refuses it: its safety rule keeps at least 1 routing control(s) On")


def test_the_what_if_command_models_arc_controls_and_says_what_arc_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 36 defect 4, through the command: prod with fleet:dns.arc, one control Off moves its load
    # like a failure (the cluster keeps running); both Off is a state ARC's safety rule refuses.
    import shutil

    import yaml

    from components.config import hub_stack
    from offline import stacks
    from plan.__main__ import main
    from tests.reference_stacks import reference_project

    for path in reference_project().iterdir():
        shutil.copy(path, tmp_path / path.name)
    prod = yaml.safe_load((tmp_path / "Pulumi.prod.yaml").read_text())
    prod["config"]["fleet:dns"]["arc"] = True
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump(prod))
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)
    main(["prod", "--what-if", "arc:prod-us:off", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert found["arcOff"] == ["prod-us"]
    assert found["down"] == []
    assert found["answers"]["api.example.com"]["after"] == [{"cluster": "prod-eu", "share": 1.0}]
    assert main(["prod", "--what-if", "arc:prod-us:off,arc:prod-eu:off"]) == 1
    assert "ARC refuses it: its safety rule keeps at least 1 routing control(s) On" in capsys.readouterr().err
