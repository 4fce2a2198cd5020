"""The validated shape of a fleet stack's ``fleet:*`` config.

Per-field rules live here as pydantic validators; rules that span clusters (uniqueness, the
one-hub rule, CIDR overlaps) live in ``validation``. Models are frozen: components receive
these values and never raw dicts.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from pydantic.alias_generators import to_camel

from ..aws import cidr, eks_versions, geo, labels, regions
from ..aws.instance_types import AmiType, ami_type_for, instance_type_error
from ..aws.zones import EKS_UNSUPPORTED_ZONE_IDS

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
    if value not in regions.ZONE_IDS:
        close = difflib.get_close_matches(value, list(regions.ZONE_IDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"{value!r} is not a region AWS has{hint}")
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


def _label_scalars(value: object) -> object:
    # YAML reads true, false, yes, on, 1.5 ... as booleans and numbers; Kubernetes label values are text.
    if isinstance(value, dict):
        problems = [
            f'label {key}: {text!r} is a YAML {_yaml_kind(text)}; quote it: {key}: "{_yaml_text(text)}"'
            for key, text in value.items()
            if isinstance(text, bool | int | float)
        ]
        if problems:
            raise ValueError("; ".join(problems))
    return value


def _yaml_kind(value: object) -> str:
    return "boolean" if isinstance(value, bool) else "number"


def _yaml_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


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
    if error := instance_type_error(value):
        raise ValueError(error)
    return value


Network = Annotated[IPv4Network, BeforeValidator(_network)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
LabelMap = Annotated[dict[str, str], BeforeValidator(_label_scalars), AfterValidator(_label_map)]
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
    per_zone: bool | None = None
    """One group per zone, balanced by the autoscaler, so a pod bound to a zonal EBS volume can always
    scale up in its zone; unset: on for on-demand, non-GPU groups (where stateful workloads land)."""

    @property
    def zonal(self) -> bool:
        """Whether the group is registered once per zone (per_zone, or its default)."""
        if self.per_zone is not None:
            return self.per_zone
        return self.capacity_type is CapacityType.ON_DEMAND and not self.ami_type.is_gpu

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


# ---------------------------------------------------------------- global traffic (fleet:dns, edges)

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _domain(value: str) -> str:
    value = value.rstrip(".").lower()
    if not _DOMAIN.match(value):
        raise ValueError(f"{value!r} is not a DNS name such as api.example.com")
    return value


def _hosted_zone_id(value: str) -> str:
    if not re.match(r"^Z[A-Z0-9]{4,31}$", value):
        raise ValueError(f"{value!r} is not a Route53 hosted zone id (Z followed by letters and digits)")
    return value


DomainName = Annotated[str, AfterValidator(_domain)]


class HealthCheckSpec(_Model):
    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTPS"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """Defaults to each edge's listener port; when set it must equal every owned edge's listener port."""
    path: str | None = "/healthz"
    """Request path for HTTP(S) checks; must be unset for TCP."""
    failure_threshold: Annotated[int, Field(ge=1, le=10)] = 3
    request_interval: Literal[10, 30] = 30
    """Seconds between checks; Route53 offers 10 (fast, billed higher) or 30."""

    @model_validator(mode="after")
    def _path_fits_protocol(self) -> HealthCheckSpec:
        if self.protocol == "TCP":
            if "path" in self.model_fields_set and self.path is not None:
                raise ValueError("path is only for HTTP and HTTPS health checks")
            return self
        path = self.path or ""
        if not path.startswith("/") or len(path) > 255 or any(c.isspace() for c in path):
            raise ValueError(f"path {path!r} must start with '/', have no spaces and be at most 255 characters")
        return self

    @property
    def resource_path(self) -> str | None:
        return None if self.protocol == "TCP" else self.path


ROUTING_FIELDS: dict[str, set[str]] = {
    "weighted": {"weights"},
    "failover": {"primary", "secondary"},
    "latency": {"clusters"},
    "geolocation": {"locations"},
}


@dataclass(frozen=True)
class RecordTarget:
    """One record set of a DNS name: its stable set identifier, cluster and (geolocation) location."""

    set_identifier: str
    cluster: str
    location: geo.Location | None = None


class DemandSpec(_Model):
    vcpu: Annotated[float, Field(gt=0)]
    """vCPU the workload behind the name requests at 100% of its traffic."""
    memory_gib: Annotated[float, Field(gt=0)]
    """Memory (GiB) it requests at 100% of its traffic."""


class RecordSpec(_Model):
    name: DomainName
    routing: Literal["weighted", "failover", "latency", "geolocation"]
    weights: dict[str, Annotated[int, Field(ge=0, le=255)]] | None = None
    """weighted: cluster name -> relative weight 0..255."""
    primary: str | None = None
    """failover: the cluster that serves while healthy."""
    secondary: str | None = None
    """failover: the cluster that serves when the primary is unhealthy."""
    clusters: list[str] | None = None
    """latency: clusters to answer from, each for its region."""
    locations: dict[str, str] | None = None
    """geolocation: continent/country code (or default) -> cluster name."""
    drained: list[DnsLabel] = Field(default_factory=list)
    """Clusters taken out of this name's answers (their record sets are removed; weight 0 would still answer)."""
    demand: DemandSpec | None = None
    """What 100% of this name's traffic needs, for the capacity verdict (plan --what-if) and fleet:dns.survive."""
    demand_from: DnsLabel | None = None
    """Instead of demand: the ApplicationSet serving this name; plan --what-if sums its Applications'
    overlays (replicas x requests, built with kustomize) as the load at 100% of the traffic."""

    @model_validator(mode="after")
    def _one_demand(self) -> RecordSpec:
        if self.demand is not None and self.demand_from is not None:
            raise ValueError("set demand or demandFrom, not both")
        return self

    @model_validator(mode="after")
    def _fields_fit_routing(self) -> RecordSpec:
        wanted = ROUTING_FIELDS[self.routing]
        given = {f for f in ("weights", "primary", "secondary", "clusters", "locations") if getattr(self, f) is not None}
        problems = [f"{f} is not used by {self.routing} routing" for f in sorted(given - wanted)]
        problems += [f"{self.routing} routing needs {f}" for f in sorted(wanted - given)]
        if problems:
            raise ValueError("; ".join(problems))
        if self.weights is not None:
            if not self.weights:
                raise ValueError("weights needs at least one cluster")
            if not any(self.weights.values()):
                raise ValueError("weights are all 0: Route53 would answer with every target regardless of weight")
        if self.primary is not None and self.primary == self.secondary:
            raise ValueError(f"primary and secondary are both {self.primary!r}; failover needs two clusters")
        if self.clusters is not None:
            if not self.clusters:
                raise ValueError("clusters needs at least one cluster")
            if len(set(self.clusters)) != len(self.clusters):
                raise ValueError(f"clusters lists a cluster twice: {self.clusters}")
        if self.locations is not None:
            problems = []
            for code in self.locations:
                try:
                    geo.parse_location(code)
                except ValueError as exc:
                    problems.append(str(exc))
            if sum(code == geo.DEFAULT for code in self.locations) != 1:
                problems.append("locations needs exactly one 'default' entry, for clients no other location matches")
            if problems:
                raise ValueError("; ".join(problems))
        return self

    def targets(self) -> list[RecordTarget]:
        """One entry per Route53 record set, in a stable order for a given config."""
        if self.weights is not None:
            return [RecordTarget(cluster, cluster) for cluster in sorted(self.weights)]
        if self.primary is not None and self.secondary is not None:
            return [RecordTarget(self.primary, self.primary), RecordTarget(self.secondary, self.secondary)]
        if self.clusters is not None:
            return [RecordTarget(cluster, cluster) for cluster in sorted(self.clusters)]
        located = [(geo.parse_location(code), cluster) for code, cluster in (self.locations or {}).items()]
        return sorted(
            (RecordTarget(f"{cluster}-{location.slug}", cluster, location) for location, cluster in located),
            key=lambda target: target.set_identifier,
        )

    def serving_targets(self, drained: set[str]) -> list[RecordTarget]:
        """The record sets registered: every target but the drained clusters' (this record's and the fleet's)."""
        out = drained | set(self.drained)
        return [t for t in self.targets() if t.cluster not in out]

    def referenced_clusters(self) -> list[tuple[str, str]]:
        """(config sub-path, cluster name) for every cluster the record names."""
        if self.weights is not None:
            found = [(f"weights.{c}", c) for c in self.weights]
        elif self.primary is not None and self.secondary is not None:
            found = [("primary", self.primary), ("secondary", self.secondary)]
        elif self.clusters is not None:
            found = [(f"clusters[{i}]", c) for i, c in enumerate(self.clusters)]
        else:
            found = [(f"locations.{code}", c) for code, c in (self.locations or {}).items()]
        return found + [(f"drained[{i}]", c) for i, c in enumerate(self.drained)]


