"""Upstream chart values and CRDs of the pinned charts, to check what the program sends against.

They come from the reference directory (offline/charts.py: ``FLEET_REFERENCE_DIR``, default
``../shared/reference``), at the versions the program pins.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import yaml

from components.config.model import AddonVersionsSpec, ArgoCdSpec, LoadBalancerControllerSpec, SubmarinerSpec
from offline import charts


def _default(model: Any, field: str) -> str:
    return str(model.model_fields[field].default)


# Short names the tests use -> (chart, the version the program pins by default).
PINNED = {
    "argo-cd": ("argo-cd", _default(ArgoCdSpec, "chart_version")),
    "aws-load-balancer-controller": ("aws-load-balancer-controller", _default(LoadBalancerControllerSpec, "chart_version")),
    "submariner/submariner-operator": ("submariner-operator", _default(SubmarinerSpec, "chart_version")),
    "submariner/submariner-k8s-broker": ("submariner-k8s-broker", _default(SubmarinerSpec, "chart_version")),
    "cluster-autoscaler": ("cluster-autoscaler", _default(AddonVersionsSpec, "cluster_autoscaler_chart_version")),
    "nvidia-device-plugin": ("nvidia-device-plugin", _default(AddonVersionsSpec, "nvidia_device_plugin_chart_version")),
}


@cache
def chart_values(name: str) -> dict[str, Any]:
    """The values.yaml of a pinned chart, e.g. ``submariner/submariner-operator``."""
    path = charts.chart_dir(*PINNED[name]) / "values.yaml"
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert len(documents) == 1, f"{path} holds {len(documents)} documents"
    return dict(documents[0])


def unknown_keys(values: Mapping[str, Any], name: str) -> list[str]:
    """Key paths in ``values`` that the chart's values.yaml does not have: Helm would ignore them silently.

    A key whose upstream default is an empty map (``annotations: {}``) accepts any sub-keys.
    """
    upstream = chart_values(name)
    known = set(charts.leaf_paths(upstream))
    open_maps = {path for path in known if _lookup(upstream, path) == {}}
    return sorted(
        "/".join(path)
        for path in charts.leaf_paths(values)
        if path not in known and not any(path[: len(m)] == m and len(path) > len(m) for m in open_maps)
    )


def _lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        node = node[part]
    return node


# The Argo CD CRDs by the file name their chart template has.
_ARGO_CD_CRDS = {
    "argo-cd/crd-application.yaml": "Application",
    "argo-cd/crd-applicationset.yaml": "ApplicationSet",
    "argo-cd/crd-appproject.yaml": "AppProject",
}


@cache
def crd_schema(file_name: str) -> dict[str, Any]:
    """The openAPIV3Schema of an Argo CD CRD (``argo-cd/crd-applicationset.yaml``), as the pinned chart renders it."""
    chart, version = PINNED["argo-cd"]
    release = charts.Release(chart, version, "argocd", "argocd", "{}", "1.35")
    (crd,) = [
        o
        for o in charts.render(release)
        if o.get("kind") == "CustomResourceDefinition" and o["spec"]["names"]["kind"] == _ARGO_CD_CRDS[file_name]
    ]
    return dict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def schema_errors(manifest: Mapping[str, Any], file_name: str) -> list[str]:
    """Where ``manifest`` breaks the CRD's schema (jsonschema ignores the x-kubernetes-* extensions)."""
    import jsonschema

    schema = crd_schema(file_name)
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(dict(manifest))]
    return sorted(errors + charts.pruned_fields(manifest, schema, ""))
