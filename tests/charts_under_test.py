"""The Helm releases and raw Kubernetes objects of the reference stacks, as the chart tests take them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from offline import charts
from offline.harness import Registration, Run

RELEASE = "kubernetes:helm.sh/v3:Release"


def kube_version(run: Run, registration: Registration) -> str:
    """The target cluster's Kubernetes minor version: its provider is <cluster>-k8s."""
    provider = run.registrations[registration.provider_urn].name
    cluster = provider.removesuffix("-k8s")
    clusters = run.exports.get("clusters", {})
    if cluster in clusters:
        return str(clusters[cluster]["version"])
    # A hub in another stack ("hub-k8s"): the fleet's default version.
    return str(run.exports["clusters"][next(iter(clusters))]["version"]) if clusters else "1.35"


def release_of(run: Run, registration: Registration) -> charts.Release:
    inputs = registration.inputs
    return charts.Release(
        chart=inputs["chart"],
        version=inputs["version"],
        name=inputs["name"],
        namespace=inputs["namespace"],
        values_json=json.dumps(inputs.get("values") or {}, sort_keys=True),
        kube_version=kube_version(run, registration),
        postrender=inputs.get("postrender"),
    )


def raw_objects(run: Run) -> Iterator[tuple[Registration, dict[str, Any]]]:
    """Every Kubernetes object the program creates itself (not through Helm), as a manifest."""
    for registration in run.registrations.values():
        if registration.custom and registration.type.startswith("kubernetes:") and registration.type != RELEASE:
            yield registration, dict(registration.inputs)