class DnsSpec(_Model):
    zone: DomainName
    """An existing public hosted zone, looked up by name."""
    edge_subdomain: DnsLabel = "edge"
    """Each edge also gets <cluster>.<edgeSubdomain>.<zone>: health checks send it as Host/SNI; it reaches one region."""
    health_check: HealthCheckSpec = Field(default_factory=HealthCheckSpec)
    records: Annotated[list[RecordSpec], Field(min_length=1)]
    min_serving_regions: Annotated[int, Field(ge=1)] = 1
    """No drain may leave a name answered from fewer regions than this (and ARC's safety rule keeps this many on)."""
    arc: bool = False
    """Route 53 ARC routing controls: one per serving cluster, ANDed into its records' health, flipped by
    python -m deploy failover (a control panel and cluster in us-west-2, billed per cluster-hour)."""
    survive: Annotated[int, Field(ge=0)] | None = None
    """Regions whose loss the survivors must carry (every such failure, checked before deploy); unset: 1
    when some record declares demand, else 0."""


class IngressTarget(_Model):
    namespace: DnsLabel = "ingress"
    """Namespace of the in-cluster ingress Service (the program creates it)."""
    service: DnsLabel = "ingress-gateway"
    """Name of the in-cluster ingress Service the NLB forwards to."""
    port: Annotated[int, Field(ge=1, le=65535)] = 443
    """Service port; also the NLB listener port (TCP pass-through) and the health-check port."""
    target_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """The Service's targetPort (the container port the NLB reaches pods on); defaults to port."""

    @property
    def effective_target_port(self) -> int:
        """The controller registers pod IP + the Service's target port, so that is what pods must admit."""
        return self.target_port if self.target_port is not None else self.port


