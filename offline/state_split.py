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

Each cell's deployment keeps the export's ``secrets_providers``: without one, ``pulumi stack import`` has
no secrets manager to write the cell's secrets with and panics ("attempt to encrypt value",
pulumi/pulumi#3654; deployment.go, initializeSecretsManager). It is the environment's, which the cells
run with anyway (their config file is the environment's, docs/cells.md). Secrets must be exported in the
clear (``--show-secrets``), so nothing depends on a ciphertext decrypting under another stack's salt:
write the files somewhere private and delete them after the import.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.planning.gitops import REGISTRATION_OUTPUT

ROOT_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
"""Pulumi's wire signature of a secret value (sdk/go/common/resource/sig): ``{sig: ..., ciphertext|plaintext}``."""


class SplitRefusedError(ValueError):
    """An export this transform will not split, with why."""


def _urn_prefix(stack: str, project: str) -> str:
    """This project's URNs of ``stack`` only (another project's stack of the same name is another)."""
    return f"urn:pulumi:{stack}::{project}::"


def _rewritten(resource: Mapping[str, Any], environment: str, cell: str, project: str) -> dict[str, Any]:
    """Every URN of the environment's stack made the cell's; the root's name is the stack's too
    (``<project>-<stack>``)."""
    text = json.dumps(resource)
    text = text.replace(
        f"{_urn_prefix(environment, project)}{ROOT_TYPE}::{project}-{environment}",
        f"{_urn_prefix(cell, project)}{ROOT_TYPE}::{project}-{cell}",
    )
    text = text.replace(_urn_prefix(environment, project), _urn_prefix(cell, project))
    return dict(json.loads(text))


def _has_ciphertext(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            return "ciphertext" in value
        return any(_has_ciphertext(v) for v in value.values())
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
                copied["outputs"] = _own_outputs(copied.get("outputs") or {}, cell)
            _keep_references(copied, kept.__contains__)
            included.append(_rewritten(copied, environment, cell, project))
        cells[cell] = {
            **({"features": export["features"]} if "features" in export else {}),
            "version": export.get("version", 3),
            "deployment": {**deployment, "resources": included, "pending_operations": []},
        }
    rest = [copy.deepcopy(r) for r in resources if r["urn"] not in taken]
    for resource in rest:
        _keep_references(resource, lambda d: d not in taken)
        if resource["type"] == ROOT_TYPE:
            resource["outputs"] = {}  # what it exported is the cells' now (their own outputs)
    remaining = {
        **({"features": export["features"]} if "features" in export else {}),
        "version": export.get("version", 3),
        "deployment": {**deployment, "resources": rest},
    }
    return cells, remaining


def _own_outputs(outputs: Mapping[str, Any], cell: str) -> dict[str, Any]:
    """A cell's root outputs right after the import: its own cluster's registration for the hub stack, as
    the environment exported it. A cell exports its outputs only once its own up succeeds; until then
    the hub would read nothing and drop the cluster from Argo CD (stack_reads.py)."""
    cluster = cell.split(".", 1)[1]
    registration = outputs.get(REGISTRATION_OUTPUT)
    if not isinstance(registration, Mapping):
        return {}
    clusters = registration.get("clusters")
    if not isinstance(clusters, Mapping) or cluster not in clusters:
        return {}
    return {REGISTRATION_OUTPUT: {**registration, "clusters": {cluster: clusters[cluster]}}}


def _keep_references(resource: dict[str, Any], keep: Any) -> None:
    """Drop the references to resources that went elsewhere: dependencies of every kind (the engine's
    integrity check refuses one to a resource the snapshot lacks, snapshot.go VerifyIntegrity)."""
    resource["dependencies"] = [d for d in resource.get("dependencies") or [] if keep(d)]
    if resource.get("propertyDependencies"):
        resource["propertyDependencies"] = {k: [d for d in v if keep(d)] for k, v in resource["propertyDependencies"].items()}
    for key in ("deletedWith", "replaceWith"):
        value = resource.get(key)
        if isinstance(value, str) and value and not keep(value):
            del resource[key]
        elif isinstance(value, list):
            resource[key] = [d for d in value if keep(d)]
