"""Pulumi mocks that answer like AWS: plausible outputs, and AWS's refusals where the program could
walk into one (zones EKS refuses, the creator's access entry, overlapping peerings, duplicate routes).
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import json
from ipaddress import IPv4Network
from typing import Any

import pulumi

from components.aws.regions import ZONE_IDS

from .recording import RecordingMonitor, Registration

ACCOUNT = "123456789012"


def _fake_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


# Zone IDs per region, as AWS lists them; names map onto them differently in every account, which
# the mocks imitate by pairing names and IDs in an account-specific order (see _zone_names).
# EKS answers UnsupportedAvailabilityZoneException for cluster subnets in these zone IDs.
EKS_REFUSED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
# The deploying identity the mocks report: a CI role, as docs/ci.md's setup uses.
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy"
DEPLOYER_SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/fleet-deploy/ci-session"


def role_of(arn: str) -> str:
    """The IAM principal of a caller ARN: for an assumed role's session, the role."""
    if ":assumed-role/" in arn:
        return f"arn:aws:iam::{arn.split(':')[4]}:role/{arn.split('/')[1]}"
    return arn


def zone_table(region: str, count: int | None = None) -> list[tuple[str, str]]:
    """(name, zone ID) pairs of a region in the mocked account: names are letters in order, IDs are
    rotated by an account- and region-specific offset, so a zone's name says nothing about its ID."""
    ids = ZONE_IDS[region]
    ids = ids[: count if count is not None else len(ids)]
    # This account happens to call a zone EKS refuses by its region's first letter: a program that
    # picks zones by name walks straight into it.
    refused = [i for i, zone_id in enumerate(ids) if zone_id in EKS_REFUSED_ZONE_IDS]
    offset = refused[0] if refused else int(hashlib.sha256(f"{ACCOUNT}/{region}".encode()).hexdigest(), 16) % len(ids)
    rotated = ids[offset:] + ids[:offset]
    return [(f"{region}{'abcdef'[i]}", zone_id) for i, zone_id in enumerate(rotated)]


class UnsupportedAvailabilityZoneError(Exception):
    """What EKS answers for a cluster subnet in a zone it does not support."""


class ResourceInUseError(Exception):
    """What EKS answers when an access entry already exists for a principal."""


class UnknownStackError(Exception):
    """What a StackReference to a stack the backend does not have fails the program with."""


class PeeringRefusedError(Exception):
    """What EC2 answers for a peering connection between VPCs whose ranges overlap."""


class RouteAlreadyExistsError(Exception):
    """What EC2 answers for a second route to the same destination in one route table."""


class DuplicateSubnetsInSameZoneError(Exception):
    """What EC2 answers for a transit gateway attachment given two subnets of one AZ."""


# The real canonical hosted zone ids of network (not application) load balancers.
NLB_ZONE_IDS = {
    "us-east-1": "Z26RNL4JYFTOTI",
    "us-east-2": "ZLMOA37VPKANP",
    "us-west-1": "Z24FKFUX50B4VW",
    "us-west-2": "Z18D5FSROUN65G",
    "eu-west-1": "Z2IFOLAFXWLO4F",
    "eu-central-1": "Z3F0SRJ5LGBH90",
    "ap-southeast-1": "ZKVM4W9LS7TM",
    "ap-southeast-2": "ZCT6FZBF4DROD",
    "ap-northeast-1": "Z31USIVHYNEOWT",
}
HOSTED_ZONE_ID = "Z0FLEETEXAMPLE1"

FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n").decode()


# Ids shaped as AWS's, for the types whose ids another stack reads and checks.
AWS_ID_PREFIXES = {"aws:ec2/vpc:Vpc": "vpc", "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx"}
# Every peering connection any run created, as DescribeVpcPeeringConnections reports it: the hub's
# run describes what a member's run requested (AWS is one world for every stack).
PEERINGS: dict[str, dict[str, Any]] = {}
# Every VPC's range by id, and every EKS cluster by (account, region, name) as DescribeCluster reports
# it: what another stack's run reads of them.
VPC_RANGES: dict[str, str] = {}
EKS_CLUSTERS: dict[tuple[str, str, str], dict[str, Any]] = {}
Addresses = dict[tuple[str, str, str], dict[str, str]]
"""Elastic IPs by (account, region, public IP): their tags (what EC2 DescribeAddresses filters on)."""


def eks_id(name: str, region: str) -> str:
    """A cluster's endpoint and OIDC id: 32 upper-case hex digits (components/aws/identifiers.py)."""
    return hashlib.sha256(f"{name}/{region}".encode()).hexdigest()[:32].upper()


