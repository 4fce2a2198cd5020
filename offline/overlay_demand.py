"""The load an ApplicationSet's Applications request, from their GitOps overlays (``demandFrom``).

Each Application the set generates (components/planning/gitops.py, the cluster generator's rules)
points at an overlay; ``kubectl kustomize`` builds it, and every Deployment and StatefulSet counts
``replicas`` x the sum of its containers' requests. The overlays size each cluster for its
current share, so their sum is the name's load at 100% of its traffic.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from components.config.model import FleetSpec
from components.planning import gitops
from components.planning.capacity import NOTHING, Resources
from offline.harness import ROOT

GITOPS_DIR = ROOT / "gitops"
WORKLOADS = ("Deployment", "StatefulSet")
_QUANTITY = re.compile(r"^(?P<number>[0-9.]+)(?P<unit>m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(text: str | int | float) -> float:
    """A Kubernetes resource quantity as a number (cores for CPU, bytes for memory)."""
    match = _QUANTITY.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    return float(match["number"]) * _FACTORS[match["unit"]]


def workload_requests(documents: list[dict[str, Any]]) -> Resources:
    total = NOTHING
    for document in documents:
        if document.get("kind") not in WORKLOADS:
            continue
        spec = document.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        for container in (spec.get("template") or {}).get("spec", {}).get("containers", []):
            requests = (container.get("resources") or {}).get("requests") or {}
            pod = Resources(quantity(requests.get("cpu", 0)), quantity(requests.get("memory", 0)) / 2**30)
            total = total + pod.scaled(replicas)
    return total


def _build(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ValueError(f"kubectl kustomize {directory}: {result.stderr.strip()}")
    return [d for d in yaml.safe_load_all(result.stdout) if isinstance(d, dict)]


def measured_demands(spec: FleetSpec, stack: str, root: Path = GITOPS_DIR) -> dict[str, Resources]:
    """Per record with demandFrom, the requests of every Application its ApplicationSet generates."""
    if spec.dns is None or spec.argocd is None:
        return {}
    sets = {s.name: s for s in spec.argocd.application_sets}
    clusters = [gitops.RegisteredCluster(c.name, "https://offline", gitops.cluster_labels(c, stack)) for c in spec.clusters]
    found: dict[str, Resources] = {}
    for record in spec.dns.records:
        if record.demand_from is None:
            continue
        application_set = sets.get(record.demand_from)
        if application_set is None:
            raise ValueError(f"{record.name}: demandFrom {record.demand_from!r} is not an ApplicationSet of fleet:argocd")
        total = NOTHING
        for app in gitops.generated_applications(application_set, clusters):
            total = total + workload_requests(_build(root / app.path))
        found[record.name] = total
    return found
