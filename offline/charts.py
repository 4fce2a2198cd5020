"""Render the real pinned charts offline, as Helm would for a release, and validate what they render.

A release's chart comes from the reference directory (``FLEET_REFERENCE_DIR``, default
``../shared/reference``; ``python -m offline.fetch_reference`` fills one from the charts' Helm
repositories): ``charts/<chart>-<version>/``. Rendering uses the Helm Go SDK bundled by PyPI
``helm-python-sdk``, with the release's name, namespace, values and the target cluster's
Kubernetes version; a release with a post-renderer gets its output piped through it, like Helm.
Objects are validated strictly: core kinds against the Kubernetes version's OpenAPI schemas
(``kubernetes-validate``), custom resources against the CRDs the pinned charts ship.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from offline.harness import ROOT

REFERENCE_ENV = "FLEET_REFERENCE_DIR"
# libyaml's parser when PyYAML has it: the charts' CRDs are large.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Pinned versions whose own sources are not available offline, and the nearest version that is.
# The Submariner charts in the reference set are the 0.19 line; the objects they render (the
# broker Role, the operator's RBAC and Deployment, the Submariner CRD) are what the tests check.
SUBSTITUTES: dict[tuple[str, str], str] = {
    ("submariner-operator", "0.24.1"): "0.19.0-rc3",
    ("submariner-k8s-broker", "0.24.1"): "0.19.0-rc3",
}


SHARED_DIR = ROOT.parent / "shared" / "reference"
# What ``python -m offline.fetch_reference`` fills by default (ignored by git).
CACHE_DIR = ROOT / ".reference"


def reference_dir() -> Path:
    """Where the chart sources come from: FLEET_REFERENCE_DIR when set, else ../shared/reference
    when present, else the cache ``.reference``."""
    if configured := os.environ.get(REFERENCE_ENV):
        return Path(configured)
    return SHARED_DIR if SHARED_DIR.is_dir() else CACHE_DIR


def missing_charts(pinned: Iterable[tuple[str, str]]) -> list[str]:
    """``chart version`` of each pinned chart the reference directory has no copy of."""
    missing = []
    for chart, version in sorted(set(pinned)):
        try:
            chart_dir(chart, version)
        except MissingChartError:
            missing.append(f"{chart} {version}")
    return missing


def where_charts_come_from(missing: list[str], why: str) -> str:
    """The one message a test run stops with when no source has the pinned charts."""
    configured = os.environ.get(REFERENCE_ENV)
    return (
        f"The chart tests need the sources of the pinned charts, and {reference_dir()} lacks {', '.join(missing)}.\n"
        "They come from the first of:\n"
        f"  1. {REFERENCE_ENV}=<dir> ({'set to ' + configured if configured else 'unset'});\n"
        f"  2. ../shared/reference beside the project ({'found' if SHARED_DIR.is_dir() else 'not found'} at {SHARED_DIR});\n"
        f"  3. the cache {CACHE_DIR}, which `python -m offline.fetch_reference` fills from each chart's Helm "
        "repository (the test command runs it when the cache is empty; it needs the internet).\n"
        f"Fetching: {why}\n"
        "No test ran."
    )


class MissingChartError(Exception):
    pass


def chart_dir(chart: str, version: str) -> Path:
    """The reference copy of a pinned chart (or its documented substitute)."""
    base = reference_dir() / "charts"
    for candidate in (version, SUBSTITUTES.get((chart, version))):
        if candidate and (base / f"{chart}-{candidate}" / "Chart.yaml").is_file():
            return base / f"{chart}-{candidate}"
    raise MissingChartError(
        f"no reference copy of chart {chart} {version}: add it as {base}/{chart}-{version} "
        f"(python -m offline.fetch_reference --dest {reference_dir()})"
    )


# ---------------------------------------------------------------- kubeVersion constraints

_CLAUSE = re.compile(r"(>=|<=|>|<|=|!=)?\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-[\w.]+)?")


def kube_version_problem(directory: Path, kube_version: str) -> str | None:
    """Why the chart's ``kubeVersion`` constraint refuses ``kube_version`` (e.g. "1.35"), or None."""
    constraint = str(yaml.safe_load((directory / "Chart.yaml").read_text()).get("kubeVersion") or "").strip()
    if not constraint:
        return None
    have = tuple(int(p) for p in [*kube_version.split("."), "0", "0"][:3])
    for alternative in constraint.split("||"):
        clauses = [m for m in _CLAUSE.finditer(alternative) if m.group(2)]
        if all(_holds(m, have) for m in clauses):
            return None
    return f"{directory.name} requires kubeVersion {constraint!r}, not {kube_version}"


