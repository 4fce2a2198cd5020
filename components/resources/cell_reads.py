"""What a cell needs of the other cells of its environment (planning/cells.py), read and checked before
this cell registers a cloud resource, as stack_reads.py reads other stacks.

- Peers' addresses come from AWS, not from their outputs: the Elastic IPs allocated in this account
  and region under the peer's tags (EC2 DescribeAddresses). An output can say anything; an address EC2
  lists here is this account's, and a running peer's addresses are there whether or not its cell has
  deployed since (after a move of state into cells, its outputs are empty).
- The broker's server, this member's token and CA, and the PSK come from the broker cell's
  ``clustersetBroker`` output, checked against the broker cluster as EKS describes it
  (planning/cell_trust.py).
- A member whose cluster is new waits for the broker's cell (its join comes in the join round). A
  member whose cluster runs never waits: a missing or incomplete broker output stops it, since
  building it without would delete the join it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from ..config.errors import ConfigError
from ..config.model import FleetSpec
from ..planning import cell_trust, cells
from ..planning.iam_policies import GATEWAY_DRAINING_TAG, GATEWAY_POOL_TAG
from ..planning.submariner import ClusterSet
from .stack_reads import describe_cluster, read


@dataclass(frozen=True)
class CellReads:
    """What this cell read of the other cells, after the checks."""

    cluster: str
    """This cell's cluster."""
    members: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Per other clusterset member, its addresses as EC2 lists them (gatewayIps, natIps; [] before they exist)."""
    broker: dict[str, Any] | None = None
    """The broker cell's checked clustersetBroker, for a member that is not the broker; None while it waits."""
    references: dict[str, pulumi.StackReference] = field(default_factory=dict)
    """The broker cell's reference, kept as the dependency of what is built from it."""
    waiting: tuple[str, ...] = ()
    """The cells this one waited for: their part comes in the join round."""
    peers: frozenset[str] = frozenset()
    """The other clusterset members."""

    def member_value(self, cluster: str, key: str) -> pulumi.Output[list[str]]:
        """Another member's addresses of one kind, as EC2 listed them when this program started."""
        return pulumi.Output.from_input(list((self.members.get(cluster) or {}).get(key) or []))

    def broker_value(self, pick: Any) -> pulumi.Output[Any]:
        """A checked value of the broker's export, secret, depending on its reference."""
        assert self.broker is not None
        checked = self.broker
        return pulumi.Output.secret(self.references[str(checked["cluster"])].outputs.apply(lambda _: pick(checked)))


def qualified(environment: str, cluster: str) -> str:
    """The fully qualified name of a cell of this stack's own organization and project."""
    organization = pulumi.get_organization() or "organization"
    return f"{organization}/{pulumi.get_project()}/{cells.cell_stack(environment, cluster)}"


def _addresses(provider: aws.Provider, region: str, tags: dict[str, str]) -> list[str]:
    found = aws.ec2.get_eips(
        filters=[aws.ec2.GetEipsFilterArgs(name=f"tag:{key}", values=[value]) for key, value in sorted(tags.items())],
        region=region,
        opts=pulumi.InvokeOptions(provider=provider),
    )
    return sorted(str(ip) for ip in found.public_ips)


def member_addresses(member: str, region: str, provider: aws.Provider) -> dict[str, list[str]]:
    """A member's gateway pool (active and draining) and NAT addresses as EC2 lists them in this account
    (components/resources/network.py tags them)."""
    return {
        "gatewayIps": sorted(
            set(_addresses(provider, region, {"fleet-cluster": member, GATEWAY_POOL_TAG: member}))
            | set(_addresses(provider, region, {"fleet-cluster": member, GATEWAY_DRAINING_TAG: member}))
        ),
        "natIps": _addresses(provider, region, {"fleet-cluster": member, "Name": f"{member}-network-nat-*"}),
    }


def read_cells(
    spec: FleetSpec,
    environment: str,
    cluster: str,
    clusterset: ClusterSet | None,
    provider: aws.Provider,
    running: bool,
) -> CellReads:
    """Every other cell's part this cell uses, checked; ConfigError naming each refused value. ``provider``
    reads EC2 and EKS in this cell's account (each call names its region); ``running``: this cell's
    cluster exists (DescribeCluster), so its join must not go."""
    if clusterset is None or cluster not in {m.name for m in clusterset.members}:
        return CellReads(cluster)
    regions = {c.name: c.region for c in spec.clusters}
    peers = frozenset(m.name for m in clusterset.members if m.name != cluster)
    members = {peer: member_addresses(peer, regions[peer], provider) for peer in sorted(peers)}
    # A peer with some addresses but not those it admits others by (renamed, retagged): refused, never an
    # allow list or a tunnel rule that silently loses it. With none at all its network is not created yet:
    # its addresses come with it, and this cell admits them in the next round.
    problems: list[str] = []
    for peer, found in sorted(members.items()):
        if (found["gatewayIps"] and found["natIps"]) or not _addresses(provider, regions[peer], {"fleet-cluster": peer}):
            continue
        missing = [kind for kind, ips in (("gateway pool", found["gatewayIps"]), ("NAT", found["natIps"])) if not ips]
        problems.append(
            f"{peer} has Elastic IPs in {regions[peer]} (fleet-cluster: {peer}) but EC2 lists no {' or '.join(missing)} "
            f"address of it (tags submariner-gateway-pool, Name {peer}-network-nat-*): refused, since its tunnels and "
            "calls to the broker would lose their openings"
        )
    if problems:
        raise ConfigError(problems)
    if clusterset.broker == cluster:
        return CellReads(cluster, members, peers=peers)
    broker_cell = cells.cell_stack(environment, clusterset.broker)
    reference = pulumi.StackReference(f"cell-{clusterset.broker}", stack_name=qualified(environment, clusterset.broker))
    exported = read(reference, cells.BROKER_OUTPUT)
    own = (exported.get("credentials") or {}).get(cluster) if isinstance(exported, dict) else None
    if exported is None or (isinstance(exported, dict) and own is None and isinstance(exported.get("credentials"), dict)):
        what = "exports no clustersetBroker" if exported is None else f"issues no token for {cluster} yet"
        if running:
            raise ConfigError(
                [
                    f"stack {broker_cell} {what}, and {cluster} runs (its clusterset join would be deleted without it): "
                    f"deploy {broker_cell} first (python -m deploy --stack {broker_cell} --up), then this cell"
                ]
            )
        return CellReads(cluster, members, None, {}, (broker_cell,), peers)
    region = regions[clusterset.broker]
    found_cluster, error = describe_cluster(clusterset.broker, provider, region)
    if error is not None:
        raise ConfigError(
            [
                f"cannot describe the broker's cluster {clusterset.broker} in {region} (eks:DescribeCluster), which this cell "
                f"checks {broker_cell}'s output against: {error}"
            ]
        )
    described = (
        None
        if found_cluster is None
        else {
            "endpoint": found_cluster.endpoint,
            "ca": found_cluster.certificate_authorities[0].data if found_cluster.certificate_authorities else None,
        }
    )
    if problems := cell_trust.broker_output_problems(environment, clusterset.broker, cluster, exported, described):
        raise ConfigError(problems)
    return CellReads(cluster, members, dict(exported), {clusterset.broker: reference}, (), peers)
