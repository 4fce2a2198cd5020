"""Cross-field rules checked on raw config whose shapes are partly wrong, so that one round of fixes
is enough: names referenced but not defined, names defined twice, ranges that overlap, a node group's
sizes. Values that do not parse are left to the shape errors (``shape_errors.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network
from typing import Any

from ..aws import cidr, labels
from .errors import config_path


def raw_fleet_problems(raw: Mapping[str, object], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """Fleet-wide rules checked on raw config whose shape is partly wrong: names referenced but not
    defined, names defined twice, ranges that overlap. Values that do not parse are left to the
    shape errors already reported."""
    listed = raw.get("clusters")
    clusters = [c for c in listed if isinstance(c, Mapping)] if isinstance(listed, list) else []
    names = [str(c["name"]) for c in clusters if isinstance(c.get("name"), str)]
    problems: list[str] = _raw_model_rules(raw, flagged)
    seen: dict[str, int] = {}
    for i, cluster in enumerate(clusters):
        name = cluster.get("name")
        if isinstance(name, str):
            if name in seen:
                first = config_path(("clusters", seen[name]))
                problems.append(f"{config_path(('clusters', i, 'name'))}: {name!r} is already the name of {first}")
            seen.setdefault(name, i)
    # References are checked only once every name is settled: a misspelt name is one problem, not
    # one more for each record that (rightly) names the cluster.
    if not clusters or len(names) != len(clusters) or any(labels.dns1123_label_error(name) for name in names):
        return problems + _raw_overlaps(clusters, flagged)
    dns = raw.get("dns")
    records = dns.get("records") if isinstance(dns, Mapping) else None
    for j, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, Mapping):
            continue
        references: list[tuple[str, object]] = []
        for key in ("weights", "locations"):
            value = record.get(key)
            if isinstance(value, Mapping):
                references += [(f"{key}.{k}", k if key == "weights" else v) for k, v in value.items()]
        for key in ("primary", "secondary"):
            references.append((key, record.get(key)))
        if isinstance(record.get("clusters"), list):
            references += [(f"clusters[{k}]", v) for k, v in enumerate(record["clusters"])]
        for sub_path, name in references:
            if isinstance(name, str) and name not in names:
                problems.append(f"{config_path(('dns', 'records', j))}.{sub_path}: no cluster named {name!r} in fleet:clusters")
    submariner = raw.get("submariner")
    if isinstance(submariner, Mapping):
        broker = submariner.get("broker")
        if isinstance(broker, str) and broker not in names:
            problems.append(f"{config_path(('submariner', 'broker'))}: no cluster named {broker!r} in fleet:clusters")
        members = submariner.get("clusters")
        for k, name in enumerate(members if isinstance(members, list) else []):
            if isinstance(name, str) and name not in names:
                problems.append(f"{config_path(('submariner', 'clusters', k))}: no cluster named {name!r} in fleet:clusters")
    return problems + _raw_overlaps(clusters, flagged)


def _has_field_error(prefix: tuple[int | str, ...], flagged: set[tuple[int | str, ...]]) -> bool:
    return any(len(loc) > len(prefix) and loc[: len(prefix)] == prefix for loc in flagged)


def _raw_model_rules(raw: Mapping[str, object], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """The rule a node group checks once its fields parse (NodeGroupSpec._sizes_and_image), for groups
    whose other fields did not: pydantic skips a model's own rules then, and they would only show in
    a second round. (A record's routing fields are checked by pydantic itself, per policy class.)"""
    problems: list[str] = []
    listed = raw.get("clusters")
    for i, cluster in enumerate(listed if isinstance(listed, list) else []):
        groups = cluster.get("nodeGroups") if isinstance(cluster, Mapping) else None
        for k, group in enumerate(groups if isinstance(groups, list) else []):
            in_group: tuple[int | str, ...] = ("clusters", i, "nodeGroups", k)
            if not isinstance(group, Mapping) or not _has_field_error(in_group, flagged):
                continue
            sizes = [group.get(key) for key in ("minSize", "desiredSize", "maxSize")]
            valid = all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
            if valid and not any((*in_group, key) in flagged for key in ("minSize", "desiredSize", "maxSize")):
                low, desired, high = sizes
                if not low <= desired <= high:  # type: ignore[operator]
                    problems.append(
                        f"{config_path(in_group)}: sizes must satisfy minSize <= desiredSize <= maxSize, "
                        f"got {low} <= {desired} <= {high}"
                    )
    return problems


def _raw_overlaps(clusters: list[Mapping[str, Any]], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """Overlaps between ranges that are themselves valid (a range already reported wrong is not compared)."""
    problems: list[str] = []
    ranges: list[tuple[int, str, IPv4Network]] = []
    for i, cluster in enumerate(clusters):
        for key in ("vpcCidr", "serviceCidr"):
            if ("clusters", i, key) in flagged:
                continue
            try:
                ranges.append((i, key, cidr.parse_network(cluster.get(key))))  # type: ignore[arg-type]
            except (ValueError, TypeError):
                continue
    for a, b in cidr.overlapping_pairs([network for _, _, network in ranges]):
        (ia, key_a, net_a), (ib, key_b, net_b) = ranges[a], ranges[b]
        if ia != ib:
            problems.append(
                f"{config_path(('clusters', ib, key_b))}: {net_b} overlaps {config_path(('clusters', ia, key_a))} ({net_a})"
            )
    return problems
