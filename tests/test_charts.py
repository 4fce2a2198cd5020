"""Every Helm release of the reference stacks rendered from its real pinned chart, and every object validated.

Rendering is what Helm does on `pulumi up` (tests/../offline/charts.py); validation is what the API
server does: strict core schemas for the cluster's Kubernetes version, the charts' own CRDs for
custom resources, and the fields a structural schema would prune.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from components.planning import gitops
from components.planning import submariner as plan
from offline import charts
from offline.harness import Run
from tests.charts_under_test import raw_objects, release_of

PROD_RELEASES = [
    "argocd-chart",
    "mgmt-addons-autoscaler",
    "mgmt-submariner-operator",
    "prod-eu-addons-autoscaler",
    "prod-eu-edge-lbc",
    "prod-eu-submariner-operator",
    "prod-us-addons-autoscaler",
    "prod-us-addons-nvidia",
    "prod-us-edge-lbc",
    "prod-us-submariner-operator",
    "submariner-broker-chart",
]


@pytest.fixture(scope="session")
def crds(fleet: Run) -> dict[tuple[str, str], dict[str, Any]]:
    """Every CRD the pinned charts install: their crds/ directories and CRDs they render as templates."""
    found: list[dict[str, Any]] = []
    for registration in fleet.of_type("kubernetes:helm.sh/v3:Release"):
        release = release_of(fleet, registration)
        found += charts.chart_crds(release.chart, release.version)
        found += [o for o in charts.render(release) if o.get("kind") == "CustomResourceDefinition"]
    return charts.crd_index(found)


STAGING_RELEASES = ["staging-us-addons-autoscaler"]


def test_the_releases_under_test_are_every_release_of_both_stacks(fleet: Run, staging: Run) -> None:
    assert sorted(r.name for r in fleet.of_type("kubernetes:helm.sh/v3:Release")) == PROD_RELEASES
    # Staging's only release is its autoscaler (no Submariner, no edge; Argo CD is prod's).
    assert sorted(r.name for r in staging.of_type("kubernetes:helm.sh/v3:Release")) == STAGING_RELEASES


@pytest.mark.parametrize("name", STAGING_RELEASES)
def test_staging_releases_render_validate_and_use_every_key(
    staging: Run, name: str, crds: dict[tuple[str, str], dict[str, Any]]
) -> None:
    release = release_of(staging, staging.named(name))
    objects = charts.render(release)
    assert objects
    assert [e for obj in objects for e in charts.object_errors(obj, release.kube_version, crds)] == []
    assert charts.ignored_keys(release) == []


@pytest.mark.parametrize("name", PROD_RELEASES)
def test_release_renders_from_its_pinned_chart(fleet: Run, name: str) -> None:
    release = release_of(fleet, fleet.named(name))
    assert charts.render(release), f"{name} renders nothing"


@pytest.mark.parametrize("name", PROD_RELEASES)
def test_every_values_key_takes_effect(fleet: Run, name: str) -> None:
    assert charts.ignored_keys(release_of(fleet, fleet.named(name))) == []


@pytest.mark.parametrize("name", PROD_RELEASES)
def test_every_rendered_object_validates(fleet: Run, name: str, crds: dict[tuple[str, str], dict[str, Any]]) -> None:
    release = release_of(fleet, fleet.named(name))
    errors = [e for obj in charts.render(release) for e in charts.object_errors(obj, release.kube_version, crds)]
    assert errors == []


@pytest.mark.parametrize("stack", ["mgmt", "prod", "staging"])
def test_every_raw_object_validates(
    request: pytest.FixtureRequest, stack: str, crds: dict[tuple[str, str], dict[str, Any]]
) -> None:
    run: Run = request.getfixturevalue(stack)
    objects = list(raw_objects(run))
    assert objects
    errors = [e for _, obj in objects for e in charts.object_errors(obj, "1.35", crds)]
    assert errors == []


# ---------------------------------------------------------------- defects the checks must catch


def test_an_ignored_values_key_is_caught(fleet: Run) -> None:
    release = release_of(fleet, fleet.named("argocd-chart"))
    values = release.values
    values["server"]["replicaCount"] = 3  # a typo for server.replicas: no template reads it
    assert charts.ignored_keys(release.with_values(values)) == ["server.replicaCount"]


def test_an_unknown_field_in_a_raw_object_is_caught(fleet: Run, crds: dict[tuple[str, str], dict[str, Any]]) -> None:
    secret = dict(fleet.named("argocd-repo").inputs)
    assert charts.object_errors(secret, "1.35", crds) == []
    assert charts.object_errors({**secret, "spec": {"type": "git"}}, "1.35", crds) != []
    binding = json.loads(json.dumps(fleet.named("prod-us-edge-binding").inputs))
    binding["spec"]["serviceRef"]["portName"] = "https"
    assert any("portName: not in the schema" in e for e in charts.object_errors(binding, "1.35", crds))


def test_a_chart_that_does_not_render_is_caught(fleet: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = release_of(fleet, fleet.named("submariner-broker-chart"))
    source = charts.chart_dir(release.chart, release.version)
    (tmp_path / "charts").mkdir()
    broken = tmp_path / "charts" / f"{release.chart}-{release.version}"
    shutil.copytree(source, broken)
    (broken / "templates" / "broken.yaml").write_text('{{ fail "this chart does not render" }}\n')
    monkeypatch.setenv(charts.REFERENCE_ENV, str(tmp_path))
    with pytest.raises(charts.RenderError, match="this chart does not render"):
        charts.render_text.__wrapped__(release)


def test_a_kube_version_the_chart_refuses_is_caught(fleet: Run) -> None:
    release = dataclasses.replace(release_of(fleet, fleet.named("argocd-chart")), kube_version="1.24")
    with pytest.raises(charts.RenderError, match=re.escape("requires kubeVersion '>=1.25.0-0', not 1.24")):
        charts.render(release)


def test_a_chart_missing_from_the_reference_names_itself(fleet: Run) -> None:
    release = dataclasses.replace(release_of(fleet, fleet.named("argocd-chart")), version="99.0.0")
    with pytest.raises(charts.MissingChartError, match=re.escape("no reference copy of chart argo-cd 99.0.0: add it as")):
        charts.render(release)


# ---------------------------------------------------------------- what the program relies on


def _objects(fleet: Run, name: str) -> list[dict[str, Any]]:
    return charts.render(release_of(fleet, fleet.named(name)))


def _named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_argocd_pods_run_as_the_accounts_that_carry_the_hub_role(fleet: Run) -> None:
    objects = _objects(fleet, "argocd-chart")
    role_arn = fleet.named("argocd-role").outputs["arn"]
    accounts = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceAccount"}
    workloads = {
        ("StatefulSet", "argocd-application-controller"),
        ("Deployment", "argocd-server"),
        ("Deployment", "argocd-applicationset-controller"),
    }
    # Pod Identity (fleet:workloadIdentity's default): EKS gives each account the role through its
    # association; the rendered pods carry the mode, so a change of mode restarts them.
    associated = {
        r.inputs["serviceAccount"]: r.inputs["roleArn"]
        for r in fleet.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
        if r.inputs["namespace"] == gitops.NAMESPACE
    }
    for kind, name in workloads:
        template = _named(objects, kind, name)["spec"]["template"]
        account = template["spec"]["serviceAccountName"]
        assert account in gitops.HUB_SERVICE_ACCOUNTS
        assert associated[account] == role_arn
        assert "eks.amazonaws.com/role-arn" not in (accounts[account]["metadata"].get("annotations") or {})
        assert template["metadata"]["annotations"]["fleet/workload-identity"] == "podIdentity"


def test_argocd_ha_replicas_service_type_and_nothing_unused(fleet: Run) -> None:
    objects = _objects(fleet, "argocd-chart")
    for kind, name in (
        ("StatefulSet", "argocd-application-controller"),
        ("Deployment", "argocd-server"),
        ("Deployment", "argocd-repo-server"),
        ("Deployment", "argocd-applicationset-controller"),
    ):
        assert _named(objects, kind, name)["spec"]["replicas"] == 2
    assert _named(objects, "StatefulSet", "argocd-redis-ha-server")["spec"]["replicas"] == 3
    assert _named(objects, "Service", "argocd-server")["spec"]["type"] == "ClusterIP"
    names = {o["metadata"]["name"] for o in objects if o["kind"] in ("Deployment", "StatefulSet")}
    assert not {n for n in names if "dex" in n or "notifications" in n}
    assert _named(objects, "ConfigMap", "argocd-cm")["data"]["admin.enabled"] == "false"


def test_the_broker_role_the_member_bindings_name_is_rendered(fleet: Run) -> None:
    objects = _objects(fleet, "submariner-broker-chart")
    role = _named(objects, "Role", plan.BROKER_ROLE)
    assert any("endpoints" in rule["resources"] for rule in role["rules"])
    binding = _named(objects, "RoleBinding", plan.BROKER_ROLE)
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": plan.BROKER_UNUSED_ACCOUNT, "namespace": plan.BROKER_NAMESPACE}
    ]


def test_the_operator_renders_no_submariner_object_and_the_programs_validates(
    fleet: Run, crds: dict[tuple[str, str], dict[str, Any]]
) -> None:
    objects = _objects(fleet, "prod-us-submariner-operator")
    assert not [o for o in objects if o["kind"] == "Submariner"], "the post-renderer drops it: the program owns it"
    assert _named(objects, "Deployment", "submariner-operator")
    own = dict(fleet.named("prod-us-submariner-submariner").inputs)
    assert ("submariner.io/v1alpha1", "Submariner") in crds
    assert charts.object_errors(own, "1.35", crds) == []


def test_the_controller_is_told_cluster_region_and_vpc_and_serves_no_ingress_class(fleet: Run) -> None:
    objects = _objects(fleet, "prod-us-edge-lbc")
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    vpc = fleet.named("prod-us-network-vpc").id
    assert "--cluster-name=prod-us" in args
    assert "--aws-region=us-east-1" in args
    assert f"--aws-vpc-id={vpc}" in args
    assert any(a.startswith("--feature-gates=") and "EnableServiceController=false" in a for a in args)
    assert not [o for o in objects if o["kind"] == "IngressClass"]


def test_the_target_group_binding_version_is_served_by_the_charts_crd(
    fleet: Run, crds: dict[tuple[str, str], dict[str, Any]]
) -> None:
    binding = fleet.named("prod-us-edge-binding").inputs
    assert (binding["apiVersion"], binding["kind"]) in crds
