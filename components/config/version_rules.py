"""Rules of EKS's support calendar on a stack's versions, as of a given day (the clock is an input)."""

from __future__ import annotations

import datetime as dt

from ..aws import eks_versions
from .errors import config_path
from .model import FleetSpec


def version_warnings(spec: FleetSpec, today: dt.date) -> list[str]:
    """What each cluster's version and support type mean today (billing, EKS's own upgrade), for the
    operator. Never a refusal: refusing a stack whose cluster EKS is about to upgrade (or has) would
    also refuse the campaign that upgrades it, which runs this program with the current versions."""
    warnings = []
    for i, cluster in enumerate(spec.clusters):
        version = spec.version_of(cluster)
        support = spec.support_of(cluster).value
        if message := eks_versions.support_warning(version, today, support):
            key = ("clusters", i, "kubernetesVersion") if cluster.kubernetes_version else ("kubernetesVersion",)
            # A production cluster EKS upgrades by itself soon (or already may) is the loudest line of the run.
            urgent = spec.protects(cluster) and eks_versions.due_for_auto_upgrade(version, today, support)
            warnings.append(f"{'ACTION NEEDED: ' if urgent else ''}{config_path(key)} ({cluster.name}): {message}")
    return warnings
