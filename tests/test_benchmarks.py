"""The benchmark's parts: generated fleets are valid configs, and the critical path is computed right."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from benchmarks.fleets import generated_fleet
from components.planning import preflight
from components.planning.checks import load_fleet
from offline.critical_path import (
    CREATE_MINUTES,
    OTHER_MINUTES,
    bound_minutes,
    critical_path,
    enough_parallel,
    simulated_minutes,
    snapshot_writes,
    total_create_minutes,
)
from offline.harness import ROOT, Registration, Run, run_program


@pytest.mark.parametrize("size", [1, 3])
def test_generated_fleets_are_valid_configs(size: int) -> None:
    spec = load_fleet({key.removeprefix("fleet:"): value for key, value in generated_fleet(size).items()})
    assert len(spec.clusters) == size
    assert spec.hub is not None
    assert bool(spec.submariner and spec.submariner.enabled) is (size >= 2)


@pytest.mark.parametrize("size", [10, 30])
def test_large_fleets_pass_preflight_over_the_peering_and_are_refused_over_public_endpoints(size: int) -> None:
    def spec(mode: str | None) -> Any:
        return load_fleet({key.removeprefix("fleet:"): value for key, value in generated_fleet(size, mode).items()})

    assert spec(None).interconnect_mode.value == "peering"
    assert preflight.run(spec(None)).errors == []
    # Every member's NAT and gateway addresses on the broker's allow list: EKS takes 40 entries.
    errors = preflight.run(spec("none")).errors
    assert len(errors) == 1
    assert errors[0].startswith(f"hub public API endpoint: needs {1 + (size - 1) * 9} publicAccessCidrs")


def test_fleet_sizes_are_bounded() -> None:
    with pytest.raises(ValueError, match="between 1 and 100"):
        generated_fleet(101)


def registration(name: str, type_token: str, depends: Sequence[str] = (), parent: str = "", custom: bool = True) -> Registration:
    return Registration(
        urn=f"urn:{name}",
        id="",
        type=type_token,
        name=name,
        custom=custom,
        remote=False,
        parent=parent,
        protect=False,
        provider="",
        providers={},
        dependencies=[f"urn:{d}" for d in depends],
        property_dependencies={},
        inputs={},
        secret_inputs=set(),
    )


def test_longest_chain_through_components() -> None:
    # Two clusters in parallel; a release waits on a component (so on everything inside it).
    registrations = [
        registration("vpc", "aws:ec2/vpc:Vpc"),
        registration("a-eks", "eks:index:Cluster", ["vpc"], custom=False),
        registration("b-eks", "eks:index:Cluster", ["vpc"], custom=False),
        registration("a-nodes", "eks:index:ManagedNodeGroup", ["a-eks"], custom=False),
        registration("edge", "fleet:index:RegionalEdge", custom=False),
        registration("nlb", "aws:lb/loadBalancer:LoadBalancer", ["vpc"], parent="urn:edge"),
        registration("release", "kubernetes:helm.sh/v3:Release", ["a-nodes", "edge"]),
        registration("record", "aws:route53/record:Record", ["nlb"]),
    ]
    path = critical_path(Run({r.urn: r for r in registrations}, {}, set(), []))
    assert [step.name for step in path.steps] == ["vpc", "a-eks", "a-nodes", "release"]
    assert path.minutes == pytest.approx(OTHER_MINUTES + 10 + 4 + 2)
    assert path.count("eks:index:Cluster") == 1
    assert CREATE_MINUTES["aws:lb/loadBalancer:LoadBalancer"] == 3


def test_a_stack_is_bounded_by_its_total_create_time_over_the_engines_parallelism() -> None:
    # Issue 37: pulumi up runs 8 steps at once on 2 vCPUs; two 10-minute clusters with nothing between
    # them take 10 minutes unbounded, but twenty of them take 25 at 8 steps.
    registrations = [registration(f"c{i}-eks", "eks:index:Cluster", custom=False) for i in range(20)]
    run = Run({r.urn: r for r in registrations}, {}, set(), [])
    assert critical_path(run).minutes == 10
    assert total_create_minutes(run) == 200
    assert bound_minutes(run, 8) == 25
    assert bound_minutes(run, 64) == 10
    assert snapshot_writes(run) == 40
    # Simulated in slots: twenty 10-minute creates at 8 at once take three rounds; at 20, one.
    assert simulated_minutes(run, 8) == 30
    assert simulated_minutes(run, 20) == 10
    assert enough_parallel(run, 8) == 32


def test_the_simulation_keeps_dependencies_and_registration_order() -> None:
    # A chain a -> b beside two independent creates, at one and two slots: the chain's second step waits
    # for the first, and ties go to the earlier registration.
    registrations = [
        registration("a", "eks:index:Cluster", custom=False),
        registration("b", "eks:index:ManagedNodeGroup", ["a"], custom=False),
        registration("c", "aws:ec2/natGateway:NatGateway"),
        registration("d", "aws:ec2/natGateway:NatGateway"),
    ]
    run = Run({r.urn: r for r in registrations}, {}, set(), [])
    assert critical_path(run).minutes == 14
    assert simulated_minutes(run, 1) == 18
    assert simulated_minutes(run, 2) == 14
    assert enough_parallel(run, 1) == 2


def test_a_serialized_region_shows_on_the_path() -> None:
    registrations = [
        registration("a-eks", "eks:index:Cluster", custom=False),
        registration("b-eks", "eks:index:Cluster", ["a-eks"], custom=False),
    ]
    path = critical_path(Run({r.urn: r for r in registrations}, {}, set(), []))
    assert path.count("eks:index:Cluster") == 2
    assert path.minutes == 20


def test_a_fleet_deploys_in_about_the_time_of_one_cluster(fleet: Run, prod: Run) -> None:
    single = critical_path(run_program(generated_fleet(1)))
    path = critical_path(fleet)
    assert path.count("eks:index:Cluster") == 1, [step.name for step in path.steps]
    # The shipped prod stack too: its regions deploy side by side.
    shipped = critical_path(prod)
    assert shipped.count("eks:index:Cluster") == 1, [step.name for step in shipped.steps]
    # The clusterset join (broker chart, then the member's operator) is the only wait beyond one cluster's.
    assert path.minutes <= single.minutes + CREATE_MINUTES["kubernetes:helm.sh/v3:Release"] * 1.5
    # The cluster, its nodes, then EKS Pod Identity's agent and the EBS CSI add-on that waits for it (a change
    # of the add-on's associations restarts its pods, which must find the agent running).
    assert [step.name for step in single.steps if step.minutes >= 1] == [
        "hub-eks",
        "hub-system-use1-az1",
        "hub-addons-pod-identity-agent",
        "hub-addons-ebs-csi",
    ]


@pytest.mark.slow  # it runs the benchmark command (12 s on an idle 2-vCPU machine, 101 s seen on a loaded one)
def test_the_benchmark_command_reports_a_table() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--sizes", "3", "--repeat", "1", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(result.stdout)
    assert [row["clusters"] for row in rows] == [1, 3]
    assert rows[0]["vsSingleCluster"] == 1.0
    assert rows[1]["clustersOnPath"] == 1
    assert all(row["peakRssMiB"] > row["baselineRssMiB"] > 0 for row in rows)
    assert all(row["resources"] > 0 and row["seconds"] > 0 for row in rows)
    assert all(row["vsFloor"] > 0 for row in rows)
    # Typed SDK classes declare every property of their type, each an Output; the floor's plain
    # registrations declare only their inputs.
    assert all(row["outputs"] > 2 * row["floorOutputs"] > 0 for row in rows)


def test_a_refused_size_is_reported_not_measured() -> None:
    from benchmarks.__main__ import markdown

    rows = [
        {
            "clusters": 1,
            "resources": 72,
            "perCluster": 72,
            "seconds": 0.9,
            "vsFloor": 1.9,
            "peakRssMiB": 147,
            "criticalPathMinutes": 16.6,
            "vsSingleCluster": 1.0,
            "totalCreateMinutes": 52.1,
            "boundAt8Minutes": 16.6,
            "diySnapshotWrites": 168,
            "clustersOnPath": 1,
            "path": ["hub-eks"],
        },
        {
            "clusters": 30,
            "interconnect": "none",
            "preflight": "fail",
            "largestAllowList": {"cluster": "hub", "entries": 262},
            "largestSecurityGroup": {"name": "hub gateway group 3", "rules": 60},
            "quotasToRaise": ["us-east-1 elasticIps 99 (default 5)"],
            "refused": ["hub public API endpoint: needs 262 publicAccessCidrs; limit 40; fix: peering"],
        },
    ]
    table = markdown(rows)
    assert (
        "| 30 | none | fail | 262/40 (hub) | 60/60 (hub gateway group 3) | 1 "
        "| refused before deploy: hub public API endpoint: needs 262 publicAccessCidrs; limit 40 |"
    ) in table
    assert "Quotas to raise for 30 clusters: us-east-1 elasticIps 99 (default 5)." in table
    assert "Critical path of the 1-cluster fleet" in table


def test_the_floor_registers_the_programs_graph_and_nothing_else() -> None:
    from benchmarks.floor import replay

    config = generated_fleet(3)
    run = run_program(config)
    floor = run_program(config, entry=replay(run))
    assert sorted(floor.registrations) == sorted(run.registrations)
    assert all(floor.registrations[urn].inputs == r.inputs for urn, r in run.registrations.items() if r.custom)


@pytest.mark.slow
def test_a_forty_cluster_celled_fleet_reaches_the_cells_numbers() -> None:
    """Issue 37's numbers for a 40-cluster fleet with fleet:cells (a benchmark's figures, not a timing)."""
    from benchmarks import cells as bench

    found = bench.measure_cells(40)
    table = found["stacksTable"]
    clusters = [r["stack"].split(".", 1)[1] for r in table]
    assert sorted(clusters) == sorted(c["name"] for c in bench.generated_cells(40)["fleet:clusters"])  # one stack each
    assert found["stacks"] == 40
    assert max(r["resources"] for r in table) <= 300
    assert found["hubResources"] <= 300
    for row in table:
        assert row["totalOver8Minutes"] <= 1.5 * row["criticalPathMinutes"], row
    one_cell = min(r["criticalPathMinutes"] for r in table)
    assert found["fleetBoundMinutes"] <= 1.5 * one_cell, found["roundMinutes"]
    # What one more cluster adds to the largest stack (a cell) and to the hub stack that registers them all.
    # (per added cluster, measured from 10 to 11: the cells do not grow at all, the hub by a registration)
    ten, eleven = bench.measure_cells(10), bench.measure_cells(11)
    assert eleven["largestStack"]["resources"] - ten["largestStack"]["resources"] <= 3
    assert found["largestStack"]["resources"] == ten["largestStack"]["resources"]
    assert eleven["hubResources"] - ten["hubResources"] <= 3
    assert (found["hubResources"] - ten["hubResources"]) / 30 <= 3
