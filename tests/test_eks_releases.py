"""The per-minor release table (components/aws/eks_releases.py) and what the program takes from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.aws import eks_releases, eks_versions
from offline.harness import Run


def test_every_supported_minor_has_its_add_on_builds() -> None:
    assert set(eks_releases.RELEASES) == set(eks_versions.SUPPORT)
    for version, release in eks_releases.RELEASES.items():
        # A kube-proxy build is made for exactly one Kubernetes minor.
        assert release.kube_proxy.startswith(f"v{version}.")
        assert release.kube_proxy.split("-")[-1].startswith("eksbuild.")
        assert release.coredns.startswith("v1.")
        assert "-eksbuild." in release.coredns


@given(st.integers(min_value=20, max_value=40), st.integers(min_value=0, max_value=5))
def test_hops_are_one_minor_each_and_end_at_the_target(start: int, span: int) -> None:
    steps = eks_releases.hops(f"1.{start}", f"1.{start + span}")
    assert len(steps) == span
    assert all(eks_releases.minor(b)[1] - eks_releases.minor(a)[1] == 1 for a, b in steps)
    assert [a for a, _ in steps[1:]] == [b for _, b in steps[:-1]]
    if steps:
        assert (steps[0][0], steps[-1][1]) == (f"1.{start}", f"1.{start + span}")


def test_a_downgrade_is_not_a_hop() -> None:
    with pytest.raises(ValueError, match="never moves a control plane down"):
        eks_releases.hops("1.35", "1.34")


def test_kube_proxy_vpc_cni_and_coredns_are_pinned_on_every_cluster(fleet: Run) -> None:
    release = eks_releases.RELEASES[eks_versions.NEWEST]
    clusters = fleet.of_type("eks:index:Cluster")
    for cluster in clusters:
        assert cluster.inputs["kubeProxyAddonOptions"]["version"] == release.kube_proxy
        assert cluster.inputs["vpcCniOptions"]["addonVersion"] == release.vpc_cni
        # Never pulumi-eks's CoreDNS: it would be created before any node (pulumi/pulumi-eks#1819).
        assert cluster.inputs["corednsAddonOptions"]["enabled"] is False
    coredns = [r for r in fleet.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "coredns"]
    assert sorted(r.inputs["clusterName"] for r in coredns) == sorted(c.inputs["name"] for c in clusters)
    assert {r.inputs["addonVersion"] for r in coredns} == {release.coredns}


def test_every_node_group_runs_the_pinned_node_image_of_its_minor(fleet: Run) -> None:
    groups = fleet.of_type("eks:index:ManagedNodeGroup")
    assert groups
    assert {g.inputs["releaseVersion"] for g in groups} == {"1.35.6-20260714"}
    for version, release in eks_releases.RELEASES.items():
        assert release.node_release.startswith(f"{version}.")
        assert release.node_release.endswith(f"-{eks_releases.NODE_IMAGE_RELEASE}")


def test_raising_the_node_image_rolls_every_group_in_place(fleet: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from offline.harness import run_stack
    from offline.transition import transition

    monkeypatch.setattr(eks_releases, "NODE_IMAGE_RELEASE", "20261201")
    patched = run_stack("fleet")
    moved = transition(fleet, patched)
    assert moved.violations == []
    assert {c.type for c in moved.changes} == {"eks:index:ManagedNodeGroup"}
    assert {(c.action, c.changed) for c in moved.changes} == {("update", ("releaseVersion",))}
