"""Which IAM principals get EKS access entries, and at which level: a function of the config alone.

The stack's deployer (``fleet:deployer``) created its clusters, so EKS made the creator's admin
entry and a second one would fail with ``ResourceInUseException`` (components/aws/eks_access.py).
Every other principal of ``fleet:clusterAdmins`` and ``fleet:access`` gets one entry. Who runs the
program changes nothing here: the preflight refuses any identity but the deployer, so a second
listed principal can never delete its own entry mid-run or ask for the creator's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..aws.eks_access import POLICY_FOR, AccessLevel
from ..aws.iam_arns import principal_key, same_principal
from ..config.model import FleetSpec

__all__ = [
    "PlannedEntry",
    "access_entries",
    "access_on",
    "admins_needing_entries",
    "caller_problem",
    "entries_on",
    "principal_key",
    "same_principal",
]


@dataclass(frozen=True)
class PlannedEntry:
    """One access entry every cluster of the stack gets."""

    principal: str
    """The IAM principal ARN, as configured."""
    level: AccessLevel
    """admin, edit or view."""
    namespaces: tuple[str, ...] = ()
    """The namespaces it is scoped to; empty: the whole cluster."""
    clusters: tuple[str, ...] | None = None
    """The clusters it is on; None: every cluster of the stack."""

    def on(self, cluster: str) -> bool:
        return self.clusters is None or cluster in self.clusters

    def allows(self, level: AccessLevel, namespace: str) -> bool:
        """Whether this entry grants at least ``level`` in ``namespace``."""
        rank = [AccessLevel.VIEW, AccessLevel.EDIT, AccessLevel.ADMIN]
        scoped = not self.namespaces or namespace in self.namespaces
        return scoped and rank.index(self.level) >= rank.index(level)

    @property
    def scope(self) -> str:
        return "namespace" if self.namespaces else "cluster"

    @property
    def policy(self) -> str:
        """The EKS access policy the level maps to in this scope."""
        return POLICY_FOR[(self.level, self.scope)]


def admins_needing_entries(cluster_admins: Iterable[str], creator: str) -> list[str]:
    """fleet:clusterAdmins minus the cluster's creator, whose admin entry EKS already made; sorted, each once."""
    return sorted({arn for arn in cluster_admins if not same_principal(arn, creator)})


def access_entries(spec: FleetSpec) -> tuple[PlannedEntry, ...]:
    """Every entry the program creates on each cluster, by principal: the deployer (after a rotation),
    the cluster admins and fleet:access, never the creator. Validation keeps one entry per principal."""
    creator = spec.deployer.cluster_creator
    admins = [spec.deployer.principal, *spec.cluster_admins]
    entries = {arn: PlannedEntry(arn, AccessLevel.ADMIN) for arn in admins_needing_entries(admins, creator)}
    for access in spec.access:
        if not same_principal(access.principal, creator):
            clusters = tuple(sorted(access.clusters)) if access.clusters is not None else None
            entries[access.principal] = PlannedEntry(access.principal, access.level, tuple(sorted(access.namespaces)), clusters)
    return tuple(entries[arn] for arn in sorted(entries))


def entries_on(spec: FleetSpec, cluster: str) -> tuple[PlannedEntry, ...]:
    """The entries the program creates on one cluster."""
    return tuple(entry for entry in access_entries(spec) if entry.on(cluster))


def access_on(spec: FleetSpec, principal: str, cluster: str) -> PlannedEntry | None:
    """What ``principal`` may do on ``cluster`` of the stack ``spec`` configures: the creator's EKS-made
    admin entry, an entry of the program's, or nothing."""
    if same_principal(principal, spec.deployer.cluster_creator):
        return PlannedEntry(principal, AccessLevel.ADMIN)
    return next((e for e in entries_on(spec, cluster) if same_principal(e.principal, principal)), None)


def caller_problem(spec: FleetSpec, caller: str, stack: str) -> str | None:
    """Why ``caller`` (the running identity, for an assumed role its role) may not deploy, if it may not."""
    if same_principal(caller, spec.deployer.principal):
        return None
    return (
        f"fleet:deployer.principal: stack {stack} deploys as {spec.deployer.principal}, but this run is {caller}. "
        "Run as the deployer (every access entry is planned for it, and EKS gave the clusters' creator its own), "
        "or change deployers with the 'Rotate the deploy role' runbook (docs/runbooks.md)"
    )
