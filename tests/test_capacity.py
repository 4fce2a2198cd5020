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


def test_the_survivor_carries_a_region_failure_in_prod() -> None:
    spec = load_fleet(raw_prod())
    found = capacity.verdict(spec, {"prod-us", "mgmt"})
    assert found.carries
    assert found.load["prod-eu"] == capacity.Resources(72.0, 144.0)
    # general + arm at maxSize 12 each, 4 vCPU / 16 GiB per node; the GPU group does not count.
    assert found.capacity["prod-eu"] == capacity.Resources(96.0, 384.0)


def test_a_zone_outage_takes_the_zones_share_of_capacity() -> None:
    spec = load_fleet(raw_prod())
    found = capacity.verdict(spec, set(), {"prod-eu": 1})
    assert found.capacity["prod-eu"] == capacity.Resources(64.0, 256.0)


def one_node_short(raw: dict[str, Any]) -> None:
    # prod-eu alone reaches 96 vCPU; 72 vCPU of demand move there, so 28 more make it one 4-vCPU node short.
    raw["dns"]["records"][0]["demand"] = {"vcpu": 76, "memoryGib": 96}


def test_the_preflight_refuses_a_fleet_one_node_short_of_surviving_a_region() -> None:
    raw = raw_prod()
    one_node_short(raw)
    errors = [e for e in preflight.run(load_fleet(raw)).errors if e.startswith("fleet:dns.survive")]
    assert errors == [
        "fleet:dns.survive: with eu-west-1 down, prod-us must carry 100 vCPU and 144 GiB but its node groups reach "
        "96 vCPU and 384 GiB at maxSize; short by 4 vCPU and 0 GiB; fix: raise maxSize (or add a group) there",
        "fleet:dns.survive: with us-east-1 down, prod-eu must carry 100 vCPU and 144 GiB but its node groups reach "
        "96 vCPU and 384 GiB at maxSize; short by 4 vCPU and 0 GiB; fix: raise maxSize (or add a group) there",
    ]
    for cluster in raw["clusters"][1:]:
        cluster["nodeGroups"][0]["maxSize"] = 13  # one more node each
    assert not [e for e in preflight.run(load_fleet(raw)).errors if e.startswith("fleet:dns.survive")]
    raw["dns"]["survive"] = 0
    one_node_short(raw)
    for cluster in raw["clusters"][1:]:
        cluster["nodeGroups"][0]["maxSize"] = 12
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
    assert prod_us_down.load["prod-eu"] == capacity.Resources(75.75, 147.75)
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
