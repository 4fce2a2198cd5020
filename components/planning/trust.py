"""What one stack accepts from another: every value read across a stack boundary, checked against
this stack's own config (and the other stack's file in this project) before any resource is registered.

A stack's outputs are written by whoever can deploy that stack, or edit its state: another team, or
an attacker holding one environment. Nothing read from them may widen this stack's trust:

- A joining stack reads its hub's ``argocdHub`` (the Argo CD role it grants cluster-admin, the
  addresses it admits to its API endpoints) and, when peered, ``interconnectHub``. The role must be
  the hub stack's own Argo CD role in the hub's account; addresses must be single hosts or small
  prefixes, no more of them than the hub has NAT gateways.
- A hub reads each member's ``argocdRegistration``: per cluster, a server, CA and ARN, and its
  peering end. Each must be the cluster of that member's own stack file, at an EKS endpoint of its
  own region, in the member's account; no server twice across the fleet (Argo CD keys clusters by
  URL: argoproj/argo-cd ``util/settings/cluster_informer.go``, issues #9606, #15027); and server, CA
  and ARN exactly what EKS describes for that cluster in the member's account (DescribeCluster).
  Resolver addresses lie inside the member cluster's VPC, so the only names forwarded are its own
  endpoint's; a peering is accepted only as EC2 describes it: from the member's VPC and account to
  this hub's VPC range, account and region.
- The organization of every referenced stack is this stack's own unless the hub is declared external.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError
from typing import Any

from ..aws import cidr, identifiers
from ..aws.iam_arns import principal_key
from ..config.model import FleetSpec
from . import flows, naming
from .gitops import REGISTRATION_OUTPUT

# The hub exports its NAT gateways' Elastic IPs: single addresses. A prefix up to /28 (16
# addresses) is accepted for a hub egressing through its own small range; anything wider opens the
# API endpoints to addresses nobody declared (0.0.0.0/1 + 128.0.0.0/1 is the whole internet).
MIN_EGRESS_PREFIX = 28
HUB_OUTPUT = "argocdHub"
HUB_EGRESS_KEY = "egressIps"
INTERCONNECT_OUTPUT = "interconnectHub"


@dataclass(frozen=True)
class HubExpectation:
    """What this stack's config says the hub it joins must look like."""

    stack: str
    account: str | None
    partition: str
    role_name_prefix: str
    max_egress: int


def hub_role_name_prefix(reference: str) -> str:
    """The name prefix of the Argo CD role the hub stack ``reference`` (organization/project/stack) creates."""
    _, project, stack = reference.split("/")
    return naming.hub_role_name_prefix(project, stack)


def hub_account(spec: FleetSpec) -> str | None:
    """The hub's account: fleet:hub.account, else the hub stack file's (None when neither is known)."""
    if spec.hub_stack is None:
        return None
    if spec.hub_stack.account is not None:
        return spec.hub_stack.account
    return spec.joined_hub.account_id if spec.joined_hub is not None else None


def expected_hub(spec: FleetSpec) -> HubExpectation:
    assert spec.hub_stack is not None
    region = sorted(c.region for c in spec.clusters)[0]
    return HubExpectation(
        spec.hub_stack.stack,
        hub_account(spec),
        naming.partition(region),
        hub_role_name_prefix(spec.hub_stack.stack),
        flows.foreign_hub_addresses(spec),
    )


# What the DIY backends (file://, s3://) call every stack's organization (pulumi.get_organization()).
DIY_ORGANIZATION = "organization"


