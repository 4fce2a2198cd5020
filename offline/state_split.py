"""A running environment's state split into its cells' (docs/runbooks.md, "Move a running environment into
cells"), as a transform of ``pulumi stack export`` into one deployment per cell for ``pulumi stack import``.

Why not ``pulumi state move``: it never moves a provider, it copies it, keeping the provider's parent
(pulumi/pulumi pkg/cmd/pulumi/state/state_move.go). pulumi-eks's cluster component parents its own
Kubernetes provider (pulumi-eks nodejs/eks/cluster/cluster.ts, ``${name}-eks-k8s``), so a move of a
cluster leaves a provider whose parent is gone in the source and puts it before its parent in the
destination, which the integrity check refuses. It also leaves resource references in inputs naming
the old stack. A split of the exported state has neither problem:

- each cell gets its own top-level resources with all their descendants, every provider they use,
  a root stack resource of its own, and a copy of each component every cell has one of
  (``traffic``, components/resources/dns.py) with only the cell's children under it;
- every URN of the environment's stack, wherever it appears (the resource's own, its parent, provider
  references, dependencies, resource references in inputs and outputs, aliases), is rewritten to the
  cell's; dependencies on resources that went to another cell are dropped (the cells read each other
  instead, components/resources/cell_reads.py);
- what stays is the environment's root, its providers, stack references and the shared components:
  no cloud object, which ``python -m deploy`` checks before any cell deploys (deploy/cells.py).

Secrets must be exported as plaintext (``--show-secrets``): ``pulumi stack import`` encrypts them with the
cell's own secrets provider; a ciphertext from the environment's would not decrypt there. The files
hold secrets in the clear: write them somewhere private and delete them after the import.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

ROOT_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
CIPHERTEXT = "ciphertext"


class SplitRefusedError(ValueError):
    """An export this transform will not split, with why."""


def _urn_prefix(stack: str) -> str:
    return f"urn:pulumi:{stack}::"


def _rewritten(resource: Mapping[str, Any], environment: str, cell: str, project: str) -> dict[str, Any]:
    """Every URN of the environment's stack made the cell's; the root's name is the stack's too
    (``<project>-<stack>``)."""
    text = json.dumps(resource)
    text = text.replace(
        f'{_urn_prefix(environment)}{project}::{ROOT_TYPE}::{project}-{environment}"',
        f'{_urn_prefix(cell)}{project}::{ROOT_TYPE}::{project}-{cell}"',
    )
    text = text.replace(_urn_prefix(environment), _urn_prefix(cell))
    return dict(json.loads(text))


def _has_ciphertext(value: Any) -> bool:
    if isinstance(value, dict):
        return CIPHERTEXT in value or any(_has_ciphertext(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_ciphertext(v) for v in value)
    return False


def split(
    export: Mapping[str, Any],
    environment: str,
    listed: Mapping[str, Iterable[str]],
    shared_types: Iterable[str],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Per cell (``listed``: cell stack -> the environment's URNs of its top-level resources and of its
    children of the shared components), its deployment; and what stays in the environment's."""
    deployment = export.get("deployment") or {}
    if deployment.get("pending_operations"):
        raise SplitRefusedError(
            "the export has pending operations (an interrupted update): pulumi refresh the stack, then export it again"
        )
    resources: list[dict[str, Any]] = list(deployment.get("resources") or [])
    if _has_ciphertext(resources):
        raise SplitRefusedError("the export holds encrypted secrets: export it with --show-secrets (docs/runbooks.md)")
    by_urn = {r["urn"]: r for r in resources}
    project = next((r["urn"].split("::")[1] for r in resources if r["type"] == ROOT_TYPE), "")
    children: dict[str, list[str]] = {}
    for resource in resources:
        children.setdefault(resource.get("parent", ""), []).append(resource["urn"])
    shared = tuple(shared_types)
    taken: dict[str, str] = {}
    cells: dict[str, dict[str, Any]] = {}
    for cell, urns in sorted(listed.items()):
        moving: set[str] = set()
        pending = list(urns)
        while pending:
            urn = pending.pop()
            if urn not in by_urn:
                raise SplitRefusedError(f"{cell}: {urn} is not in the export (deployed at another commit?)")
            if urn in moving:
                continue
            if urn in taken:
                raise SplitRefusedError(f"{urn} would go to both {taken[urn]} and {cell}")
            taken[urn] = cell
            moving.add(urn)
            pending += children.get(urn, [])
        # Every provider the cell's resources use, copied: a top-level one stays in the environment's too
        # (a provider under a moved component, as pulumi-eks's Kubernetes provider is, moves with it).
        providers = {
            ref.rsplit("::", 1)[0]
            for urn in moving
            for ref in [by_urn[urn].get("provider", ""), *((by_urn[urn].get("providers") or {}).values())]
            if ref
        }
        shared_parents = {
            by_urn[urn]["parent"] for urn in moving if by_urn.get(by_urn[urn].get("parent", ""), {}).get("type") in shared
        }
        kept = moving | {u for u in providers if u in by_urn} | shared_parents
        kept |= {r["urn"] for r in resources if r["type"] == ROOT_TYPE}
        included: list[dict[str, Any]] = []
        for resource in resources:  # the export's order: parents and providers before their users
            if resource["urn"] not in kept:
                continue
            copied = copy.deepcopy(resource)
            if copied["type"] == ROOT_TYPE:
                copied["outputs"] = {}
            for key in ("dependencies",):
                copied[key] = [d for d in copied.get(key) or [] if d in kept]
            if copied.get("propertyDependencies"):
                copied["propertyDependencies"] = {
                    k: [d for d in v if d in kept] for k, v in copied["propertyDependencies"].items()
                }
            if copied.get("deletedWith") and copied["deletedWith"] not in kept:
                del copied["deletedWith"]
            included.append(_rewritten(copied, environment, cell, project))
        cells[cell] = {
            "version": export.get("version", 3),
            "deployment": {"manifest": deployment.get("manifest", {}), "resources": included},
        }
    rest = [copy.deepcopy(r) for r in resources if r["urn"] not in taken]
    for resource in rest:
        resource["dependencies"] = [d for d in resource.get("dependencies") or [] if d not in taken]
        if resource.get("propertyDependencies"):
            resource["propertyDependencies"] = {
                k: [d for d in v if d not in taken] for k, v in resource["propertyDependencies"].items()
            }
    remaining = {"version": export.get("version", 3), "deployment": {**deployment, "resources": rest}}
    return cells, remaining
