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


# A protected cluster whose automatic upgrade is this close is refused: the upgrade belongs in a
# planned campaign (python -m plan STACK --upgrade-to), not in EKS's hands.
AUTO_UPGRADE_NOTICE_DAYS = 30


def _move(version: str) -> str:
    target = next_minor(version)
    if target not in SUPPORT:
        return f"Upgrade to {target}."
    campaign = f"python -m plan <stack> --upgrade-to {target}, then python -m deploy upgrade --stack <stack> --to {target}"
    if target == NEWEST:
        return f"Upgrade to {target}: {campaign}."
    return f"Upgrade to {target} (EKS upgrades one minor version at a time), then on towards {NEWEST}: {campaign}."


def auto_upgrade_date(version: str, support_type: str) -> dt.date:
    """When EKS upgrades a cluster of ``version`` by itself: at the end of standard support under
    STANDARD, at the end of extended support under EXTENDED (EKS user guide, "Kubernetes version lifecycle")."""
    window = SUPPORT[version]
    return window.standard_until if support_type == "STANDARD" else window.extended_until


def support_warning(version: str, today: dt.date, support_type: str = "STANDARD") -> str | None:
    """What ``version`` under ``support_type`` means on ``today``, when it needs saying."""
    window = SUPPORT[version]
    upgrade = auto_upgrade_date(version, support_type)
    if today > upgrade:
        return (
            f"Kubernetes {version} left EKS {'standard' if support_type == 'STANDARD' else 'extended'} support on "
            f"{upgrade} and EKS upgrades such clusters to {next_minor(version)} by itself from then on: once it has, "
            f"the deploy refuses to ask EKS for {version} back (that is a rollback request) and names the key to set; "
            f"the campaign finishes the hop EKS began. {_move(version)}"
        )
    if support_type == "EXTENDED" and today > window.standard_until:
        return (
            f"Kubernetes {version} left EKS standard support on {window.standard_until}: every cluster-hour is "
            f"billed at the extended-support price until you upgrade; EKS upgrades it by itself on {upgrade}. "
            f"{_move(version)}"
        )
    if (upgrade - today).days <= AUTO_UPGRADE_NOTICE_DAYS:
        return f"EKS upgrades Kubernetes {version} clusters ({support_type} support) by itself on {upgrade}. {_move(version)}"
    return None


def due_for_auto_upgrade(version: str, today: dt.date, support_type: str) -> bool:
    """Whether EKS upgrades the cluster by itself within AUTO_UPGRADE_NOTICE_DAYS (or already has)."""
    return (auto_upgrade_date(version, support_type) - today).days <= AUTO_UPGRADE_NOTICE_DAYS
