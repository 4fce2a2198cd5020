"""Kubeconfig assembly: one context per cluster, authenticated by ``aws eks get-token``.

The text is built from the cluster's endpoint and CA only, so it stays byte-identical across
deploys: a Kubernetes provider built from it is not replaced (and everything on it with it)
when pulumi-eks changes the kubeconfig it renders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


@dataclass(frozen=True)
class ClusterAccess:
    """What a kubeconfig context needs to reach and authenticate to one EKS cluster."""

    name: str
    region: str
    server: str
    certificate_authority_data: str
    profile: str | None = None
    role_arn: str | None = None


def endpoint_from_eks_kubeconfig(kubeconfig_json: str) -> tuple[str, str]:
    """(server, certificate-authority-data) from the kubeconfig JSON pulumi-eks renders."""
    document = json.loads(kubeconfig_json)
    cluster = document["clusters"][0]["cluster"]
    return cluster["server"], cluster["certificate-authority-data"]


def _user(access: ClusterAccess) -> dict[str, Any]:
    # --region is explicit so a context never follows the caller's default region (pulumi-eks#1038).
    args = ["--region", access.region, "eks", "get-token", "--cluster-name", access.name, "--output", "json"]
    if access.role_arn:
        args += ["--role-arn", access.role_arn]
    exec_config: dict[str, Any] = {
        "apiVersion": EXEC_API_VERSION,
        "command": "aws",
        "args": args,
        "interactiveMode": "Never",
    }
    if access.profile:
        exec_config["env"] = [{"name": "AWS_PROFILE", "value": access.profile}]
    return {"exec": exec_config}


def build(clusters: Sequence[ClusterAccess], current: str | None = None, prefix: str = "") -> dict[str, Any]:
    """A kubeconfig document with one cluster, user and context per entry, sorted by name.

    ``prefix`` goes before every cluster, user and context name (``prod-mgmt``), so merging into a
    kubeconfig that already has a ``mgmt`` entry keeps both. ``current`` is an unprefixed cluster name.
    """
    ordered = sorted(clusters, key=lambda c: c.name)
    names = [c.name for c in ordered]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate cluster names in kubeconfig: {names}")
    if current is None and ordered:
        current = ordered[0].name
    if current is not None and current not in names:
        raise ValueError(f"current context {current!r} is not one of {names}")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": prefix + c.name, "cluster": {"server": c.server, "certificate-authority-data": c.certificate_authority_data}}
            for c in ordered
        ],
        "users": [{"name": prefix + c.name, "user": _user(c)} for c in ordered],
        "contexts": [
            {"name": prefix + c.name, "context": {"cluster": prefix + c.name, "user": prefix + c.name}} for c in ordered
        ],
        "current-context": prefix + current if current else "",
        "preferences": {},
    }


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


HUB_EXTENSION = "fleet"


def merge(documents: dict[str, dict[str, Any]], hubs: dict[str, str]) -> dict[str, Any]:
    """One kubeconfig of several stacks' (stack -> document): every cluster, user and context under its
    own name, the hub's context marked (a ``fleet`` extension: stack and role, which kubectl keeps
    and ignores) and current. ``hubs``: stack -> the name of its hub cluster's context.

    Two stacks with one context name would overwrite each other in any kubeconfig: ValueError naming
    both (give one stack fleet:kubeconfig.contextPrefix)."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    owner: dict[str, str] = {}
    current = ""
    for stack, document in sorted(documents.items()):
        for context in document.get("contexts", []):
            name = context["name"]
            if name in owner:
                raise ValueError(
                    f"context {name!r} is in stacks {owner[name]} and {stack}: set fleet:kubeconfig.contextPrefix in one of them"
                )
            owner[name] = stack
            role = "hub" if hubs.get(stack) == name else "member"
            marked = {**context["context"], "extensions": [{"name": HUB_EXTENSION, "extension": {"stack": stack, "role": role}}]}
            merged["contexts"].append({"name": name, "context": marked})
            if role == "hub":
                current = name
        merged["clusters"] += document.get("clusters", [])
        merged["users"] += document.get("users", [])
    for key in ("clusters", "users", "contexts"):
        merged[key].sort(key=lambda entry: entry["name"])
    merged["current-context"] = current or (merged["contexts"][0]["name"] if merged["contexts"] else "")
    merged["preferences"] = {}
    return merged
