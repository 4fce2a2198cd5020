"""Runs the real fleet program offline under Pulumi mocks and records what it registers.

The stack config is what the Pulumi CLI would hand the program: ``Pulumi.yaml`` defaults
overlaid by ``Pulumi.<stack>.yaml``, with structured values as JSON text. Every registration
is recorded with its inputs, provider, parent, protect flag and dependencies, so tests assert
what a reviewer of ``pulumi preview`` would check.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import gc
import hashlib
import json
import runpy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.aws.regions import ZONE_IDS
from components.config.stack_files import StackFile, load_yaml, read_stack_file

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "fleet"
ACCOUNT = "123456789012"

_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig
_RESOURCE = rpc._special_resource_sig


# ---------------------------------------------------------------- stack config, as the CLI hands it


def project_defaults() -> dict[str, Any]:
    project = load_yaml(ROOT / "Pulumi.yaml")
    return {
        f"{PROJECT}:{key}": spec["default"]
        for key, spec in (project.get("config") or {}).items()
        if isinstance(spec, dict) and "default" in spec
    }


# Where stack files are read from (the project directory; tests point it elsewhere).
STACK_DIR = ROOT


def stack_path(stack: str) -> Path:
    return STACK_DIR / f"Pulumi.{stack}.yaml"


def available_stacks() -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in STACK_DIR.glob("Pulumi.*.yaml"))


def stack_file(stack: str) -> StackFile:
    """``Pulumi.<stack>.yaml`` read strictly (StackFileError names file, line and column), secrets as placeholders."""
    return read_stack_file(stack_path(stack))


def stack_file_config(stack: str) -> dict[str, Any]:
    return stack_file(stack).config


def stack_config(stack: str = "prod") -> dict[str, Any]:
    """The config values the CLI would pass for ``stack``, as Python values keyed ``fleet:...``."""
    return {**project_defaults(), **stack_file_config(stack)}


def hub_stack_of(stack: str) -> str | None:
    """The fully qualified hub stack ``stack`` joins (its ``fleet:hub.stack``), if any."""
    hub = stack_file(stack).config.get("fleet:hub")
    return str(hub["stack"]) if isinstance(hub, dict) and "stack" in hub else None


# A stack that joins another stack's hub reads its outputs; offline, placeholders stand in.
PLACEHOLDER_HUB: dict[str, Any] = {
    "argocdHub": {"cluster": "<hub>", "namespace": "argocd", "roleArn": "<hub role>", "egressIps": ["192.0.2.1"]},
    "hubKubeconfig": "",
}


def cli_encoded(config: dict[str, Any]) -> dict[str, str]:
    """Values as the language host receives them: strings as-is, everything else as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


# ---------------------------------------------------------------- recording


