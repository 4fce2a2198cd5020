"""How a Kubernetes upgrade moves through the fleet (fleet:upgrades): ordered waves of clusters."""

from __future__ import annotations

from pydantic import Field, model_validator

from .types import (
    DnsLabel,
    LabelMap,
    Model,
)


class WaveSpec(Model):
    """One wave of an upgrade campaign: the clusters it moves, by name or by labels."""

    name: DnsLabel | None = None
    """Shown in the campaign; defaults to wave-<n>."""
    clusters: list[DnsLabel] | None = None
    """Clusters of this stack, or of a stack joining its hub, by name."""
    selector: LabelMap | None = None
    """Every cluster whose labels include all of these."""

    @model_validator(mode="after")
    def _one_way(self) -> WaveSpec:
        if (self.clusters is None) == (self.selector is None):
            raise ValueError("a wave names its clusters or selects them by labels: set exactly one of clusters, selector")
        return self


class UpgradesSpec(Model):
    waves: list[WaveSpec] = Field(default_factory=list)
    """Ordered waves; unset: joining stacks' clusters, then this stack's members, then its hub."""