def reference_problems(spec: FleetSpec, organization: str, project_has: Mapping[str, bool]) -> list[str]:
    """fleet:hub and fleet:members against this stack's organization and project: a stack of another
    organization is someone else's (evilorg/fleet/mgmt), and a hub this project does not have must be
    declared external, with its account. ``project_has``: per referenced stack, whether its file is here."""
    problems: list[str] = []
    if spec.hub_stack is not None:
        reference = spec.hub_stack.stack
        if not spec.hub_stack.external:
            if reference.split("/")[0] != organization:
                problems.append(
                    f"fleet:hub.stack: {reference} is in organization {reference.split('/')[0]!r}, not this stack's "
                    f"({organization!r}); name this organization's hub, or set fleet:hub.external: true with fleet:hub.account "
                    "when the hub lives elsewhere on purpose"
                )
            elif not project_has.get(reference, False):
                problems.append(
                    f"fleet:hub.stack: {reference} is not a stack of this project (no Pulumi.{reference.rsplit('/', 1)[-1]}.yaml "
                    "beside Pulumi.yaml); fix the name, or set fleet:hub.external: true with fleet:hub.account when the hub "
                    "lives in another project on purpose"
                )
        elif spec.hub_stack.account is None:
            problems.append(
                f"fleet:hub.account: required with fleet:hub.external: the Argo CD role of {reference} is accepted only "
                "as a role of the hub's declared account"
            )
    declared, filed = (spec.hub_stack.account, spec.joined_hub) if spec.hub_stack else (None, None)
    if declared is not None and filed is not None and filed.account_id != declared:
        problems.append(
            f"fleet:hub.account: {declared}, but the hub's stack file deploys into account {filed.account_id}; "
            "they must agree (the hub's role is accepted only in its own account)"
        )
    for i, reference in enumerate(spec.members):
        if reference.split("/")[0] != organization:
            org = reference.split("/")[0]
            problems.append(f"fleet:members[{i}]: {reference} is in organization {org!r}, not this stack's ({organization!r})")
    return problems


def hub_output_problems(spec: FleetSpec, outputs: Mapping[str, Any]) -> list[str]:
    """The hub stack's outputs as this joining stack reads them, against its own config."""
    expected = expected_hub(spec)
    where = f"stack {expected.stack} output {HUB_OUTPUT}"
    hub = outputs.get(HUB_OUTPUT)
    if not isinstance(hub, Mapping):
        return [
            f"{where}: missing: {expected.stack} runs no Argo CD hub (fleet:argocd and a cluster with role: hub), or has not "
            f"deployed it yet; fleet:hub must name a stack that runs one, deployed first (python -m deploy.order)"
        ]
    problems: list[str] = []
    role = hub.get("roleArn")
    key = principal_key(role) if isinstance(role, str) else ("", "", "", "")
    name_ok = key[3].startswith(expected.role_name_prefix) and isinstance(role, str) and f":role/{key[3]}" in role
    if key[2] != "role" or key[0] != expected.partition or not name_ok:
        problems.append(
            f"{where}.roleArn: {role!r} is not the Argo CD role {expected.stack} creates "
            f"(arn:{expected.partition}:iam::<account>:role/{expected.role_name_prefix}…, no path): refused, since this "
            "stack would make it cluster-admin on every cluster"
        )
    elif expected.account is None:
        problems.append(f"{where}.roleArn: {role}: the hub's account is not known to this stack; set fleet:hub.account")
    elif key[1] != expected.account:
        problems.append(
            f"{where}.roleArn: {role} is a role of account {key[1]}, not the hub's account {expected.account} "
            "(fleet:hub.account, or the hub's stack file): refused, since this stack would make it cluster-admin on every cluster"
        )
    egress = hub.get(HUB_EGRESS_KEY)
    if not isinstance(egress, list) or not all(isinstance(e, str) for e in egress):
        problems.append(f"{where}.{HUB_EGRESS_KEY}: {egress!r} is not a list of addresses")
    else:
        for address in egress:
            if problem := _egress_problem(address):
                problems.append(f"{where}.{HUB_EGRESS_KEY}: {address!r}: {problem}")
        if len(egress) > expected.max_egress:
            problems.append(
                f"{where}.{HUB_EGRESS_KEY}: {len(egress)} entries, more than the hub's {expected.max_egress} NAT gateways "
                "can have: refused"
            )
    return problems


