"""The gitops/ repository template: every overlay builds, and every path the prod stack points at exists."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.planning import gitops
from components.planning.checks import load_fleet
from tests.config_cases import raw_prod
from tests.reference import schema_errors

GITOPS = Path(__file__).resolve().parents[1] / "gitops"
needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")


def kustomize(path: Path) -> list[dict[str, Any]]:
    result = subprocess.run(["kubectl", "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def prod_applications() -> list[gitops.GeneratedApplication]:
    spec = load_fleet(raw_prod())
    assert spec.argocd is not None
    clusters = [gitops.RegisteredCluster(c.name, "https://example", gitops.cluster_labels(c, "prod")) for c in spec.clusters]
    return [app for s in spec.argocd.application_sets for app in gitops.generated_applications(s, clusters)]


def test_every_path_the_prod_applicationsets_generate_exists() -> None:
    apps = prod_applications()
    assert {a.path for a in apps} == {"apps/myapp/overlays/production-us", "apps/myapp/overlays/production-eu"}
    for app in apps:
        assert (GITOPS / app.path / "kustomization.yaml").is_file(), f"{app.name} points at a missing {app.path}"


def test_the_root_app_path_exists() -> None:
    spec = load_fleet(raw_prod())
    assert spec.argocd is not None
    assert spec.argocd.root_app is not None
    assert (GITOPS / spec.argocd.root_app.path / "kustomization.yaml").is_file()


@needs_kubectl
@pytest.mark.parametrize(("overlay", "replicas", "cpu"), [("production-us", 6, "500m"), ("production-eu", 3, "250m")])
def test_overlays_build_with_their_regional_patches(overlay: str, replicas: int, cpu: str) -> None:
    documents = kustomize(GITOPS / "apps/myapp/overlays" / overlay)
    assert sorted((d["kind"], d["metadata"]["name"]) for d in documents) == [("Deployment", "myapp"), ("Service", "myapp")]
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == replicas
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == cpu
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    for document in documents:
        assert document["metadata"]["labels"]["fleet/overlay"] == overlay
        assert document["metadata"]["labels"]["app.kubernetes.io/name"] == "myapp"
    (service,) = [d for d in documents if d["kind"] == "Service"]
    assert service["spec"]["selector"]["app.kubernetes.io/name"] == "myapp"
    assert deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] == "myapp"


@needs_kubectl
def test_base_keeps_its_defaults() -> None:
    (deployment,) = [d for d in kustomize(GITOPS / "apps/myapp/base") if d["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 2


@needs_kubectl
@pytest.mark.parametrize("cluster", ["mgmt", "prod-us", "prod-eu"])
def test_cluster_folders_build(cluster: str) -> None:
    documents = kustomize(GITOPS / "clusters" / cluster)
    assert documents
    for document in documents:
        if document["kind"] == "AppProject":
            assert schema_errors(document, "argo-cd/crd-appproject.yaml") == []
