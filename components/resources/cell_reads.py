"""The other cells' outputs a cell needs (planning/cells.py), read and checked (planning/cell_trust.py)
before this cell registers a cloud resource, as stack_reads.py reads other stacks.

A cell that has not deployed yet exports nothing: its peers go without its part until the join round
(``python -m deploy.order``), and say so. A cell that exports something wrong stops this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config.errors import ConfigError
from ..config.model import FleetSpec
from ..planning import cell_trust, cells
from ..planning.submariner import ClusterSet
from .stack_reads import describe_cluster, read


@dataclass(frozen=True)
class CellReads:
    """What this cell read from the other cells of its environment, after the checks."""

    cluster: str
    """This cell's cluster."""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per other clusterset member that has deployed, its checked clustersetMember."""
    broker: dict[str, Any] | None = None
    """The broker cell's checked clustersetBroker, for a member that is not the broker; None before it deploys."""
    references: dict[str, pulumi.StackReference] = field(default_factory=dict)
    """Per cluster read, its reference: kept as the dependency of what is built from it."""
    waiting: tuple[str, ...] = ()
    """The cells this one waited for: not deployed yet, so their part comes in the join round."""
    peers: frozenset[str] = frozenset()
    """The other clusterset members (read or waited for)."""

    def member_value(self, cluster: str, key: str) -> pulumi.Output[list[str]]:
        """A checked address list of another member ([] until it deploys), depending on its reference."""
        values = list((self.members.get(cluster) or {}).get(key) or [])
        reference = self.references.get(cluster)
        return reference.outputs.apply(lambda _: values) if reference is not None else pulumi.Output.from_input(values)

    def broker_value(self, pick: Any) -> pulumi.Output[Any]:
        """A checked value of the broker's export, secret, depending on its reference."""
        assert self.broker is not None
        checked = self.broker
        return pulumi.Output.secret(self.references[str(checked["cluster"])].outputs.apply(lambda _: pick(checked)))


def qualified(environment: str, cluster: str) -> str:
    """The fully qualified name of a cell of this stack's own organization and project."""
    organization = pulumi.get_organization() or "organization"
    return f"{organization}/{pulumi.get_project()}/{cells.cell_stack(environment, cluster)}"


def read_cells(
    spec: FleetSpec, environment: str, cluster: str, clusterset: ClusterSet | None, provider: aws.Provider
) -> CellReads:
    """Every other cell's output this cell uses, checked; ConfigError naming each refused value.
    ``provider`` reads EKS in this cell's account (the broker's cluster, described in its region)."""
    if clusterset is None or cluster not in {m.name for m in clusterset.members}:
        return CellReads(cluster)
    references: dict[str, pulumi.StackReference] = {}
    members: dict[str, dict[str, Any]] = {}
    waiting: list[str] = []
    problems: list[str] = []
    for member in clusterset.members:
        if member.name == cluster:
            continue
        reference = references[member.name] = pulumi.StackReference(
            f"cell-{member.name}", stack_name=qualified(environment, member.name)
        )
        exported = read(reference, cells.MEMBER_OUTPUT)
        if exported is None:
            waiting.append(cells.cell_stack(environment, member.name))
            continue
        found = cell_trust.member_output_problems(environment, spec, clusterset, member.name, exported)
        problems += found
        if not found:
            members[member.name] = dict(exported)
    broker: dict[str, Any] | None = None
    if clusterset.broker != cluster:
        exported = read(references[clusterset.broker], cells.BROKER_OUTPUT)
        if exported is None:
            waiting.append(cells.cell_stack(environment, clusterset.broker))
        else:
            region = next(c.region for c in spec.clusters if c.name == clusterset.broker)
            found_cluster, error = describe_cluster(clusterset.broker, provider, region)
            if error is not None:
                problems.append(
                    f"cannot describe the broker's cluster {clusterset.broker} in {region} (eks:DescribeCluster), "
                    f"which this cell checks the broker's output against: {error}"
                )
            else:
                described = (
                    None
                    if found_cluster is None
                    else {
                        "endpoint": found_cluster.endpoint,
                        "ca": found_cluster.certificate_authorities[0].data if found_cluster.certificate_authorities else None,
                    }
                )
                found = cell_trust.broker_output_problems(environment, clusterset.broker, cluster, exported, described)
                problems += found
                if not found:
                    broker = dict(exported)
    if problems:
        raise ConfigError(problems)
    return CellReads(cluster, members, broker, references, tuple(sorted(set(waiting))), frozenset(references))