@dataclass
class Registration:
    urn: str
    id: str
    type: str
    name: str
    custom: bool
    remote: bool
    parent: str
    protect: bool
    provider: str
    providers: dict[str, str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    secret_inputs: set[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)
    # Resources passed by reference (an eks.Cluster into eks.ManagedNodeGroup): the SDK leaves them
    # out of a remote component's dependencies, but its provider waits for them all the same.
    references: set[str] = field(default_factory=set)

    @property
    def provider_urn(self) -> str:
        # A provider reference is "<urn>::<id>".
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


def _plain(value: Any, path: str, secrets: set[str]) -> Any:
    """Unwrap Pulumi's wire encoding: secrets to their values (remembering where), refs to URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET:
            secrets.add(path)
            return _plain(value.get("value"), path, secrets)
        if sig == _RESOURCE:
            return value["urn"]
        return {k: _plain(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _referenced_urns(value: Any) -> set[str]:
    """URNs of resources passed as inputs: a remote component's provider waits for them."""
    if isinstance(value, dict):
        if value.get(_SIG) == _RESOURCE:
            return {value["urn"]}
        return {urn for child in value.values() for urn in _referenced_urns(child)}
    if isinstance(value, list):
        return {urn for child in value for urn in _referenced_urns(child)}
    return set()


def _urns_for_refs(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(_SIG) == _RESOURCE:
            return value["urn"]
        return {k: _urns_for_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_urns_for_refs(v) for v in value]
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Records registrations; replaces resource references in inputs with their URNs.

    The stock monitor rebuilds resource references as live resources on its worker thread,
    which then fail with 'attached to a different loop' when awaited from the program's loop
    (seen with an eks.Cluster passed to eks.ManagedNodeGroup); URN strings avoid that.
    """

    def __init__(self, mocks: FleetMocks) -> None:
        super().__init__(mocks)
        mocks.monitor = self
        self.registrations: dict[str, Registration] = {}
        self.local = threading.local()
        self.lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802
        wire = json_format.MessageToDict(request.object)
        secrets: set[str] = set()
        inputs = _plain(wire, "", secrets)
        references = _referenced_urns(wire)
        request.object.Clear()
        request.object.update(_urns_for_refs(wire))
        self.local.request = request
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = Registration(
            urn=response.urn,
            id=response.id,
            type=request.type,
            name=request.name,
            custom=request.custom,
            remote=request.remote,
            parent=request.parent,
            protect=bool(request.protect),
            provider=request.provider,
            providers=dict(request.providers),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            inputs=inputs,
            secret_inputs=secrets,
            outputs=self.resources[response.urn].state,
            delete_before_replace=request.deleteBeforeReplace,
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            additional_secret_outputs=list(request.additionalSecretOutputs),
            references=references,
        )
        with self.lock:
            self.registrations[response.urn] = registration
        return response

    def region_of_provider(self, reference: str) -> str | None:
        provider_id = reference.rsplit("::", 1)[-1] if reference else ""
        # Worker threads add registrations while others look providers up: read a snapshot.
        with self.lock:
            registrations = list(self.registrations.values())
        for registration in registrations:
            if registration.type == "pulumi:providers:aws" and f"{registration.name}-id" == provider_id:
                return str(registration.inputs.get("region"))
        return None


# ---------------------------------------------------------------- mocks


def _fake_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


# Zone IDs per region, as AWS lists them; names map onto them differently in every account, which
# the mocks imitate by pairing names and IDs in an account-specific order (see _zone_names).
# EKS answers UnsupportedAvailabilityZoneException for cluster subnets in these zone IDs.
EKS_REFUSED_ZONE_IDS = ("use1-az3", "usw1-az2", "cac1-az3")
# The deploying identity the mocks report: a CI role, as the README's CI setup uses.
DEPLOYER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy"
DEPLOYER_SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/fleet-deploy/ci-session"


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


class FleetMocks(pulumi.runtime.Mocks):
    """Plausible outputs for the resources and invokes the fleet program reads."""

    monitor: RecordingMonitor

    def __init__(
        self,
        zones_per_region: dict[str, int] | None = None,
        stack_outputs: dict[str, dict[str, Any]] | None = None,
        caller_arn: str = DEPLOYER_SESSION_ARN,
    ) -> None:
        self.zones_per_region = zones_per_region or {}
        # Outputs of other stacks, by fully qualified name, for StackReferences.
        self.stack_outputs = stack_outputs or {}
        self.caller_arn = caller_arn

    @property
    def deployer(self) -> str:
        """The principal EKS gives its creator entry to: for an assumed role, the role."""
        if ":assumed-role/" in self.caller_arn:
            account = self.caller_arn.split(":")[4]
            return f"arn:aws:iam::{account}:role/{self.caller_arn.split('/')[1]}"
        return self.caller_arn

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

    def _refuse_creator_entry(self, principals: list[str]) -> None:
        # EKS already made an admin entry for the creator (bootstrapClusterCreatorAdminPermissions).
        role = self.deployer.split("/")[-1]
        for principal in principals:
            if principal.split("/")[-1] == role and principal.split(":")[4] == self.deployer.split(":")[4]:
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
        state = copy.deepcopy(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "aws:eks/accessEntry:AccessEntry":
            self._refuse_creator_entry([str(state.get("principalArn", ""))])
        if args.typ == "eks:index:Cluster":
            entries = state.get("accessEntries") or {}
            self._refuse_creator_entry([str(entry.get("principalArn", "")) for entry in entries.values()])
            self._refuse_unsupported_zones(
                [*state.get("privateSubnetIds", []), *state.get("publicSubnetIds", [])], self._region(args)
            )
            region = self._region(args)
            name = state.get("name", args.name)
            oidc_id = _fake_id(name, region).upper()
            server = f"https://{oidc_id}.gr7.{region}.eks.amazonaws.com"
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
        elif args.typ == "kubernetes:core/v1:Secret" and state.get("type") == "kubernetes.io/service-account-token":
            # What the token controller fills in (pulumi-kubernetes waits for it).
            account = state["metadata"]["annotations"]["kubernetes.io/service-account.name"]
            token = f"eyJhbGciOiJSUzI1NiJ9.{account}.signature"
            state["data"] = {"token": base64.b64encode(token.encode()).decode(), "ca.crt": FAKE_CA}
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = "P" * int(state["length"])
            state["bcryptHash"] = "$2a$10$" + _fake_id(args.name) * 3
        elif args.typ == "pulumi:pulumi:StackReference":
            state["outputs"] = self.stack_outputs.get(str(state.get("name")), {})
        elif args.typ.startswith("aws:"):
            region = self._region(args)
            resource_id = f"{args.typ.split('/')[-1].split(':')[0].lower()}-{_fake_id(args.name)}"
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
            if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
                state["latestVersion"] = 1
            if args.typ == "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
                self._refuse_overlapping_peering(state)
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
                state.setdefault("name", args.name)
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
            issuer = self.deployer if arn == self.caller_arn else arn
            return {"arn": arn, "issuerArn": issuer, "issuerId": "AROAFLEET", "issuerName": issuer.split("/")[-1], "id": arn}, []
        if args.token == "aws:lb/getHostedZoneId:getHostedZoneId":
            region = str(args.args.get("region"))
            # The real id where we know it; a stable stand-in for other regions (offline only).
            return {"id": NLB_ZONE_IDS.get(region) or "Z" + _fake_id("nlb", region)[:13].upper()}, []
        if args.token == "aws:eks/getAddonVersion:getAddonVersion":
            # EKS's default build of an add-on for a Kubernetes version.
            return {"version": f"v0.0.0-{args.args['addonName']}-{args.args['kubernetesVersion']}-eksbuild.1"}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": self.caller_arn, "userId": "AROAFLEET:ci-session", "id": ACCOUNT}, []
        if args.token == "aws:route53/getZone:getZone":
            return {"id": HOSTED_ZONE_ID, "zoneId": HOSTED_ZONE_ID, "name": args.args["name"]}, []
        return {}, []


# ---------------------------------------------------------------- running the program


@dataclass
class Run:
    registrations: dict[str, Registration]
    exports: dict[str, Any]
    secret_exports: set[str]
    warnings: list[str]

    def of_type(self, type_token: str) -> list[Registration]:
        return sorted((r for r in self.registrations.values() if r.type == type_token), key=lambda r: r.name)

    def named(self, name: str) -> Registration:
        matches = [r for r in self.registrations.values() if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}"
        return matches[0]

    def children_of(self, urn: str) -> Iterator[Registration]:
        """Every registration below ``urn`` in the parent tree."""
        for registration in self.registrations.values():
            parent = registration.parent
            while parent:
                if parent == urn:
                    yield registration
                    break
                parent = self.registrations[parent].parent if parent in self.registrations else ""

    def ancestors(self, registration: Registration) -> list[Registration]:
        chain = []
        parent = registration.parent
        while parent in self.registrations:
            chain.append(self.registrations[parent])
            parent = self.registrations[parent].parent
        return chain

    def depends_on(self, registration: Registration) -> set[str]:
        """URNs this registration waits for: explicit and property dependencies, references, its provider."""
        direct = set(registration.dependencies) | registration.references
        for urns in registration.property_dependencies.values():
            direct |= set(urns)
        if registration.provider:
            direct.add(registration.provider_urn)
        return direct

    def transitive_dependencies(self, registration: Registration) -> set[str]:
        seen: set[str] = set()
        stack = list(self.depends_on(registration))
        while stack:
            urn = stack.pop()
            if urn in seen or urn not in self.registrations:
                continue
            seen.add(urn)
            stack.extend(self.depends_on(self.registrations[urn]))
        return seen


class _WarningCollector:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.messages.append(message)


def run_program(
    config: dict[str, Any],
    stack: str = "prod",
    preview: bool = False,
    zones_per_region: dict[str, int] | None = None,
    registrations_on_error: list[str] | None = None,
    stack_outputs: dict[str, dict[str, Any]] | None = None,
    caller_arn: str = DEPLOYER_SESSION_ARN,
) -> Run:
    """Run ``__main__.py`` under mocks with ``config`` (Python values keyed ``fleet:...``).

    When the program raises, the names of whatever it registered before are appended to
    ``registrations_on_error`` (if given) and the exception propagates.
    """
    mocks = FleetMocks(zones_per_region, stack_outputs, caller_arn)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(cli_encoded(config), [])

    exports: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    secret_exports: set[str] = set()
    warnings = _WarningCollector()

    def record_export(name: str, value: Any) -> None:
        exports[name] = value

    async def resolve() -> None:
        for name, value in exports.items():
            output = pulumi.Output.from_input(value)
            resolved[name] = await output.future()
            if await output.is_secret():
                secret_exports.add(name)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> Any:
        original_export, original_warn = pulumi.export, pulumi.log.warn
        pulumi.export, pulumi.log.warn = record_export, warnings  # type: ignore[assignment]
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__pulumi_program__")
        finally:
            pulumi.export, pulumi.log.warn = original_export, original_warn
        return asyncio.ensure_future(resolve())

    # The collector spends 40-60% of an evaluation walking the SDK's reference cycles; the run is
    # short-lived, so it runs with the collector off (measured: about half the evaluation time, +1-10% memory).
    collecting = gc.isenabled()
    gc.disable()
    try:
        program()
    except Exception:
        if registrations_on_error is not None:
            registrations_on_error.extend(sorted(r.name for r in monitor.registrations.values()))
        raise
    finally:
        if collecting:
            gc.enable()
    return Run(dict(monitor.registrations), resolved, secret_exports, warnings.messages)


def run_stack(stack: str = "prod", mutate: Callable[[dict[str, Any]], None] | None = None, **options: Any) -> Run:
    """Run the program with ``stack``'s real config, optionally changed by ``mutate`` first."""
    config = copy.deepcopy(stack_config(stack))
    if mutate is not None:
        mutate(config)
    return run_program(config, stack=stack, **options)


# ---------------------------------------------------------------- physical names, as AWS will see them

# Pulumi's auto-name: "<logical name>-<7 random characters>"; name_prefix: the prefix and 26 characters.
_AUTONAME_SUFFIX = 8
_NAME_PREFIX_SUFFIX = 26
_NAME_KEYS = {"eks:index:ManagedNodeGroup": ("nodeGroupName", "nodeGroupNamePrefix")}


def physical_name_length(registration: Registration) -> int:
    """The length of the name AWS receives for this resource: explicit, from a prefix, or auto-named."""
    name_key, prefix_key = _NAME_KEYS.get(registration.type, ("name", "namePrefix"))
    if name := registration.inputs.get(name_key):
        return len(str(name))
    if prefix := registration.inputs.get(prefix_key):
        return len(str(prefix)) + _NAME_PREFIX_SUFFIX
    return len(registration.name) + _AUTONAME_SUFFIX
