"""Upstream chart values and CRDs from ../shared/reference, to check what the program sends against."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


@cache
def chart_values(chart_path: str) -> dict[str, Any]:
    """The values.yaml of a reference chart, e.g. ``submariner/submariner-operator``."""
    documents = [d for d in yaml.safe_load_all((REFERENCE / chart_path / "values.yaml").read_text()) if d is not None]
    assert len(documents) == 1, f"{chart_path}/values.yaml holds {len(documents)} documents"
    return dict(documents[0])


def key_paths(values: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every leaf key path of a values map: ("broker", "server"), ("configs", "cm", "admin.enabled"), ..."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from key_paths(value, path)
        else:
            yield path


def unknown_keys(values: Mapping[str, Any], chart_path: str) -> list[str]:
    """Key paths in ``values`` that the chart's values.yaml does not have: Helm would ignore them silently.

    A key whose upstream default is an empty map (``annotations: {}``) accepts any sub-keys.
    """
    upstream = chart_values(chart_path)
    known = set(key_paths(upstream))
    open_maps = {path for path in known if _lookup(upstream, path) == {}}
    return sorted(
        "/".join(path)
        for path in key_paths(values)
        if path not in known and not any(path[: len(m)] == m and len(path) > len(m) for m in open_maps)
    )


def _lookup(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        node = node[part]
    return node


@cache
def crd_schema(file_name: str) -> dict[str, Any]:
    """The openAPIV3Schema of a reference CRD, e.g. ``argo-cd/crd-applicationset.yaml``."""
    crd = yaml.safe_load((REFERENCE / file_name).read_text())
    return dict(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def schema_errors(manifest: Mapping[str, Any], file_name: str) -> list[str]:
    """Where ``manifest`` breaks the CRD's schema (jsonschema ignores the x-kubernetes-* extensions)."""
    import jsonschema

    schema = crd_schema(file_name)
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(dict(manifest))]
    return sorted(errors + _pruned_fields(manifest, schema, ""))


def _pruned_fields(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    """Fields the API server would prune silently: not in ``properties`` of a structural schema.

    jsonschema alone accepts them, because CRD schemas do not say additionalProperties: false.
    """
    problems: list[str] = []
    if isinstance(value, Mapping) and schema.get("type") == "object":
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}/{key}" if path else str(key)
            if properties is not None and key in properties:
                problems += _pruned_fields(item, properties[key], where)
            elif isinstance(additional, Mapping):
                problems += _pruned_fields(item, additional, where)
            elif (
                properties is not None
                and not schema.get("x-kubernetes-preserve-unknown-fields")
                and key
                not in (
                    "apiVersion",
                    "kind",
                )
            ):
                problems.append(f"{where}: not in the schema (the API server would drop it)")
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            problems += _pruned_fields(item, schema["items"], f"{path}[{index}]")
    return problems