def _egress_problem(address: str) -> str | None:
    try:
        network = IPv4Network(address, strict=True)
    except (AddressValueError, NetmaskValueError, ValueError):
        return "not an IPv4 address or prefix"
    if network.prefixlen < MIN_EGRESS_PREFIX:
        return (
            f"a /{network.prefixlen} ({network.num_addresses} addresses): a hub egresses from NAT addresses, host routes "
            f"or prefixes of /{MIN_EGRESS_PREFIX} or longer; refused, since this stack would admit it to its API endpoints"
        )
    if cidr.is_private(network) or network.is_loopback or network.is_link_local or network.is_unspecified:
        return "not a public address: the hub reaches public API endpoints from public addresses only"
    return None


def interconnect_output_problems(spec: FleetSpec, outputs: Mapping[str, Any], hub_region: str, hub_cidr: str) -> list[str]:
    """The hub's ``interconnectHub`` output (its VPC, which this stack's clusters request peering with)."""
    stack = spec.hub_stack.stack if spec.hub_stack else "the hub"
    where = f"stack {stack} output {INTERCONNECT_OUTPUT}"
    exported = outputs.get(INTERCONNECT_OUTPUT)
    if not isinstance(exported, Mapping):
        return [f"{where}: missing: deploy {stack} with its interconnect first (python -m deploy.order)"]
    problems: list[str] = []
    if not isinstance(exported.get("vpcId"), str) or not identifiers.VPC_ID.match(exported["vpcId"]):
        problems.append(f"{where}.vpcId: {exported.get('vpcId')!r} is not a VPC id")
    if exported.get("region") != hub_region:
        problems.append(f"{where}.region: {exported.get('region')!r}, but the hub's stack file puts its hub in {hub_region}")
    if exported.get("vpcCidr") != hub_cidr:
        problems.append(f"{where}.vpcCidr: {exported.get('vpcCidr')!r}, but the hub's stack file gives its VPC {hub_cidr}")
    return problems


def registration_problems(reference: str, member: FleetSpec, exported: Any, claimed: dict[str, str], peered: bool) -> list[str]:
    """A member stack's ``argocdRegistration`` as this hub reads it, against the member's stack file.

    ``claimed``: server -> "<stack>/<cluster>" of every server registered so far (earlier members:
    the hub's own endpoints exist only as Outputs then); extended with this member's.
    """
    where = f"stack {reference} output {REGISTRATION_OUTPUT}"
    clusters = exported.get("clusters") if isinstance(exported, Mapping) else None
    if not isinstance(clusters, Mapping):
        return [f"{where}: missing: deploy {reference} first, then this stack (python -m deploy.order)"]
    problems: list[str] = []
    declared = {c.name: c for c in member.clusters}
    for name in sorted(set(clusters) - set(declared)):
        problems.append(f"{where}.clusters.{name}: {reference}'s stack file declares no cluster {name!r}: refused")
    account = member.account_id
    for name in sorted(declared):
        cluster = declared[name]
        entry = clusters.get(name)
        at = f"{where}.clusters.{name}"
        if not isinstance(entry, Mapping):
            problems.append(f"{at}: missing: deploy {reference} first, then this stack (python -m deploy.order)")
            continue
        server = entry.get("server")
        if not isinstance(server, str) or not identifiers.eks_endpoint_pattern(cluster.region).match(server):
            problems.append(
                f"{at}.server: {server!r} is not an EKS API endpoint in {cluster.region} "
                f"(https://<id>.<cell>.{cluster.region}.eks.amazonaws.com): refused"
            )
        elif server in claimed:
            problems.append(
                f"{at}.server: {server} is already registered as {claimed[server]}: refused (Argo CD keys clusters by "
                "server, so one cluster would be registered twice and get another's applications)"
            )
        else:
            claimed[server] = f"{reference.rsplit('/', 1)[-1]}/{name}"
        arn = identifiers.eks_cluster_arn(naming.partition(cluster.region), cluster.region, account, name)
        if entry.get("arn") != arn:
            problems.append(f"{at}.arn: {entry.get('arn')!r}, but {reference}'s stack file makes it {arn}: refused")
        ca = entry.get("caData")
        if not isinstance(ca, str) or not identifiers.is_pem_certificate(ca):
            problems.append(f"{at}.caData: not a base64-encoded PEM certificate: refused")
        link = entry.get("interconnect")
        if peered and link is None:
            problems.append(
                f"{at}: exports no peering for cluster {name} in {REGISTRATION_OUTPUT}: deploy {reference} first "
                "(its deploy also removes the hub-side routes and DNS rules it used to create), then this stack "
                "(python -m deploy.order)"
            )
        elif peered:
            problems += _link_problems(f"{at}.interconnect", link, IPv4Network(str(cluster.vpc_cidr)))
    return problems


