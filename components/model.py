"""The validated shape of a fleet stack's ``fleet:*`` config.

Per-field rules live here as pydantic validators; rules that span clusters (uniqueness, the
one-hub rule, CIDR overlaps) live in ``validation``. Models are frozen: components receive
these values and never raw dicts.
"""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from . import cidr, eks_versions, labels
from .instance_types import AmiType, ami_type_for, is_instance_type

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
_VERSION = re.compile(r"^1\.\d{2}$")
_IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)


def _dns_label(value: str) -> str:
    if error := labels.dns1123_label_error(value):
        raise ValueError(error)
    return value


def _region(value: str) -> str:
    if not _REGION.match(value):
        raise ValueError(f"{value!r} is not an AWS region code (e.g. us-east-1, eu-west-1)")
    return value


def _version_text(value: object) -> object:
    # YAML reads an unquoted 1.30 as the float 1.3: say how to write it instead of a type error.
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise ValueError(f'{value!r} is a number; quote the version, e.g. "{eks_versions.NEWEST}"')
    return value


def _version(value: str) -> str:
    if not _VERSION.match(value):
        raise ValueError(f'{value!r} is not a Kubernetes minor version such as "{eks_versions.NEWEST}"')
    if value not in eks_versions.SUPPORT:
        supported = ", ".join(eks_versions.SUPPORT)
        raise ValueError(f"{value!r} is not a version EKS offers here (supported: {supported})")
    return value