def _holds(clause: re.Match[str], have: tuple[int, ...]) -> bool:
    want = (int(clause.group(2)), int(clause.group(3) or 0), int(clause.group(4) or 0))
    op = clause.group(1) or "="
    return {
        ">=": have >= want,
        "<=": have <= want,
        ">": have > want,
        "<": have < want,
        "=": have == want,
        "!=": have != want,
    }[op]


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Release:
    """What Helm gets for one release: chart, version, name, namespace, values, target version, post-renderer."""

    chart: str
    version: str
    name: str
    namespace: str
    values_json: str
    kube_version: str
    postrender: str | None = None

    @property
    def values(self) -> dict[str, Any]:
        return dict(json.loads(self.values_json))

    def with_values(self, values: Mapping[str, Any]) -> Release:
        return Release(
            self.chart,
            self.version,
            self.name,
            self.namespace,
            json.dumps(values, sort_keys=True),
            self.kube_version,
            self.postrender,
        )


class RenderError(Exception):
    pass


def _render_uncached(release: Release) -> str:
    from helm_python import Chart, _native

    directory = chart_dir(release.chart, release.version)
    if problem := kube_version_problem(directory, release.kube_version):
        raise RenderError(problem)
    # Load afresh for each render: Helm drops disabled subcharts from a loaded chart.
    chart = Chart.load(directory)
    options = {
        "name": release.name,
        "namespace": release.namespace,
        "is_install": True,
        "kube_version": f"v{release.kube_version}.0",
    }
    try:
        rendered: dict[str, str] = json.loads(
            _native.call_string("helm_render", chart._raw(), release.values_json, json.dumps(options))
        )
    except Exception as exc:  # the SDK's errors carry the template and line
        raise RenderError(f"{release.chart} {release.version}: {exc}") from exc
    text = "".join(
        f"---\n# Source: {path}\n{body}\n"
        for path, body in sorted(rendered.items())
        if not path.endswith("NOTES.txt") and body.strip()
    )
    if release.postrender:
        script = ROOT / release.postrender
        text = subprocess.run([sys.executable, str(script)], input=text, capture_output=True, text=True, check=True).stdout
    return text


@cache
def render_text(release: Release) -> str:
    """The release's manifests as Helm's post-renderer receives them (its output, if the release has one)."""
    return _render_uncached(release)


# Helm's own manifest splitter (pkg/release/util SplitManifests): a "---" ends a document even when
# a template's whitespace trimming glues the next line to it ("---apiVersion: v1").
_HELM_SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def split_manifests(text: str) -> list[str]:
    return [part for part in _HELM_SEPARATOR.split(text) if part.strip()]


def render(release: Release) -> list[dict[str, Any]]:
    """The objects a release renders, split the way Helm splits them (Lists flattened, empty documents dropped).

    Parsed once per release: callers get a deep copy, so they may change what they get.
    """
    return copy.deepcopy(_parsed(release))


@cache
def _parsed(release: Release) -> list[dict[str, Any]]:
    return list(_flatten(yaml.load(part, Loader=_LOADER) for part in split_manifests(render_text(release))))