@dataclass(frozen=True)
class HubEnd:
    """This hub as AWS knows it: its account, region and VPC range."""

    account: str
    region: str
    vpc_cidr: str


def described_cluster_problems(
    reference: str, member: FleetSpec, cluster: str, entry: Any, described: Mapping[str, Any] | None
) -> list[str]:
    """A member's registration of ``cluster`` against what EKS says of that cluster in the member's
    account and region (DescribeCluster): the server, CA and ARN must be that cluster's own, so a
    member can register nothing but its own cluster (not another account's, not another cluster)."""
    region = next(c.region for c in member.clusters if c.name == cluster)
    at = f"stack {reference} output {REGISTRATION_OUTPUT}.clusters.{cluster}"
    if described is None:
        return [
            f"{at}: EKS has no cluster {cluster} in account {member.account_id}, {region}: refused (deploy "
            f"{reference} first; a registration must name the member's own cluster)"
        ]
    authority = described.get("ca")
    wanted = {"server": described.get("endpoint"), "caData": authority, "arn": described.get("arn")}
    return [
        f"{at}.{key}: {entry.get(key)!r}, but EKS describes {cluster} in account {member.account_id} with {value!r}: refused"
        for key, value in wanted.items()
        if isinstance(entry, Mapping) and entry.get(key) != value
    ]


def _link_problems(at: str, link: Any, vpc: IPv4Network) -> list[str]:
    if not isinstance(link, Mapping):
        return [f"{at}: {link!r} is not a peering end"]
    problems: list[str] = []
    peering = link.get("peeringConnectionId")
    if not isinstance(peering, str) or not identifiers.PEERING_ID.match(peering):
        problems.append(f"{at}.peeringConnectionId: {peering!r} is not a VPC peering connection id: refused")
    resolvers = link.get("resolverIps") or []
    if not isinstance(resolvers, list):
        return [*problems, f"{at}.resolverIps: {resolvers!r} is not a list"]
    for ip in resolvers:
        try:
            inside = IPv4Address(str(ip)) in vpc
        except AddressValueError:
            inside = False
        if not inside:
            problems.append(
                f"{at}.resolverIps: {ip!r} is not in the member cluster's VPC ({vpc}): refused (the hub would send its "
                "queries for the member's endpoint name there)"
            )
    return problems


def peering_problems(reference: str, cluster: str, member: FleetSpec, hub: HubEnd, described: Mapping[str, Any]) -> list[str]:
    """A peering request as AWS describes it (DescribeVpcPeeringConnections), before the hub accepts it:
    from the member cluster's own VPC (its range, region and account) to this hub's VPC (its range),
    account and region."""
    spec = next(c for c in member.clusters if c.name == cluster)
    at = f"stack {reference} output {REGISTRATION_OUTPUT}.clusters.{cluster}.interconnect.peeringConnectionId"
    expected = {
        "ownerId": member.account_id,
        "cidrBlock": str(spec.vpc_cidr),
        "requesterRegion": spec.region,
        "peerOwnerId": hub.account,
        "peerRegion": hub.region,
        "peerCidrBlock": hub.vpc_cidr,
    }
    wrong = {k: described.get(k) for k, v in expected.items() if described.get(k) != v}
    if not wrong:
        return []
    found = ", ".join(f"{k} {v!r} (expected {expected[k]!r})" for k, v in sorted(wrong.items()))
    return [f"{at}: {described.get('id')!r} is not a request from {cluster}'s VPC to this hub: {found}; refused"]