class EdgeSpec(_Model):
    enabled: bool = True
    """False: this cluster serves no public traffic and records may not name it."""
    dns_name: DomainName | None = None
    """An existing load balancer's DNS name, instead of an NLB the program owns."""
    zone_id: Annotated[str, AfterValidator(_hosted_zone_id)] | None = None
    """That load balancer's canonical hosted zone id."""
    ingress: IngressTarget = Field(default_factory=IngressTarget)

    @model_validator(mode="after")
    def _external_is_complete(self) -> EdgeSpec:
        if (self.dns_name is None) != (self.zone_id is None):
            raise ValueError("an existing load balancer needs both dnsName and zoneId")
        if self.dns_name is not None and "ingress" in self.model_fields_set:
            raise ValueError("ingress is only for an edge the program owns; an existing load balancer routes itself")
        return self

    @property
    def external(self) -> bool:
        return self.dns_name is not None


_KMS_KEY_ARN = re.compile(r"^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")


def _kms_key_arn(value: str) -> str:
    if not _KMS_KEY_ARN.match(value):
        raise ValueError(f"{value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)")
    return value


class AddonVersionsSpec(_Model):
    cluster_autoscaler_chart_version: str = "9.59.0"
    """cluster-autoscaler chart (kubernetes/autoscaler), pinned; its image follows each cluster's minor version."""
    nvidia_device_plugin_chart_version: str = "0.20.0"
    """nvidia-device-plugin chart (NVIDIA/k8s-device-plugin), pinned."""
    ebs_csi_version: str | None = None
    """aws-ebs-csi-driver EKS add-on version (v1.x.y-eksbuild.n); unset: EKS's default at creation, then held."""
    metrics_server_version: str | None = None
    """metrics-server EKS add-on version; unset: EKS's default at creation, then held."""
    storage_kms_key_arn: Annotated[str, AfterValidator(_kms_key_arn)] | None = None
    """KMS key for the default StorageClass's volumes; unset: the account's aws/ebs key (still encrypted)."""


class LoadBalancerControllerSpec(_Model):
    chart_version: str = "1.17.0"
    """aws-load-balancer-controller chart (eks-charts), pinned; app v2.17.0."""


class SupportType(StrEnum):
    """EKS upgrade policy: STANDARD upgrades the cluster when standard support ends; EXTENDED pays for 12 more months."""

    STANDARD = "STANDARD"
    EXTENDED = "EXTENDED"


class FlowLogDestination(StrEnum):
    CLOUDWATCH = "cloudWatch"
    S3 = "s3"


_S3_BUCKET_ARN = re.compile(r"^arn:aws(-[a-z]+)*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[\w./-]*)?$")