def _label_map(value: dict[str, str]) -> dict[str, str]:
    problems = [
        error for key, text in value.items() for error in (labels.label_key_error(key), labels.label_value_error(text)) if error
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _network(value: object) -> IPv4Network:
    if isinstance(value, IPv4Network):
        return value
    return cidr.parse_network(value)  # type: ignore[arg-type]


def _prefix_between(low: int, high: int):  # type: ignore[no-untyped-def]
    def check(network: IPv4Network) -> IPv4Network:
        if not low <= network.prefixlen <= high:
            raise ValueError(f"{network} must be between /{low} and /{high}")
        return network

    return check


def _private(network: IPv4Network) -> IPv4Network:
    if not cidr.is_private(network):
        raise ValueError(f"{network} is not a private (RFC 1918) range")
    return network


def _not_everywhere(network: IPv4Network) -> IPv4Network:
    if network.prefixlen == 0:
        raise ValueError(f"{network} opens the Kubernetes API to the whole internet; list the networks that need it")
    return network


def _iam_principal(value: str) -> str:
    if not _IAM_PRINCIPAL_ARN.match(value):
        raise ValueError(f"{value!r} is not an IAM role or user ARN")
    return value


def _instance_type(value: str) -> str:
    if not is_instance_type(value):
        raise ValueError(f"{value!r} is not an EC2 instance type (e.g. m7g.large)")
    return value


Network = Annotated[IPv4Network, BeforeValidator(_network)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
LabelMap = Annotated[dict[str, str], AfterValidator(_label_map)]
IamPrincipalArn = Annotated[str, AfterValidator(_iam_principal)]
KubernetesVersion = Annotated[str, BeforeValidator(_version_text), AfterValidator(_version)]


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"

    @property
    def eks_value(self) -> str:
        """The EKS API spells effects NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE."""
        return self.name


def _label_key(key: str) -> str:
    if error := labels.label_key_error(key):
        raise ValueError(error)
    return key


def _label_value(value: str) -> str:
    if error := labels.label_value_error(value):
        raise ValueError(error)
    return value


class Taint(_Model):
    key: Annotated[str, AfterValidator(_label_key)]
    """Taint key, label-key syntax."""
    value: Annotated[str, AfterValidator(_label_value)] = ""
    """Taint value, label-value syntax (may be empty)."""
    effect: TaintEffect
    """NoSchedule, PreferNoSchedule or NoExecute."""


GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect=TaintEffect.NO_SCHEDULE)


class CapacityType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


class NodeGroupSpec(_Model):
    name: DnsLabel
    """Unique within the cluster."""
    instance_types: Annotated[list[Annotated[str, AfterValidator(_instance_type)]], Field(min_length=1)]
    """EC2 instance types; all of one architecture and accelerator kind."""
    min_size: Annotated[int, Field(ge=0)]
    max_size: Annotated[int, Field(ge=1)]
    desired_size: Annotated[int, Field(ge=0)]
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 50
    labels: LabelMap = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sizes_and_image(self) -> NodeGroupSpec:
        problems = []
        if not self.min_size <= self.desired_size <= self.max_size:
            problems.append(
                f"sizes must satisfy minSize <= desiredSize <= maxSize, got "
                f"{self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        kinds = {ami_type_for(t) for t in self.instance_types}
        if len(kinds) > 1:
            listing = ", ".join(f"{t} ({ami_type_for(t).value})" for t in self.instance_types)
            problems.append(f"instanceTypes mix architectures or accelerators, which one node image cannot serve: {listing}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def ami_type(self) -> AmiType:
        return ami_type_for(self.instance_types[0])

    @property
    def effective_taints(self) -> tuple[Taint, ...]:
        """Configured taints, plus the NVIDIA taint on GPU groups so only GPU pods land there."""
        if self.ami_type.is_gpu and all(t.key != GPU_TAINT.key for t in self.taints):
            return (*self.taints, GPU_TAINT)
        return tuple(self.taints)


class NatGateways(StrEnum):
    ONE_PER_AZ = "OnePerAz"
    SINGLE = "Single"


class ClusterSpec(_Model):
    name: DnsLabel
    """EKS cluster name and kube context; unique in the fleet."""
    region: Annotated[str, AfterValidator(_region)]
    role: Literal["hub", "member"] = "member"
    kubernetes_version: KubernetesVersion | None = None
    """Overrides fleet:kubernetesVersion for this cluster."""
    vpc_cidr: Annotated[Network, AfterValidator(_prefix_between(16, 20)), AfterValidator(_private)]
    service_cidr: Annotated[Network, AfterValidator(_prefix_between(12, 24)), AfterValidator(_private)]
    availability_zones: Annotated[int, Field(ge=2, le=cidr.MAX_AZS)] = 3
    nat_gateways: NatGateways = NatGateways.ONE_PER_AZ
    labels: LabelMap = Field(default_factory=dict)
    node_groups: Annotated[list[NodeGroupSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _service_range_outside_vpc(self) -> ClusterSpec:
        if self.service_cidr.overlaps(self.vpc_cidr):
            raise ValueError(f"serviceCidr {self.service_cidr} overlaps this cluster's vpcCidr {self.vpc_cidr}")
        return self


class KubeconfigAuth(_Model):
    profile: str | None = None
    """AWS profile written into every context's get-token call (only when set)."""
    role_arn: IamPrincipalArn | None = None
    """Role assumed by get-token (only when set)."""


class FleetSpec(_Model):
    protect: bool = True
    api_access_cidrs: list[Annotated[Network, AfterValidator(_not_everywhere)]]
    """Who may reach the public API endpoints; [] makes the endpoints private-only."""
    kubernetes_version: KubernetesVersion = eks_versions.NEWEST
    cluster_admins: list[IamPrincipalArn] = Field(default_factory=list)
    """IAM principals given cluster-admin access entries on every cluster."""
    kubeconfig: KubeconfigAuth = Field(default_factory=KubeconfigAuth)
    clusters: Annotated[list[ClusterSpec], Field(min_length=1)]

    def version_of(self, cluster: ClusterSpec) -> str:
        return cluster.kubernetes_version or self.kubernetes_version

    @property
    def hub(self) -> ClusterSpec | None:
        return next((c for c in self.clusters if c.role == "hub"), None)
