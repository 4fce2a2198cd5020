"""Upstream chart values and CRDs from ../shared/reference, to check what the program sends against."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


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