class FlowLogsSpec(_Model):
    destination: FlowLogDestination = FlowLogDestination.CLOUDWATCH
    """cloudWatch: a KMS-encrypted log group per VPC (the program creates both); s3: an existing bucket."""
    bucket_arn: str | None = None
    """s3 only: the bucket (or bucket/prefix) ARN; its own policy and encryption govern the logs."""
    retention_days: Literal[
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
    ] = 365
    """cloudWatch only: days CloudWatch Logs keeps them (one of the values CloudWatch offers)."""
    traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = "ALL"
    """Which packets are logged."""

    @model_validator(mode="after")
    def _destination_fields(self) -> FlowLogsSpec:
        if self.destination is FlowLogDestination.S3:
            if self.bucket_arn is None:
                raise ValueError("destination s3 needs bucketArn")
            if not _S3_BUCKET_ARN.match(self.bucket_arn):
                raise ValueError(f"bucketArn {self.bucket_arn!r} is not an S3 bucket ARN (arn:aws:s3:::bucket[/prefix])")
            if "retention_days" in self.model_fields_set:
                raise ValueError("retentionDays is for cloudWatch; an S3 bucket's lifecycle rules decide retention")
        elif self.bucket_arn is not None:
            raise ValueError("bucketArn is only for destination s3")
        return self


