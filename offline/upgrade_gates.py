"""The upgrade gates that need files and tools rather than config: the charts' ``kubeVersion``
constraints and the GitOps repository's objects against the target version's API.

- Every Helm release the stack registers is looked up in the reference charts; Helm refuses to
  install a chart whose ``kubeVersion`` constraint excludes the cluster's version.
- Every kustomization in the GitOps repository is built (``kubectl kustomize``) and each object is
  validated against the Kubernetes OpenAPI schemas of the current and the target minor
  (PyPI ``kubernetes-validate``): a kind the current version serves and the target does not is an
  API the upgrade removes, and Argo CD could no longer apply it. Kinds neither version knows are
  custom resources, checked elsewhere against their CRDs.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

from components.config.model import FleetSpec
from components.planning import upgrades
from components.planning.upgrades import Campaign, Gate
from offline import charts
from offline.harness import ROOT, Run

GITOPS_DIR = ROOT / "gitops"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def chart_gate(run: Run, minors: Iterable[str]) -> Gate:
    """Whether every chart the stack installs admits every minor the campaign passes through (its
    Chart.yaml ``kubeVersion``): Helm refuses the chart at any hop's minor, not only the target's."""
    minors = sorted(set(minors), key=lambda m: tuple(int(p) for p in m.split(".")))
    problems, checked = [], []
    for chart, version in sorted({(r.inputs["chart"], str(r.inputs["version"])) for r in run.of_type(HELM_RELEASE)}):
        try:
            directory = charts.chart_dir(chart, version)
        except charts.MissingChartError as exc:
            problems.append(str(exc))
            continue
        checked.append(f"{chart} {version}")
        problems += [problem for minor in minors if (problem := charts.kube_version_problem(directory, minor))]
    return Gate(
        "charts",
        not problems,
        "; ".join(problems) or f"{', '.join(checked)} admit Kubernetes {', '.join(minors)}",
    )


def kustomizations(root: Path) -> list[Path]:
    """Every folder under ``root`` that kustomize builds."""
    return sorted(path.parent for path in root.rglob("kustomization.yaml"))


def _build(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ValueError(result.stderr.strip() or f"kubectl kustomize {directory} failed")
    return [d for d in yaml.safe_load_all(result.stdout) if isinstance(d, dict)]


def _served(document: dict[str, Any], version: str) -> bool:
    try:
        kubernetes_validate.validate(document, f"{version}.0", strict=False)
    except SchemaNotFoundError:
        return False
    except ValidationError:
        return True  # served; its fields are another check's business
    return True


def removed_api_gate(current_versions: Iterable[str], target: str, root: Path = GITOPS_DIR) -> Gate:
    """Objects of the GitOps repository that some current cluster version serves and ``target`` does not."""
    removed: list[str] = []
    built = 0
    for directory in kustomizations(root):
        try:
            documents = _build(directory)
        except (ValueError, OSError) as exc:
            removed.append(f"{directory.relative_to(root)}: does not build ({exc})")
            continue
        built += 1
        for document in documents:
            kind = f"{document.get('apiVersion')} {document.get('kind')}"
            served_now = [v for v in sorted(set(current_versions)) if _served(document, v)]
            if served_now and not _served(document, target):
                name = (document.get("metadata") or {}).get("name", "?")
                removed.append(f"{directory.relative_to(root)}: {kind} {name} is served by {served_now[0]}, not by {target}")
    return Gate(
        "removed-apis",
        not removed,
        "; ".join(removed) or f"{built} kustomizations under {root.name}/ use only APIs Kubernetes {target} serves",
    )


def gated_campaign(spec: FleetSpec, run: Run, target: str, gitops: Path = GITOPS_DIR) -> Campaign:
    """The campaign with every gate: the planner's per wave, and the whole-fleet ones (charts, APIs
    the target removes) with the first wave, so the campaign stops before any change."""
    campaign = upgrades.plan_campaign(spec, target)
    if campaign.waves:
        current = {c.version for wave in campaign.waves for c in wave.clusters}
        minors = {hop.split("->")[1].strip() for wave in campaign.waves for hop in wave.hops} or {target}
        campaign.waves[0].gates += [chart_gate(run, minors), removed_api_gate(current, target, gitops)]
    return campaign
