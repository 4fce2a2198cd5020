"""A cluster's config (fleet:clusters[]): its network, node groups, edge, add-ons and support policy."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from ..aws import cidr, eks_addons, eks_node_updates, regions
from ..aws.instance_types import AmiType, ami_type_for
from ..aws.zones import EKS_UNSUPPORTED_ZONE_IDS
from .types import (
    DnsLabel,
    DomainName,
    HostedZoneId,
    InstanceType,
    KubernetesVersion,
    LabelKey,
    LabelMap,
    LabelValue,
    Model,
    Network,
    Region,
    prefix_between,
    private_range,
)


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"

    @property
    def eks_value(self) -> str:
        """The EKS API spells effects NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE."""
        return self.name


class Taint(Model):
    key: LabelKey
    """Taint key, label-key syntax."""
    value: LabelValue = ""
    """Taint value, label-value syntax (may be empty)."""
    effect: TaintEffect
    """NoSchedule, PreferNoSchedule or NoExecute."""


GPU_TAINT = Taint(key="nvidia.com/gpu", value="true", effect=TaintEffect.NO_SCHEDULE)


class CapacityType(StrEnum):
    ON_DEMAND = "ON_DEMAND"
    SPOT = "SPOT"


def _max_unavailable(value: int | str) -> int | str:
    limit = eks_node_updates.MAX_UNAVAILABLE_QUOTA
    if isinstance(value, bool) or (isinstance(value, int) and not 1 <= value <= limit):
        raise ValueError(f"must be a node count from 1 to {limit} or a percentage such as '25%', got {value!r}")
    if isinstance(value, str):
        match = re.fullmatch(r"([0-9]{1,3})%", value)
        if match is None or not 1 <= int(match[1]) <= 100:
            raise ValueError(f"must be a node count from 1 to {limit} or a percentage from '1%' to '100%', got {value!r}")
    return value


MaxUnavailableSetting = Annotated[int | str, AfterValidator(_max_unavailable)]


class NodeGroupSpec(Model):
    name: DnsLabel
    """Unique within the cluster."""
    instance_types: Annotated[list[InstanceType], Field(min_length=1)]
    """EC2 instance types; all of one architecture and accelerator kind."""
    min_size: Annotated[int, Field(ge=0)]
    """Fewest nodes; raising it above the running size needs the resize --compare prints, first."""
    max_size: Annotated[int, Field(ge=1)]
    """Most nodes the autoscaler may run."""
    desired_size: Annotated[int, Field(ge=0)]
    """Seeds the group (minSize <= desiredSize <= maxSize); the autoscaler owns it afterwards."""
    capacity_type: CapacityType = CapacityType.ON_DEMAND
    """ON_DEMAND or SPOT."""
    disk_size_gib: Annotated[int, Field(ge=20, le=16384)] = 50
    """Encrypted gp3 root volume size; a change rolls every node of the group."""
    labels: LabelMap = Field(default_factory=dict)
    """Kubernetes node labels of the group's nodes."""
    taints: list[Taint] = Field(default_factory=list)
    """Node taints; GPU groups always get nvidia.com/gpu=true:NoSchedule."""
    per_zone: bool | None = None
    """One group per zone, balanced by the autoscaler, so a pod bound to a zonal EBS volume can always
    scale up in its zone; unset: on for on-demand, non-GPU groups (where stateful workloads land)."""
    max_unavailable: MaxUnavailableSetting = eks_node_updates.DEFAULT_MAX_UNAVAILABLE
    """Nodes an update of the group (new minor, node image or launch template) replaces at once: a count
    (1-100) or a percentage of the group ('25%'). 1 keeps the most capacity and is the slowest; EKS
    launches the larger of 2 per zone and this many extra nodes meanwhile (docs/nodes.md)."""

    @property
    def update_config(self) -> eks_node_updates.MaxUnavailable:
        """The group's EKS updateConfig."""
        if isinstance(self.max_unavailable, str):
            return eks_node_updates.MaxUnavailable(percentage=int(self.max_unavailable.rstrip("%")))
        return eks_node_updates.MaxUnavailable(count=self.max_unavailable)

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


class IngressTarget(Model):
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


class EdgeSpec(Model):
    enabled: bool = True
    """False: this cluster serves no public traffic and records may not name it."""
    dns_name: DomainName | None = None
    """An existing load balancer's DNS name, instead of an NLB the program owns."""
    zone_id: HostedZoneId | None = None
    """That load balancer's canonical hosted zone id."""
    ingress: IngressTarget = Field(default_factory=IngressTarget)
    """The in-cluster Service the owned NLB forwards to (TCP pass-through)."""

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