class ClusterAddonsSpec(_Model):
    autoscaler: bool = True
    """cluster-autoscaler: node groups scale between minSize and maxSize (from zero for GPU and Spot groups)."""
    gpu: bool | None = None
    """The NVIDIA device plugin on GPU nodes; defaults to on exactly when the cluster has a GPU node group."""
    ebs_csi: bool = True
    """The EBS CSI driver add-on and a default encrypted gp3 StorageClass: PersistentVolumeClaims bind."""
    metrics_server: bool = True
    """metrics-server add-on: HorizontalPodAutoscalers and `kubectl top` work."""


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
    edge: EdgeSpec = Field(default_factory=EdgeSpec)
    """Where public traffic for this cluster enters (fleet:dns records point here)."""
    support_type: SupportType | None = None
    """Overrides fleet:supportType for this cluster."""
    addons: ClusterAddonsSpec = Field(default_factory=ClusterAddonsSpec)
    """Which of the fleet's in-cluster add-ons this cluster runs."""
    retiring: bool = False
    """Lift this cluster's deletion protection (and say so to the policy pack) before removing its entry."""
    drained: bool = False
    """Take this cluster out of every DNS answer (its record sets go; its edge and health check stay)."""

    @property
    def has_gpu_group(self) -> bool:
        return any(group.ami_type.is_gpu for group in self.node_groups)

    @property
    def runs_gpu_plugin(self) -> bool:
        return self.addons.gpu if self.addons.gpu is not None else self.has_gpu_group

    @model_validator(mode="after")
    def _service_range_outside_vpc(self) -> ClusterSpec:
        problems = []
        if self.service_cidr.overlaps(self.vpc_cidr):
            problems.append(f"serviceCidr {self.service_cidr} overlaps this cluster's vpcCidr {self.vpc_cidr}")
        usable = regions.usable_zone_count(self.region)
        if self.availability_zones > usable:
            problems.append(
                f"availabilityZones {self.availability_zones}: {self.region} has {usable} zones EKS accepts "
                f"({', '.join(z for z in regions.ZONE_IDS[self.region] if z not in EKS_UNSUPPORTED_ZONE_IDS)})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ---------------------------------------------------------------- cross-cluster networking (fleet:submariner)


class CableDriver(StrEnum):
    LIBRESWAN = "libreswan"
    WIREGUARD = "wireguard"
    VXLAN = "vxlan"


GLOBALNET_DEFAULT_RANGE = "242.0.0.0/8"
# Submariner must be able to route between any pair of members, so an IPsec PSK shorter than
# this is refused rather than silently weakening every tunnel in the clusterset.
MIN_PSK_LENGTH = 32


def _psk(value: SecretStr) -> SecretStr:
    if len(value.get_secret_value()) < MIN_PSK_LENGTH:
        raise ValueError(f"psk must be at least {MIN_PSK_LENGTH} characters (omit it to have one generated)")
    return value


class SubmarinerSpec(_Model):
    enabled: bool = True
    """False: no broker, no joins, no gateways (the rest of the section is still validated)."""
    broker: DnsLabel | None = None
    """Cluster hosting the broker; defaults to the hub."""
    clusters: list[DnsLabel] | None = None
    """Clusters joined to the clusterset; defaults to every cluster in the stack."""
    cable_driver: CableDriver = CableDriver.LIBRESWAN
    """Tunnel implementation between gateways."""
    globalnet: bool = False
    """Give each member a global CIDR so overlapping pod/service ranges can still be joined."""
    globalnet_cidr_range: Network = Field(default_factory=lambda: IPv4Network(GLOBALNET_DEFAULT_RANGE))
    """The range global CIDRs are cut from."""
    globalnet_cluster_prefix: Annotated[int, Field(ge=8, le=28)] = 16
    """Prefix length of each member's global CIDR (16 = Submariner's default 65536 addresses)."""
    global_cidrs: dict[DnsLabel, Network] = Field(default_factory=dict)
    """Pinned global CIDRs per cluster; others are allocated from the range."""
    gateways_per_cluster: Annotated[int, Field(ge=1, le=cidr.MAX_AZS)] = 2
    """Gateway nodes per member, each in its own AZ; two or more for active/passive HA."""
    keep_gateway_addresses: Annotated[int, Field(ge=1)] | None = None
    """Pool addresses kept per member, the ones past the new pool draining, in the deploy that lowers
    gatewaysPerCluster (set it to the old pool size, 3 x the old count); remove it in the next deploy."""
    gateway_instance_type: Annotated[str, AfterValidator(_instance_type)] = "c6i.large"
    """EC2 type of the gateway nodes (IPsec throughput scales with it)."""
    chart_version: str = "0.24.1"
    """submariner-k8s-broker and submariner-operator chart version, pinned."""
    chart_repository: str = "https://submariner-io.github.io/submariner-charts/charts"
    """Helm repository of both charts."""
    psk: Annotated[SecretStr, AfterValidator(_psk)] | None = None
    """The shared IPsec key (a Pulumi secret); generated when absent."""
    psk_version: Annotated[int, Field(ge=1)] = 1
    """Bump to rotate the generated PSK."""

    @model_validator(mode="after")
    def _consistent(self) -> SubmarinerSpec:
        problems = []
        if self.global_cidrs and not self.globalnet:
            problems.append("globalCidrs is only used with globalnet: true")
        if self.psk is not None and "psk_version" in self.model_fields_set:
            problems.append("pskVersion rotates a generated PSK; with psk set, rotate by changing psk")
        if self.globalnet_cluster_prefix < self.globalnet_cidr_range.prefixlen:
            problems.append(
                f"globalnetClusterPrefix /{self.globalnet_cluster_prefix} is larger than "
                f"globalnetCidrRange {self.globalnet_cidr_range}"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


# ---------------------------------------------------------------- GitOps hub (fleet:argocd, fleet:hub)

_GIT_HTTPS = re.compile(r"^https://[a-z0-9.-]+(:\d+)?(/[\w.~-]+)+/?$", re.IGNORECASE)
_GIT_SSH = re.compile(r"^(ssh://[\w.-]+@[a-z0-9.-]+(:\d+)?/|[\w.-]+@[a-z0-9.-]+:)[\w.~/-]+$", re.IGNORECASE)
_REPO_PATH = re.compile(r"^[\w.{}-]+(/[\w.{}-]+)*$")
_REVISION = re.compile(r"^[\w./-]+$")
_STACK_NAME = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")


def _git_url(value: str) -> str:
    if not (_GIT_HTTPS.match(value) or _GIT_SSH.match(value)):
        raise ValueError(f"{value!r} is not a git URL (https://host/org/repo or git@host:org/repo)")
    return value


def _repo_path(value: str) -> str:
    parts = value.split("/")
    if not _REPO_PATH.match(value) or ".." in parts or "." in parts:
        raise ValueError(f"{value!r} is not a relative path inside the repository (e.g. apps/myapp/overlays/prod)")
    return value


def _revision(value: str) -> str:
    if not _REVISION.match(value) or ".." in value:
        raise ValueError(f"{value!r} is not a git branch, tag or commit")
    return value


def _stack_name(value: str) -> str:
    if not _STACK_NAME.match(value):
        raise ValueError(f"{value!r} is not a fully qualified stack name (organization/project/stack)")
    return value


GitUrl = Annotated[str, AfterValidator(_git_url)]
RepoPath = Annotated[str, AfterValidator(_repo_path)]


class GitRepoSpec(_Model):
    url: GitUrl
    """The GitOps repository every Application syncs from."""
    revision: Annotated[str, AfterValidator(_revision)] = "main"
    """Branch, tag or commit to track."""
    credentials: SecretStr | None = None
    """A token (https URL) or an SSH private key (ssh URL) for a private repository (a Pulumi secret)."""

    @property
    def is_ssh(self) -> bool:
        return not self.url.lower().startswith("https://")

    @model_validator(mode="after")
    def _credentials_fit_url(self) -> GitRepoSpec:
        if self.credentials is None:
            return self
        text = self.credentials.get_secret_value()
        is_key = text.lstrip().startswith("-----BEGIN")
        if self.is_ssh and not is_key:
            raise ValueError("credentials for an ssh URL must be an SSH private key (-----BEGIN ... PRIVATE KEY-----)")
        if not self.is_ssh and (is_key or not text.strip() or any(c.isspace() for c in text.strip())):
            raise ValueError("credentials for an https URL must be an access token (one word, no key file)")
        return self


class RootAppSpec(_Model):
    name: DnsLabel = "root"
    """Name of the app-of-apps Application on the hub."""
    path: RepoPath
    """Folder of Argo CD manifests the hub applies to itself."""


class ApplicationSetSpec(_Model):
    name: DnsLabel
    """ApplicationSet name; Applications are named <name>-<cluster>."""
    selector: LabelMap = Field(default_factory=dict)
    """Cluster labels to match (all of them); {} selects every registered cluster."""
    path: RepoPath
    """Repository path, may use {{name}}, {{metadata.labels.<key>}} and other cluster parameters."""
    namespace: Annotated[str, Field(min_length=1)]
    """Destination namespace (created by the sync), may use cluster parameters."""
    project: DnsLabel = "default"
    """Argo CD project of the generated Applications."""
    revision: Annotated[str, AfterValidator(_revision)] | None = None
    """Overrides the repository revision for this set."""
    prune: bool = True
    """Delete resources removed from git."""
    self_heal: bool = True
    """Revert changes made outside git."""


class ArgoCdAdminSpec(_Model):
    enabled: bool = False
    """The built-in admin account; off by default (use SSO or `argocd --core` with the kubeconfig)."""


class ArgoCdSsoSpec(_Model):
    issuer: Annotated[str, Field(pattern=r"^https://[^\s]+$")]
    """The OIDC issuer URL (Okta, Entra ID, Google, Cognito, ...); Argo CD talks to it directly, no Dex."""
    client_id: Annotated[str, Field(min_length=1)]
    """The OIDC client id registered for Argo CD."""
    client_secret: SecretStr
    """Its client secret (a Pulumi secret); stored in argocd-secret, referenced from argocd-cm."""
    admin_groups: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Groups (the token's groups claim) given role:admin; everyone else who signs in is read-only."""


class ArgoCdSpec(_Model):
    enabled: bool = True
    """False: no Argo CD (the rest of the section is still validated)."""
    chart_version: str = "10.1.1"
    """argo-cd chart (argo-helm), pinned; Argo CD v3.4.4."""
    chart_repository: str = "https://argoproj.github.io/argo-helm"
    """Helm repository of the chart."""
    ha: bool = False
    """Replicated controller, repo server, server and applicationset controller, and redis-ha."""
    expose_server: bool = False
    """True gives the API server an internet-facing LoadBalancer; by default it is reachable only in-cluster."""
    admin: ArgoCdAdminSpec = Field(default_factory=ArgoCdAdminSpec)
    """The local admin account (off, or on with a generated password)."""
    sso: ArgoCdSsoSpec | None = None
    """Single sign-on through an OIDC provider; without it (and without admin) people use `argocd --core`."""
    url: Annotated[str, Field(pattern=r"^https://[a-z0-9.-]+(:\d+)?/?$")] | None = None
    """The external URL people open Argo CD at (the OIDC redirect goes there); required with sso."""
    notifications: bool = False
    """The notifications controller; off unless you configure notification services for it."""
    repo: GitRepoSpec
    root_app: RootAppSpec | None = None
    """Optional app-of-apps on the hub."""
    application_sets: list[ApplicationSetSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _sso_needs_url(self) -> ArgoCdSpec:
        if self.sso is not None and self.url is None:
            raise ValueError("sso needs url: the OIDC provider redirects people back to it")
        return self


# Fleets up to this size default to interconnect mode none (FleetSpec.interconnect_mode).
SMALL_FLEET = 3


class InterconnectMode(StrEnum):
    NONE = "none"
    """Cross-cluster API calls cross the internet to public endpoints that allow-list each caller."""
    PEERING = "peering"
    """The hub's VPC is peered with each other cluster's; API calls take the private endpoints."""
    TRANSIT_GATEWAY = "transitGateway"
    """A transit gateway per region, peered with the hub's region's; API calls take the private endpoints."""


class InterconnectSpec(_Model):
    mode: InterconnectMode | None = None
    """none, peering or transitGateway; unset: peering for fleets of more than three clusters, none otherwise."""
    keep_internet_path: bool = False
    """Keep admitting API callers on the public allow lists while the private path comes up: set it in
    the deploy that leaves none, remove it in the next (nothing orders the allow lists after the path)."""


Region = Annotated[str, AfterValidator(_region)]
Quota = Annotated[int, Field(ge=1)]


class RegionQuotasSpec(_Model):
    """An account's raised values of per-region quotas (Service Quotas); unset means AWS's default."""

    elastic_ips: Quota | None = None
    """EC2-VPC Elastic IPs (L-0263D0A3)."""
    vpcs: Quota | None = None
    """VPCs per Region (L-F678F1CE)."""
    internet_gateways: Quota | None = None
    """Internet gateways per Region (L-A4707A72)."""
    nat_gateways_per_az: Quota | None = None
    """NAT gateways per Availability Zone (L-FE5A380F)."""
    network_load_balancers: Quota | None = None
    """Network Load Balancers per Region (L-69A177A2)."""
    resolver_endpoints: Quota | None = None
    """Route 53 Resolver endpoints per Region."""
    peering_connections_per_vpc: Quota | None = None
    """Active VPC peering connections per VPC (L-7E9ECCDB)."""
    routes_per_route_table: Quota | None = None
    """Routes per route table (L-93826ACB)."""
    transit_gateways: Quota | None = None
    """Transit gateways per Region."""
    transit_gateway_peering_attachments: Quota | None = None
    """Peering attachments per transit gateway."""
    inbound_rules_per_security_group: Quota | None = None
    """Inbound rules per security group (L-0EA8095F)."""
    security_groups_per_interface: Quota | None = None
    """Security groups per network interface (L-2AFB9258)."""


class AccountQuotasSpec(_Model):
    """An account's raised values of global quotas; unset means AWS's default."""

    route53_health_checks: Quota | None = None
    """Route 53 health checks per account."""
    iam_oidc_providers: Quota | None = None
    """IAM OpenID Connect providers per account."""


class QuotasSpec(_Model):
    account: AccountQuotasSpec = Field(default_factory=AccountQuotasSpec)
    """Global quotas the account has raised."""
    regions: dict[Region, RegionQuotasSpec] = Field(default_factory=dict)
    """Per region, the quotas the account has raised there."""


class WaveSpec(_Model):
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


class UpgradesSpec(_Model):
    waves: list[WaveSpec] = Field(default_factory=list)
    """Ordered waves; unset: joining stacks' clusters, then this stack's members, then its hub."""


class HubReferenceSpec(_Model):
    stack: Annotated[str, AfterValidator(_stack_name)]
    """The stack (organization/project/stack) whose hub this stack's clusters register into."""


class KubeconfigAuth(_Model):
    profile: str | None = None
    """AWS profile written into every context's get-token call (only when set)."""
    role_arn: IamPrincipalArn | None = None
    """Role assumed by get-token (only when set)."""
    context_prefix: Annotated[str, Field(pattern=r"^([a-z0-9][-a-z0-9_.]{0,39})?$")] = ""
    """Put before every context, cluster and user name of the merged fleet kubeconfig (e.g. "prod-")."""


class FleetSpec(_Model):
    # The hub stack's own config when fleet:hub names a stack of this project (components/config/hub_stack.py).
    _joined_hub: FleetSpec | None = PrivateAttr(default=None)
    # The configs of the other stacks of this project joining this stack's hub (or the hub it joins).
    _joining: dict[str, FleetSpec] = PrivateAttr(default_factory=dict)
    _joining_unread: list[str] = PrivateAttr(default_factory=list)

    protect: bool = True
    api_access_cidrs: list[Annotated[Network, AfterValidator(_not_everywhere)]]
    """Who may reach the public API endpoints; [] makes the endpoints private-only."""
    kubernetes_version: KubernetesVersion = eks_versions.NEWEST
    support_type: SupportType = SupportType.STANDARD
    """EKS upgrade policy of every cluster; EXTENDED keeps a version past standard support, billed per hour."""
    flow_logs: FlowLogsSpec = Field(default_factory=FlowLogsSpec)
    """VPC flow logs of every cluster's VPC (always on)."""
    cluster_admins: list[IamPrincipalArn] = Field(default_factory=list)
    """IAM principals given cluster-admin access entries on every cluster."""
    kubeconfig: KubeconfigAuth = Field(default_factory=KubeconfigAuth)
    clusters: Annotated[list[ClusterSpec], Field(min_length=1)]
    dns: DnsSpec | None = None
    """Route53 records in front of the clusters' edges; none when absent."""
    load_balancer_controller: LoadBalancerControllerSpec = Field(default_factory=LoadBalancerControllerSpec)
    addons: AddonVersionsSpec = Field(default_factory=AddonVersionsSpec)
    """Versions and settings of the in-cluster add-ons (each cluster switches them in its own addons)."""
    submariner: SubmarinerSpec | None = None
    """Cross-cluster networking; none when absent."""
    argocd: ArgoCdSpec | None = None
    """Argo CD on this stack's hub; none when absent."""
    hub_stack: HubReferenceSpec | None = Field(default=None, alias="hub")
    """fleet:hub: register this stack's clusters into another stack's hub."""
    interconnect: InterconnectSpec = Field(default_factory=InterconnectSpec)
    """How cross-cluster API calls travel: over the internet to allow lists, or over VPC peering."""
    upgrades: UpgradesSpec = Field(default_factory=UpgradesSpec)
    """How a Kubernetes upgrade moves through the fleet (python -m plan STACK --upgrade-to V)."""
    quotas: QuotasSpec = Field(default_factory=QuotasSpec)
    """Quotas this account has raised above AWS's defaults; the preflight checks what the stack needs against them."""

    @property
    def joined_hub(self) -> FleetSpec | None:
        """The config of the stack fleet:hub names, when it was read (hub_stack.read_hub_spec)."""
        return self._joined_hub

    def with_joined_hub(self, hub: FleetSpec | None) -> FleetSpec:
        """This spec, knowing the hub stack's config."""
        joined = self.model_copy()
        joined._joined_hub = hub
        return joined

    @property
    def joining_stacks(self) -> dict[str, FleetSpec]:
        """Per stack name, the config of each stack of this project that joins this one's hub (hub_stack.joining_stacks)."""
        return self._joining

    @property
    def joining_unread(self) -> list[str]:
        """Why stack files of this project that might join the hub could not be read."""
        return self._joining_unread

    def with_joining(self, joiners: dict[str, FleetSpec], unread: list[str] | None = None) -> FleetSpec:
        """This spec, knowing the stacks that join its hub (and the stack files that did not read)."""
        joined = self.model_copy()
        joined._joining = dict(joiners)
        joined._joining_unread = list(unread or [])
        return joined

    def version_of(self, cluster: ClusterSpec) -> str:
        return cluster.kubernetes_version or self.kubernetes_version

    def support_of(self, cluster: ClusterSpec) -> SupportType:
        return cluster.support_type or self.support_type

    def protects(self, cluster: ClusterSpec) -> bool:
        """Whether the cluster's resources are protected: fleet:protect, unless it is being retired."""
        return self.protect and not cluster.retiring

    @property
    def hub(self) -> ClusterSpec | None:
        return next((c for c in self.clusters if c.role == "hub"), None)

    @property
    def gitops(self) -> ArgoCdSpec | None:
        """The Argo CD section when it is enabled."""
        return self.argocd if self.argocd is not None and self.argocd.enabled else None

    @property
    def clusterset(self) -> SubmarinerSpec | None:
        """The Submariner section when it is enabled."""
        return self.submariner if self.submariner is not None and self.submariner.enabled else None

    def clusterset_members(self) -> list[str]:
        """Names of the clusters joined to the clusterset, sorted; empty without Submariner."""
        if self.clusterset is None:
            return []
        if self.clusterset.clusters is None:
            return sorted(c.name for c in self.clusters)
        return sorted(set(self.clusterset.clusters))

    def broker_cluster(self) -> str | None:
        """The cluster hosting the Submariner broker (configured, else the hub)."""
        if self.clusterset is None:
            return None
        if self.clusterset.broker is not None:
            return self.clusterset.broker
        return self.hub.name if self.hub else None

    @property
    def interconnect_mode(self) -> InterconnectMode:
        """The configured mode, else the default for the fleet's size.

        Up to three clusters every allow list stays far below EKS's 40 entries and a private path
        would cost more (peering routes, Route 53 Resolver endpoints) than it saves; from four on,
        the broker's allow list grows by nine addresses per member and the hub's peering keeps it flat.
        """
        if self.interconnect.mode is not None:
            return self.interconnect.mode
        center = self.hub is not None or self.broker_cluster() is not None
        return InterconnectMode.PEERING if center and len(self.clusters) > SMALL_FLEET else InterconnectMode.NONE

    @property
    def drained_clusters(self) -> set[str]:
        """Clusters drained fleet-wide (clusters[].drained)."""
        return {c.name for c in self.clusters if c.drained}

    def serving_targets(self, record: RecordSpec) -> list[RecordTarget]:
        """The record sets registered for ``record``: drained clusters (the record's or the fleet's) left out."""
        return record.serving_targets(self.drained_clusters)

    def served_clusters(self) -> set[str]:
        """Clusters that some DNS record sends traffic to."""
        if self.dns is None:
            return set()
        return {cluster for record in self.dns.records for _, cluster in record.referenced_clusters()}
