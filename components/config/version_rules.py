"""Rules of EKS's support calendar on a stack's versions, as of a given day (the clock is an input)."""

from __future__ import annotations

import datetime as dt

from ..aws import eks_versions
from .errors import config_path
from .model import FleetSpec


def version_warnings(spec: FleetSpec, today: dt.date) -> list[str]:
    """What each cluster's version and support type mean today (billing, EKS's own upgrade), for the operator."""
    warnings = []
    for i, cluster in enumerate(spec.clusters):
        version = spec.version_of(cluster)
        if message := eks_versions.support_warning(version, today, spec.support_of(cluster).value):
            key = ("clusters", i, "kubernetesVersion") if cluster.kubernetes_version else ("kubernetesVersion",)
            warnings.append(f"{config_path(key)} ({cluster.name}): {message}")
    return warnings


def version_problems(spec: FleetSpec, today: dt.date) -> list[str]:
    """Protected (production) clusters that EKS upgrades by itself within 30 days, or already has:
    the upgrade must be a planned campaign, and a deploy asking for the old version fails."""
    problems = []
    for i, cluster in enumerate(spec.clusters):
        version, support = spec.version_of(cluster), spec.support_of(cluster).value
        if spec.protects(cluster) and eks_versions.due_for_auto_upgrade(version, today, support):
            key = ("clusters", i, "kubernetesVersion") if cluster.kubernetes_version else ("kubernetesVersion",)
            problems.append(
                f"{config_path(key)} ({cluster.name}): EKS upgrades this protected cluster from {version} by itself on "
                f"{eks_versions.auto_upgrade_date(version, support)} ({support} support); plan the upgrade "
                f"(python -m plan <stack> --upgrade-to {eks_versions.next_minor(version)}) and deploy it first, "
                "or set supportType: EXTENDED (billed) to keep the version"
            )
    return problems
