"""Node groups per zone (NodeGroupSpec.per_zone): stateful workloads' zonal EBS volumes always have a
group to scale up in their zone, and the autoscaler balances the zones' groups."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from components.config.model import NodeGroupSpec
from components.planning.autoscaling import NODE_GROUP_LABEL, registered_sizes
from offline.harness import Run, run_stack


def group(**fields: object) -> NodeGroupSpec:
    return NodeGroupSpec.model_validate(
        {"name": "g", "instanceTypes": ["m7i.large"], "minSize": 0, "maxSize": 3, "desiredSize": 1, **fields}
    )


def test_the_default_is_per_zone_for_on_demand_cpu_groups_only() -> None:
    assert group().zonal
    assert not group(capacityType="SPOT").zonal
    assert not group(instanceTypes=["g6.xlarge"]).zonal
    assert not group(perZone=False).zonal
    assert group(capacityType="SPOT", perZone=True).zonal


@given(st.integers(0, 50), st.integers(0, 50), st.integers(1, 50), st.integers(1, 6))
def test_the_zones_together_reach_at_least_the_configured_sizes(low: int, extra: int, top: int, zones: int) -> None:
    minimum, desired, maximum = low, low + extra, max(low + extra, top)
    sizes = registered_sizes(group(minSize=minimum, desiredSize=desired, maxSize=maximum), zones)
    assert minimum <= sizes.min_size * zones < minimum + zones
    assert desired <= sizes.desired_size * zones < desired + zones
    assert maximum <= sizes.max_size * zones < maximum + zones
    assert sizes.min_size <= sizes.desired_size <= sizes.max_size


def test_each_zone_group_runs_in_its_own_zones_subnet_with_the_same_labels(fleet: Run) -> None:
    private = {
        r.id: r.inputs["availabilityZoneId"] for r in fleet.of_type("aws:ec2/subnet:Subnet") if "-network-private-" in r.name
    }
    general = [r for r in fleet.of_type("eks:index:ManagedNodeGroup") if r.name.startswith("prod-us-general-")]
    assert len(general) == 3
    zones = [private[r.inputs["subnetIds"][0]] for r in general]
    assert all(len(r.inputs["subnetIds"]) == 1 for r in general)
    assert sorted(zones) == sorted({*zones})
    assert [r.name.removeprefix("prod-us-general-") for r in general] == zones
    assert {r.inputs["labels"][NODE_GROUP_LABEL] for r in general} == {"general"}
    assert len({str(r.inputs["labels"]) for r in general}) == 1
    assert len({r.inputs["launchTemplate"]["id"] for r in general}) == 1


def test_per_zone_off_keeps_one_group_over_every_zone() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1]["nodeGroups"][0].update(perZone=False))
    (general,) = [r for r in run.of_type("eks:index:ManagedNodeGroup") if r.name.startswith("prod-us-general")]
    assert general.name == "prod-us-general"
    assert len(general.inputs["subnetIds"]) == 3


def test_turning_per_zone_on_for_a_running_group_is_a_clean_transition(fleet: Run) -> None:
    from offline.transition import transition

    single = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][2]["nodeGroups"][0].update(perZone=False))
    moved = transition(single, fleet)
    assert moved.violations == [], [v.message for v in moved.violations]
    assert sorted((c.action, c.name) for c in moved.changes if c.type == "eks:index:ManagedNodeGroup") == [
        ("create", "prod-eu-general-euw1-az1"),
        ("create", "prod-eu-general-euw1-az2"),
        ("create", "prod-eu-general-euw1-az3"),
        ("delete", "prod-eu-general"),
    ]
    # The zones' groups exist before the single group goes: its pods have somewhere to land.
    kinds = [(s.kind, s.registration.name) for s in moved.steps]
    assert max(kinds.index(("create", f"prod-eu-general-euw1-az{n}")) for n in (1, 2, 3)) < kinds.index(
        ("delete", "prod-eu-general")
    )
