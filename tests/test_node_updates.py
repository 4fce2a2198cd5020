"""How a node group's nodes are replaced (components/aws/eks_node_updates.py): every managed node group
carries an explicit EKS updateConfig, set on the aws NodeGroup that pulumi-eks creates, counted in the
vCPU preflight, and editable on a running fleet without replacing anything."""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from components.aws import eks_node_updates
from components.config.model import NodeGroupSpec
from components.planning import instances
from components.planning.checks import load_fleet
from components.resources import nodes
from offline.harness import Run, run_stack, stack_config
from offline.recording import PACKAGED_CHILD
from offline.transition import transition
from tests.test_node_zones import group


def _node_group_child(registration: Any) -> dict[str, Any]:
    """What the engine runs the component's transforms on: the aws NodeGroup pulumi-eks registers
    from the component's inputs, without the updateConfig pulumi-eks 4.4 cannot pass."""
    props = {k: v for k, v in registration.inputs.items() if k != nodes.UPDATE_CONFIG}
    for transform in registration.transforms:
        result = transform(
            pulumi.ResourceTransformArgs(True, nodes.NODE_GROUP_TYPE, registration.name, props, pulumi.ResourceOptions())
        )
        if result is not None:
            props = dict(result.props)
    return props


def test_the_names_are_the_aws_providers() -> None:
    # Oracle: pulumi-aws's generated SDK maps its Python names to the provider schema's.
    assert aws.eks.NodeGroup.update_config.fget._pulumi_name == nodes.UPDATE_CONFIG  # type: ignore[attr-defined]
    wire = {
        getattr(aws.eks.NodeGroupUpdateConfigArgs, field).fget._pulumi_name
        for field in ("max_unavailable", "max_unavailable_percentage")
    }
    assert (
        set(eks_node_updates.MaxUnavailable(count=2).wire()) | set(eks_node_updates.MaxUnavailable(percentage=20).wire()) == wire
    )
    assert PACKAGED_CHILD["eks:index:ManagedNodeGroup"] == nodes.NODE_GROUP_TYPE


def test_every_node_group_gets_an_explicit_update_config(prod: Run) -> None:
    groups = prod.of_type("eks:index:ManagedNodeGroup")
    assert len(groups) >= 8
    assert any(r.name.endswith("-submariner-gateway") for r in groups)
    for registration in groups:
        child = _node_group_child(registration)
        assert child[nodes.UPDATE_CONFIG] == {"maxUnavailable": 1}, registration.name
        # Everything else of the node group passes through untouched.
        assert {k: v for k, v in child.items() if k != nodes.UPDATE_CONFIG} == {
            k: v for k, v in registration.inputs.items() if k != nodes.UPDATE_CONFIG
        }


def test_the_transform_touches_only_the_node_group(prod: Run) -> None:
    (general, *_) = [r for r in prod.of_type("eks:index:ManagedNodeGroup") if "-general-" in r.name]
    (transform,) = general.transforms
    for other in ("aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/tag:Tag", "eks:index:ManagedNodeGroup"):
        assert transform(pulumi.ResourceTransformArgs(True, other, "x", {"a": 1}, pulumi.ResourceOptions())) is None


def test_a_percentage_is_sent_as_the_percentage_field() -> None:
    run = run_stack("staging", mutate=lambda c: c["fleet:clusters"][0]["nodeGroups"][0].update(maxUnavailable="25%"))
    general = [r for r in run.of_type("eks:index:ManagedNodeGroup") if "-general-" in r.name]
    assert general
    assert all(_node_group_child(r)[nodes.UPDATE_CONFIG] == {"maxUnavailablePercentage": 25} for r in general)


@pytest.mark.parametrize("value", [0, 101, -1, "0%", "101%", "25", "a%", "25 %", 2.5])
def test_a_setting_eks_refuses_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="maxUnavailable"):
        group(maxUnavailable=value)


@pytest.mark.parametrize(("value", "nodes_of_ten"), [(1, 1), (100, 100), ("1%", 1), ("25%", 3), ("100%", 10)])
def test_the_setting_in_nodes(value: object, nodes_of_ten: int) -> None:
    assert group(maxUnavailable=value).update_config.nodes(10) == nodes_of_ten


def test_the_config_path_is_named() -> None:
    from components.config.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        run_stack("staging", mutate=lambda c: c["fleet:clusters"][0]["nodeGroups"][0].update(maxUnavailable=0))
    assert "fleet:clusters[0].nodeGroups[0].maxUnavailable" in str(raised.value)


def test_the_surge_is_the_larger_of_two_per_zone_and_max_unavailable() -> None:
    # EKS user guide, scale up phase: 5 zones and maxUnavailable 1 launch up to 10; maxUnavailable 20, 20.
    assert eks_node_updates.update_surge(5, 1) == 10
    assert eks_node_updates.update_surge(5, 20) == 20


def _general_nodes(max_unavailable: object, per_zone: bool) -> int:
    def edit(config: dict[str, Any]) -> None:
        config["fleet:clusters"][0]["nodeGroups"][0].update(maxUnavailable=max_unavailable, perZone=per_zone, maxSize=30)

    config = copy.deepcopy(stack_config("staging"))
    edit(config)
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in config.items()})
    (counted,) = [g for g in instances.groups(spec) if g.name == "general"]
    assert len(counted.zones) == 2
    return counted.max_nodes


def test_the_vcpu_preflight_counts_the_surge_max_unavailable_makes() -> None:
    assert _general_nodes(1, per_zone=False) == 30 + 4
    assert _general_nodes(20, per_zone=False) == 30 + 20
    assert _general_nodes("50%", per_zone=False) == 30 + 15
    # Per zone: two groups of 15, each updated (and surging) on its own.
    assert _general_nodes(1, per_zone=True) == 30 + 2 * 2
    assert _general_nodes(10, per_zone=True) == 30 + 2 * 10


def test_changing_it_on_a_running_fleet_updates_in_place(staging: Run, mgmt: Run) -> None:
    faster = run_stack(
        "staging",
        mutate=lambda c: c["fleet:clusters"][0]["nodeGroups"][0].update(maxUnavailable="33%"),
        stack_outputs={"organization/fleet/mgmt": {"argocdHub": mgmt.exports["argocdHub"]}},
    )
    moved = transition(staging, faster)
    assert moved.violations == [], [v.message for v in moved.violations]
    changed = {(c.action, c.type, c.changed) for c in moved.changes}
    assert changed == {
        ("update", "eks:index:ManagedNodeGroup", ("updateConfig.maxUnavailable", "updateConfig.maxUnavailablePercentage"))
    }, changed


def test_the_default_is_eks_own() -> None:
    # A running group already has EKS's default, so the explicit setting changes nothing in AWS.
    assert NodeGroupSpec.model_fields["max_unavailable"].default == eks_node_updates.DEFAULT_MAX_UNAVAILABLE == 1