def eks_endpoint(name: str, region: str) -> str:
    return f"https://{eks_id(name, region)}.gr7.{region}.eks.amazonaws.com"


# A running cluster's tags unless a test says otherwise: the mode the shipped stacks deploy with.
RUNNING_TAGS = {"fleet-workload-identity": "podIdentity"}


def eks_description(
    account: str, region: str, name: str, endpoint: str, ca: str, tags: dict[str, str] | None = None
) -> dict[str, Any]:
    """The fields of pulumi-aws eks.get_cluster the program reads (EKS DescribeCluster: arn, endpoint,
    certificateAuthority, tags)."""
    arn = f"arn:aws:eks:{region}:{account}:cluster/{name}"
    return {
        "arn": arn,
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "certificateAuthorities": [{"data": ca}],
        "status": "ACTIVE",
        "tags": dict(tags or {}),
    }


def peering_description(
    peering_id: str, owner: str, cidr: str, region: str, peer_owner: str, peer_region: str, peer_vpc: str, peer_cidr: str
) -> dict[str, Any]:
    """The data source's fields (pulumi-aws ec2.get_vpc_peering_connection): unprefixed for the
    requester, peer_ for the accepter."""
    return {
        "id": peering_id,
        "ownerId": owner,
        "cidrBlock": cidr,
        "requesterRegion": region,
        "region": region,
        "peerOwnerId": peer_owner,
        "peerRegion": peer_region,
        "peerVpcId": peer_vpc,
        "peerCidrBlock": peer_cidr,
        "status": "pending-acceptance",
    }