def _flatten(documents: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for document in documents:
        if not isinstance(document, dict):
            continue
        if document.get("kind") == "List":
            yield from _flatten(document.get("items") or [])
        else:
            yield document


def chart_crds(chart: str, version: str) -> list[dict[str, Any]]:
    """The CRDs a chart installs from its crds/ directory (Helm applies them as they are)."""
    crds = chart_dir(chart, version) / "crds"
    found: list[dict[str, Any]] = []
    for path in sorted(crds.glob("*.y*ml")) if crds.is_dir() else []:
        documents = yaml.load_all(path.read_text(), Loader=_LOADER)
        found += [d for d in _flatten(documents) if d.get("kind") == "CustomResourceDefinition"]
    return found


# ---------------------------------------------------------------- "does this key do anything?"


def leaf_paths(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, path)
        else:
            yield path


def _without(values: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(values))
    node = copy
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return dict(copy)


def _perturbed(values: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(values))
    node = copy
    for part in path[:-1]:
        node = node[part]
    value = node[path[-1]]
    if isinstance(value, bool):
        node[path[-1]] = not value
    elif isinstance(value, int | float):
        node[path[-1]] = value + 1
    elif isinstance(value, str):
        node[path[-1]] = value + "-changed"
    elif isinstance(value, list):
        node[path[-1]] = [*value, value[0]] if value else ["changed"]
    else:
        node[path[-1]] = {"changed": "changed"}
    return dict(copy)


def _noise(release: Release) -> set[str]:
    """Lines that differ between two renders of the same values (generated secrets, certificates)."""
    first = _render_uncached(release).splitlines()
    second = _render_uncached(release).splitlines()
    return set(first) ^ set(second)


def _masked(text: str, noise: set[str]) -> list[str]:
    return [line for line in text.splitlines() if line not in noise]


def ignored_keys(release: Release) -> list[str]:
    """Values keys the program sets that change nothing the chart renders, removed or changed."""
    noise = _noise(release)
    base = _masked(render_text(release), noise)
    ignored = []
    for path in leaf_paths(release.values):
        changed = False
        for variant in (_without(release.values, path), _perturbed(release.values, path)):
            try:
                text = render_text(release.with_values(variant))
            except RenderError:
                changed = True  # the key matters enough to break the render
                break
            if _masked(text, noise) != base:
                changed = True
                break
        if not changed:
            ignored.append(".".join(path))
    return ignored


# ---------------------------------------------------------------- schemas


def crd_index(crds: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the openAPIV3Schema of every served version of the given CRDs."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for crd in crds:
        spec = crd["spec"]
        for version in spec["versions"]:
            if version.get("served", True):
                index[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    return index


def object_errors(obj: Mapping[str, Any], kube_version: str, crds: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[str]:
    """Why the API server would refuse (or silently prune part of) ``obj``: strict core schemas, CRD schemas."""
    import jsonschema
    import kubernetes_validate

    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    name = f"{key[1]} {obj.get('metadata', {}).get('name')}"
    if key in crds:
        schema = crds[key]
        errors = [
            f"{name}: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(dict(obj))
        ]
        return errors + [f"{name}: {problem}" for problem in pruned_fields(obj, schema, "")]
    try:
        kubernetes_validate.validate(dict(obj), f"{kube_version}.0", strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name}: {'/'.join(str(p) for p in exc.path)}: {exc.message}"]
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError):
        return [f"{name}: no schema for {key[0]} {key[1]} in Kubernetes {kube_version} or the charts' CRDs"]
    return []


def pruned_fields(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    """Fields the API server would drop: not in ``properties`` of a structural CRD schema.

    jsonschema alone accepts them, because CRD schemas do not say additionalProperties: false.
    """
    problems: list[str] = []
    if isinstance(value, Mapping) and schema.get("type") == "object":
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}/{key}" if path else str(key)
            if properties is not None and key in properties:
                problems += pruned_fields(item, properties[key], where)
            elif isinstance(additional, Mapping):
                problems += pruned_fields(item, additional, where)
            elif (
                properties is not None
                and not schema.get("x-kubernetes-preserve-unknown-fields")
                and key not in ("apiVersion", "kind")
            ):
                problems.append(f"{where}: not in the schema (the API server would drop it)")
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problems += pruned_fields(item, schema["items"], f"{path}[{index}]")
    return problems