# An EKS add-on version: one for every Kubernetes minor, one per minor, or unset (EKS's default).
AddonPin = str | dict[KubernetesVersion, str] | None


def pinned_version(pin: AddonPin, minor: str) -> str | None:
    """The version ``pin`` gives a cluster at ``minor``; None when unset or the minor has none."""
    if isinstance(pin, dict):
        return pin.get(minor)
    return pin


class AddonVersionsSpec(Model):
    cluster_autoscaler_chart_version: str = "9.59.0"
    """cluster-autoscaler chart (kubernetes/autoscaler), pinned; its image follows each cluster's minor version."""
    nvidia_device_plugin_chart_version: str = "0.20.0"
    """nvidia-device-plugin chart (NVIDIA/k8s-device-plugin), pinned."""
    ebs_csi_version: AddonPin = None
    """aws-ebs-csi-driver EKS add-on version (v1.x.y-eksbuild.n), for every minor or per minor
    ({"1.35": ...}); unset: EKS's default build for each cluster's minor, which an upgrade moves."""
    metrics_server_version: AddonPin = None
    """metrics-server EKS add-on version, for every minor or per minor; unset: EKS's default build for
    each cluster's minor, which an upgrade moves."""

    def pins(self) -> dict[str, AddonPin]:
        """The pin of each EKS add-on of components/aws/eks_addons.py, by add-on name, as configured."""
        return {addon.name: getattr(self, addon.pin_field) for addon in eks_addons.EKS_ADDONS}

    storage_kms_key_arn: Annotated[str, AfterValidator(_kms_key_arn)] | None = None
    """KMS key for the default StorageClass's volumes; unset: the account's aws/ebs key (still encrypted)."""


class LoadBalancerControllerSpec(Model):
    chart_version: str = "1.17.0"
    """aws-load-balancer-controller chart (eks-charts), pinned; app v2.17.0."""


class WorkloadIdentity(StrEnum):
    """How the fleet's own workloads that call AWS (the load balancer controller, cluster-autoscaler,
    the EBS CSI driver, Argo CD on the hub) get their IAM role: planning/workload_identity.py."""

    POD_IDENTITY = "podIdentity"
    BOTH = "both"
    IRSA = "irsa"


class SupportType(StrEnum):
    """EKS upgrade policy: STANDARD upgrades the cluster when standard support ends; EXTENDED pays for 12 more months."""

    STANDARD = "STANDARD"
    EXTENDED = "EXTENDED"


class FlowLogDestination(StrEnum):
    CLOUDWATCH = "cloudWatch"
    S3 = "s3"


_S3_BUCKET_ARN = re.compile(r"^arn:aws(-[a-z]+)*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[\w./-]*)?$")


class FlowLogsSpec(Model):
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


class ClusterAddonsSpec(Model):
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


class ClusterSpec(Model):
    name: DnsLabel
    """EKS cluster name and kube context; unique in the fleet."""
    region: Region
    """AWS region code (us-east-1)."""
    role: Literal["hub", "member"] = "member"
    """hub: runs the fleet's shared services (Argo CD, the broker by default, the interconnect hub); at most one per fleet."""
    kubernetes_version: KubernetesVersion | None = None
    """Overrides fleet:kubernetesVersion for this cluster."""
    vpc_cidr: Annotated[Network, AfterValidator(prefix_between(16, 20)), AfterValidator(private_range)]
    """RFC 1918, /16 to /20, disjoint from every range of every other cluster; also the pod range (VPC CNI)."""
    service_cidr: Annotated[Network, AfterValidator(prefix_between(12, 24)), AfterValidator(private_range)]
    """RFC 1918, /12 to /24, disjoint from its own VPC and every range of every other cluster."""
    availability_zones: Annotated[int, Field(ge=2, le=cidr.MAX_AZS)] = 3
    """Zones to spread subnets and nodes over, 2 to 6, chosen by zone ID among those EKS accepts without opting in."""
    nat_gateways: NatGateways = NatGateways.ONE_PER_AZ
    """OnePerAz survives a zone outage; Single is cheaper for non-prod."""
    labels: LabelMap = Field(default_factory=dict)
    """Cluster labels (Kubernetes syntax) that ApplicationSet selectors and upgrade waves match, e.g. environment: production."""
    node_groups: Annotated[list[NodeGroupSpec], Field(min_length=1)]
    """The cluster's managed node groups, at least one."""
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