class FleetMocks(pulumi.runtime.Mocks):
    """Plausible outputs for the resources and invokes the fleet program reads."""

    monitor: RecordingMonitor

    def __init__(
        self,
        zones_per_region: dict[str, int] | None = None,
        stack_outputs: dict[str, dict[str, Any]] | None = None,
        caller_arn: str = DEPLOYER_SESSION_ARN,
        creator_arn: str | None = None,
        creators: dict[str, str] | None = None,
        running: dict[str, str] | None = None,
        describe_errors: dict[str, str] | None = None,
        running_tags: dict[str, dict[str, str]] | None = None,
        addresses: Addresses | None = None,
    ) -> None:
        # The account's Elastic IPs: this run's, or those of the runs a caller shares them across (the
        # cells of one environment, offline/cells.py).
        self.addresses: Addresses = addresses if addresses is not None else {}
        self.zones_per_region = zones_per_region or {}
        # The tags a running cluster carries (DescribeCluster): by default the workload identity mode the
        # shipped stacks run (planning/workload_identity.py); a test of an older cluster gives its own.
        self.running_tags = running_tags or {}
        # What EKS answers DescribeCluster for a cluster instead of describing it (e.g. AccessDenied).
        self.describe_errors = describe_errors or {}
        # The stack's clusters that already run, by name, at their control plane's Kubernetes version
        # (a second deploy, or one after EKS's automatic upgrade); none for a first deploy.
        self.running = running or {}
        # Outputs of other stacks, by fully qualified name, for StackReferences.
        self.stack_outputs = stack_outputs or {}
        self.caller_arn = caller_arn
        # Who created the clusters (EKS made its entry): the caller, unless a test replays a later run.
        self.creator_arn = creator_arn or caller_arn
        # Per cluster name, who created it when that is not creator_arn (a rotation, then new clusters).
        self.creators = creators or {}

    @property
    def deployer(self) -> str:
        """The principal EKS gave its creator entry to: for an assumed role, the role."""
        return role_of(self.creator_arn)

    def _refuse_unsupported_zones(self, subnet_ids: list[str], region: str) -> None:
        names = dict(zone_table(region))
        with self.monitor.lock:
            subnets = [r for r in self.monitor.registrations.values() if r.type == "aws:ec2/subnet:Subnet" and r.id in subnet_ids]
        for subnet in subnets:
            zone_id = subnet.inputs.get("availabilityZoneId") or names.get(str(subnet.inputs.get("availabilityZone")))
            if zone_id in EKS_REFUSED_ZONE_IDS:
                raise UnsupportedAvailabilityZoneError(
                    f"UnsupportedAvailabilityZoneException: Cannot create cluster because {region} zone {zone_id} "
                    f"(subnet {subnet.name}) does not currently have sufficient capacity to support the cluster"
                )

    def _refuse_creator_entry(self, principals: list[str], cluster: str) -> None:
        # EKS already made an admin entry for the creator (bootstrapClusterCreatorAdminPermissions).
        creator = role_of(self.creators[cluster]) if cluster in self.creators else self.deployer
        role = creator.split("/")[-1]
        for principal in principals:
            if principal.split("/")[-1] == role and principal.split(":")[4] == creator.split(":")[4]:
                raise ResourceInUseError(
                    f"ResourceInUseException: The specified access entry resource is already in use on this cluster ({principal})"
                )

    def _registered(self, type_token: str) -> list[Registration]:
        with self.monitor.lock:
            return [r for r in self.monitor.registrations.values() if r.type == type_token]

    def _refuse_overlapping_peering(self, state: dict[str, Any]) -> None:
        vpcs = {r.id: r for r in self._registered("aws:ec2/vpc:Vpc")}
        ours, theirs = vpcs.get(str(state.get("vpcId"))), vpcs.get(str(state.get("peerVpcId")))
        if ours is not None and theirs is not None:
            a, b = IPv4Network(ours.inputs["cidrBlock"]), IPv4Network(theirs.inputs["cidrBlock"])
            if a.overlaps(b):
                raise PeeringRefusedError(
                    f"InvalidParameterValue: overlapping CIDR range ({ours.name} {a}, {theirs.name} {b}): "
                    "cannot create a VPC peering connection between them"
                )

    def _record_peering(self, peering_id: str, state: dict[str, Any], region: str) -> None:
        """What DescribeVpcPeeringConnections will say of it, to any stack (AWS is one world)."""
        vpcs = {r.id: r for r in self._registered("aws:ec2/vpc:Vpc")}
        ours = vpcs.get(str(state.get("vpcId")))
        owner = self.account()
        peer_vpc = str(state.get("peerVpcId") or "")
        PEERINGS[peering_id] = peering_description(
            peering_id,
            owner,
            str(ours.inputs["cidrBlock"]) if ours is not None else "",
            region,
            str(state.get("peerOwnerId") or owner),
            str(state.get("peerRegion") or region),
            peer_vpc,
            VPC_RANGES.get(peer_vpc, ""),
        )

    def account(self, provider: str | None = None) -> str:
        """The account a call acts in: its provider's (the request's, unless named), else the caller's."""
        if provider is None:
            request = getattr(self.monitor.local, "request", None)
            provider = dict(request.providers).get("aws", "") if request is not None else ""
        return self.monitor.account_of_provider(provider) or role_of(self.caller_arn).split(":")[4]

    def _refuse_duplicate_route(self, state: dict[str, Any], name: str) -> None:
        table, destination = state.get("routeTableId"), state.get("destinationCidrBlock")
        for route in self._registered("aws:ec2/route:Route"):
            if route.inputs.get("routeTableId") == table and route.inputs.get("destinationCidrBlock") == destination:
                raise RouteAlreadyExistsError(
                    f"RouteAlreadyExists: the route table {table} already has a route to {destination} "
                    f"({route.name}; refused {name})"
                )

    def _refuse_two_subnets_per_zone(self, state: dict[str, Any], name: str) -> None:
        subnets = {r.id: r for r in self._registered("aws:ec2/subnet:Subnet")}
        zones = [subnets[s].inputs.get("availabilityZoneId") for s in state.get("subnetIds") or [] if s in subnets]
        if len(zones) != len(set(zones)):
            raise DuplicateSubnetsInSameZoneError(f"DuplicateSubnetsInSameZone: {name} names two subnets in one zone ({zones})")

    def _resolver_addresses(self, state: dict[str, Any]) -> None:
        subnets = {r.id: r for r in self._registered("aws:ec2/subnet:Subnet")}
        for index, address in enumerate(state.get("ipAddresses") or []):
            subnet = subnets.get(str(address.get("subnetId")))
            if subnet is not None and not address.get("ip"):
                # AWS takes a free address from the subnet; the first four are reserved.
                address["ip"] = str(IPv4Network(subnet.inputs["cidrBlock"]).network_address + 10 + index)

    def _region(self, args: pulumi.runtime.MockResourceArgs) -> str:
        if region := args.inputs.get("region"):
            return str(region)  # pulumi-aws v7: a resource may name its region instead of its provider's
        request = getattr(self.monitor.local, "request", None)
        reference = args.provider or (dict(request.providers).get("aws", "") if request is not None else "")
        return self.monitor.region_of_provider(reference) or "us-east-1"

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.monitor.local.transforms = list(args.transforms)
        state = copy.deepcopy(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "aws:eks/accessEntry:AccessEntry":
            self._refuse_creator_entry([str(state.get("principalArn", ""))], str(state.get("clusterName", "")))
        if args.typ == "eks:index:Cluster":
            entries = state.get("accessEntries") or {}
            self._refuse_creator_entry(
                [str(entry.get("principalArn", "")) for entry in entries.values()], str(state.get("name", args.name))
            )
            self._refuse_unsupported_zones(
                [*state.get("privateSubnetIds", []), *state.get("publicSubnetIds", [])], self._region(args)
            )
            region = self._region(args)
            name = state.get("name", args.name)
            # EKS's endpoint and OIDC ids are 32 upper-case hex digits (components/aws/identifiers.py).
            oidc_id = eks_id(str(name), region)
            server = eks_endpoint(str(name), region)
            state.update(
                kubeconfigJson=json.dumps(
                    {
                        "apiVersion": "v1",
                        "kind": "Config",
                        "clusters": [
                            {"name": "kubernetes", "cluster": {"server": server, "certificate-authority-data": FAKE_CA}}
                        ],
                        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
                        "users": [{"name": "aws", "user": {"exec": {"command": "aws"}}}],
                        "current-context": "aws",
                    }
                ),
                oidcProviderArn=f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.{region}.amazonaws.com/id/{oidc_id}",
                oidcProviderUrl=f"oidc.eks.{region}.amazonaws.com/id/{oidc_id}",
                oidcIssuer=f"https://oidc.eks.{region}.amazonaws.com/id/{oidc_id}",
                clusterSecurityGroupId=f"sg-{_fake_id(name, 'cluster')}",
                nodeSecurityGroupId=f"sg-{_fake_id(name, 'node')}",
            )
            EKS_CLUSTERS[(self.account(), region, str(name))] = eks_description(
                self.account(),
                region,
                str(name),
                server,
                FAKE_CA,
                {**(state.get("tags") or {}), **(state.get("clusterTags") or {})},
            )
        elif args.typ == "kubernetes:core/v1:Secret" and state.get("type") == "kubernetes.io/service-account-token":
            # What the token controller fills in (pulumi-kubernetes waits for it).
            account = state["metadata"]["annotations"]["kubernetes.io/service-account.name"]
            token = f"eyJhbGciOiJSUzI1NiJ9.{account}.signature"
            state["data"] = {"token": base64.b64encode(token.encode()).decode(), "ca.crt": FAKE_CA}
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "P" * int(state["length"])
            state["bcryptHash"] = "$2a$10$" + _fake_id(args.name) * 3
        elif args.typ == "pulumi:pulumi:StackReference":
            name = str(state.get("name"))
            if name not in self.stack_outputs:
                # The engine fails the program for a stack the backend does not have (pkg/backend
                # GetStackOutputs); a stack that exists with no checkpoint reads as no outputs.
                raise UnknownStackError(f'unknown stack "{name}"')
            state["outputs"] = self.stack_outputs[name]
        elif args.typ.startswith("aws:"):
            region = self._region(args)
            resource_id = f"{args.typ.split('/')[-1].split(':')[0].lower()}-{_fake_id(args.name)}"
            if args.typ in AWS_ID_PREFIXES:
                # Ids other stacks read and check (components/aws/identifiers.py): shaped as AWS's.
                resource_id = f"{AWS_ID_PREFIXES[args.typ]}-{_fake_id(args.name)}"
            service = args.typ.split(":")[1].split("/")[0]
            state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT}:{args.name}")
            if args.typ == "aws:lb/loadBalancer:LoadBalancer":
                state["dnsName"] = f"{args.name}-{_fake_id(args.name)[:10]}.elb.{region}.amazonaws.com"
            if args.typ in ("aws:lb/targetGroup:TargetGroup", "aws:lb/loadBalancer:LoadBalancer"):
                kind = "targetgroup" if "targetGroup" in args.typ else "loadbalancer/net"
                state["arn"] = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:{kind}/{args.name}/{_fake_id(args.name)}"
            if args.typ == "aws:ec2/eip:Eip":
                digest = hashlib.sha256(args.name.encode()).digest()
                state["publicIp"] = f"198.51.{digest[0]}.{digest[1] or 1}"
                # What EC2 DescribeAddresses lists in this account and region from now on.
                self.addresses[(self.account(), region, state["publicIp"])] = dict(state.get("tags") or {})
            if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
                state["latestVersion"] = 1
            if args.typ == "aws:ec2/vpc:Vpc":
                VPC_RANGES[resource_id] = str(state.get("cidrBlock"))
            if args.typ == "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
                self._refuse_overlapping_peering(state)
                self._record_peering(resource_id, state, region)
            if args.typ == "aws:ec2/route:Route":
                self._refuse_duplicate_route(state, args.name)
            if args.typ == "aws:route53/resolverEndpoint:ResolverEndpoint":
                self._resolver_addresses(state)
            if args.typ == "aws:ec2transitgateway/transitGateway:TransitGateway":
                route_table = f"tgw-rtb-{_fake_id(args.name)}"
                state.update(associationDefaultRouteTableId=route_table, propagationDefaultRouteTableId=route_table)
            if args.typ == "aws:ec2transitgateway/vpcAttachment:VpcAttachment":
                self._refuse_two_subnets_per_zone(state, args.name)
            if args.typ == "aws:iam/role:Role":
                # name_prefix: AWS's provider appends 26 characters (a timestamp and a counter).
                state.setdefault(
                    "name", f"{state['namePrefix']}20261207000000000000000001" if state.get("namePrefix") else args.name
                )
                state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{state['name']}"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            region = self.monitor.region_of_provider(args.provider) or "us-east-1"
            excluded = set(args.args.get("excludeZoneIds") or [])
            pairs = [(n, z) for n, z in zone_table(region, self.zones_per_region.get(region)) if z not in excluded]
            # AWS lists zones in no promised order.
            pairs.reverse()
            return {"id": region, "names": [n for n, _ in pairs], "zoneIds": [z for _, z in pairs]}, []
        if args.token == "aws:iam/getSessionContext:getSessionContext":
            arn = str(args.args["arn"])
            issuer = role_of(arn)
            return {"arn": arn, "issuerArn": issuer, "issuerId": "AROAFLEET", "issuerName": issuer.split("/")[-1], "id": arn}, []
        if args.token == "aws:lb/getHostedZoneId:getHostedZoneId":
            region = str(args.args.get("region"))
            # The real id where we know it; a stable stand-in for other regions (offline only).
            return {"id": NLB_ZONE_IDS.get(region) or "Z" + _fake_id("nlb", region)[:13].upper()}, []
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            # EKS's default build of an add-on for a Kubernetes version (mostRecent false); the newest
            # (mostRecent true) is a different build, which the fleet must never float to.
            kind = "newest" if args.args.get("mostRecent") else "default"
            return {"version": f"v0.0.0-{args.args['addonName']}-{args.args['kubernetesVersion']}-{kind}-eksbuild.1"}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": self.caller_arn, "userId": "AROAFLEET:ci-session", "id": ACCOUNT}, []
        if args.token == "aws:ec2/getVpcPeeringConnection:getVpcPeeringConnection":
            described = PEERINGS.get(str(args.args.get("id")))
            if described is None:
                # As the engine reports a failed invoke: an error the caller's invoke raises, not a crash.
                return {}, [("id", f"InvalidVpcPeeringConnectionID.NotFound: {args.args.get('id')}")]
            return dict(described), []
        if args.token == "aws:ec2/getEips:getEips":
            region = str(args.args.get("region") or self.monitor.region_of_provider(args.provider) or "us-east-1")
            filters = [
                (str(f["name"]).removeprefix("tag:"), [str(v) for v in f["values"]]) for f in args.args.get("filters") or []
            ]
            ips = sorted(
                ip
                for (account, where, ip), tags in self.addresses.items()
                if account == self.account(args.provider)
                and where == region
                and all(any(fnmatch.fnmatchcase(tags.get(key, ""), v) for v in values) and key in tags for key, values in filters)
            )
            return {"id": region, "publicIps": ips, "allocationIds": [f"eipalloc-{_fake_id(ip)}" for ip in ips]}, []
        if args.token == "aws:eks/getCluster:getCluster":
            region = str(args.args.get("region") or self.monitor.region_of_provider(args.provider) or "us-east-1")
            name = str(args.args.get("name"))
            if name in self.describe_errors:
                return {}, [("name", self.describe_errors[name])]
            found = EKS_CLUSTERS.get((self.account(args.provider), region, name))
            if name in self.running:
                described = found or eks_description(
                    self.account(args.provider), region, name, eks_endpoint(name, region), FAKE_CA, RUNNING_TAGS
                )
                found = {**described, "version": self.running[name]}
                if name in self.running_tags:
                    found["tags"] = dict(self.running_tags[name])
            if found is None:
                return {}, [("name", f"ResourceNotFoundException: No cluster found for name: {args.args.get('name')}.")]
            return dict(found), []
        if args.token == "aws:route53/getZone:getZone":
            return {"id": HOSTED_ZONE_ID, "zoneId": HOSTED_ZONE_ID, "name": args.args["name"]}, []
        return {}, []
