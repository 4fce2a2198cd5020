"""EKS Kubernetes versions this program supports, and where each stands in AWS's support calendar.

Dates are AWS's published end of standard support (14 months after release) and end of
extended support (a further 12 months, billed at a higher cluster-hour price).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The newest version that pulumi-eks 4.4 and the pinned add-ons support; Pulumi.yaml's
# fleet:kubernetesVersion default must equal it (tests check both).
NEWEST = "1.35"


@dataclass(frozen=True)
class SupportWindow:
    standard_until: dt.date
    extended_until: dt.date


SUPPORT: dict[str, SupportWindow] = {
    "1.31": SupportWindow(dt.date(2025, 11, 26), dt.date(2026, 11, 26)),
    "1.32": SupportWindow(dt.date(2026, 3, 23), dt.date(2027, 3, 23)),
    "1.33": SupportWindow(dt.date(2026, 7, 29), dt.date(2027, 7, 29)),
    "1.34": SupportWindow(dt.date(2026, 12, 2), dt.date(2027, 12, 2)),
    "1.35": SupportWindow(dt.date(2027, 3, 27), dt.date(2028, 3, 27)),
}


def next_minor(version: str) -> str:
    """The version to upgrade to next: EKS upgrades a control plane one minor version at a time."""
    major, minor = version.split(".")
    return f"{major}.{int(minor) + 1}"


def _move(version: str) -> str:
    target = next_minor(version)
    if target == NEWEST:
        return f"Upgrade to {target}."
    return f"Upgrade to {target} (EKS upgrades one minor version at a time), then on towards {NEWEST}."


def support_warning(version: str, today: dt.date) -> str | None:
    """A warning for the operator when ``version`` is past standard support on ``today``."""
    window = SUPPORT[version]
    if today > window.extended_until:
        return (
            f"Kubernetes {version} left EKS extended support on {window.extended_until}: "
            f"EKS will upgrade it automatically. {_move(version)}"
        )
    if today > window.standard_until:
        return (
            f"Kubernetes {version} left EKS standard support on {window.standard_until}: "
            f"every cluster-hour is billed at the extended-support price. {_move(version)}"
        )
    return None
