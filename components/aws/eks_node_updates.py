"""How EKS updates a managed node group's nodes (a new minor, node image or launch template version).

Source: EKS user guide, "Understand each phase of node updates"
(https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html), and the
EKS API reference, UpdateNodegroupConfig / NodegroupUpdateConfig
(https://docs.aws.amazon.com/eks/latest/APIReference/API_NodegroupUpdateConfig.html).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_UNAVAILABLE_QUOTA = 100
"""Setup phase: "The maximum unavailable has a quota of 100 nodes"; the percentage is 1-100 too."""

DEFAULT_MAX_UNAVAILABLE = 1
"""Setup phase: "The default value is one node"."""

SURGE_PER_ZONE = 2
"""Scale up phase: the Auto Scaling group's maximum and desired sizes grow by the larger of up to
twice the number of zones it spans and the maximum unavailable."""

POD_EVICTION_TIMEOUT_MINUTES = 15
"""Upgrade phase: a pod that has not left its node after 15 minutes fails the update with
PodEvictionFailure, unless the update was started with force."""


@dataclass(frozen=True)
class MaxUnavailable:
    """A node group's updateConfig: nodes replaced at once, as a count or as a percentage of the group."""

    count: int | None = None
    percentage: int | None = None

    def __post_init__(self) -> None:
        if (self.count is None) == (self.percentage is None):
            raise ValueError("updateConfig takes exactly one of maxUnavailable and maxUnavailablePercentage")

    def nodes(self, group_nodes: int) -> int:
        """Nodes replaced at once in a group of ``group_nodes``: a percentage rounds up, and is never 0."""
        if self.count is not None:
            return self.count
        assert self.percentage is not None
        return max(1, math.ceil(group_nodes * self.percentage / 100))

    def wire(self) -> dict[str, int]:
        """The NodegroupUpdateConfig request field (the aws provider's updateConfig input)."""
        if self.count is not None:
            return {"maxUnavailable": self.count}
        assert self.percentage is not None
        return {"maxUnavailablePercentage": self.percentage}


def update_surge(zones: int, max_unavailable_nodes: int) -> int:
    """Extra instances EKS launches while it updates a group spanning ``zones`` zones."""
    return max(SURGE_PER_ZONE * zones, max_unavailable_nodes)
