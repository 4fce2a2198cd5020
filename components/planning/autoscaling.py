"""Node autoscaling and GPU scheduling as pure data: what cluster-autoscaler sees of a node group, chart values.

Why cluster-autoscaler rather than Karpenter: the fleet's node groups are EKS managed node groups
whose shape (instance types, capacity type, labels, taints, min/max) is the reviewed config;
cluster-autoscaler scales exactly those groups within ``minSize``/``maxSize`` and nothing else, so
the config stays the truth. Karpenter would replace them with NodePools and launch instances
outside the managed groups (its own node role, interruption queue, EC2NodeClasses).

How it scales a group from zero (cluster-autoscaler's AWS provider README, "Scaling a node group
to 0"): with no node to copy, it builds a template node from the instance type (CPU, memory, GPUs
from its built-in EC2 table) plus, for EKS managed node groups, the labels and taints returned by
``eks:DescribeNodegroup``. So its role needs that permission for the cluster's node groups, and the
groups' labels and taints in EKS must be the ones pods select and tolerate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..aws import eks_releases
from ..config.model import NodeGroupSpec, Taint, WorkloadIdentity
from . import workload_identity

# Lets workloads select a node group by its config name; EKS's own label carries a generated name.
NODE_GROUP_LABEL = "fleet/node-group"

AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler"
NVIDIA_REPO = "https://nvidia.github.io/k8s-device-plugin"
NVIDIA_NAMESPACE = "nvidia-device-plugin"
# The device plugin's own chart selects nodes with this label (its default affinity's third term).
GPU_PRESENT_LABEL = ("nvidia.com/gpu.present", "true")
GPU_RESOURCE = "nvidia.com/gpu"
# cluster-autoscaler's AWS provider knows a node is a GPU node by this label (its GPULabel) while the
# device plugin has not yet advertised nvidia.com/gpu: without it, it sees a booting GPU node as
# unready capacity and scales up again.
ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"


# GPUs per instance for the NVIDIA families' sizes (EC2 accelerated computing instance specs),
# as cluster-autoscaler's built-in table has them.
_GPUS_BY_SIZE = {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}
_EIGHT_GPU_FAMILIES = ("p4d", "p4de", "p5", "p5e", "p5en", "p6")


def gpus_per_instance(instance_type: str) -> int:
    family, size = instance_type.split(".", 1)
    if family.split("-")[0] in _EIGHT_GPU_FAMILIES:
        return 8
    return _GPUS_BY_SIZE.get(size, 1)


@dataclass(frozen=True)
class Sizes:
    min_size: int
    desired_size: int
    max_size: int


def registered_sizes(group: NodeGroupSpec, zones: int) -> Sizes:
    """Each registered group's sizes: the configured ones, or for a per-zone group each zone's share,
    rounded up so the zones together reach at least what was configured."""
    if not group.zonal:
        return Sizes(group.min_size, group.desired_size, group.max_size)
    return Sizes(_ceil(group.min_size, zones), _ceil(group.desired_size, zones), max(1, _ceil(group.max_size, zones)))


def _ceil(count: int, parts: int) -> int:
    return -(-count // parts)


@dataclass(frozen=True)
class NodeTemplate:
    """The node cluster-autoscaler imagines for a group with no nodes."""

    labels: Mapping[str, str]
    taints: tuple[Taint, ...]
    gpus: int


def node_template(group: NodeGroupSpec) -> NodeTemplate:
    """What cluster-autoscaler builds for ``group`` from eks:DescribeNodegroup and the instance type."""
    labels = dict(node_labels(group))
    labels[CAPACITY_TYPE_LABEL] = group.capacity_type.value
    gpus = gpus_per_instance(group.instance_types[0]) if group.ami_type.is_gpu else 0
    return NodeTemplate(labels=labels, taints=group.effective_taints, gpus=gpus)


def node_labels(group: NodeGroupSpec) -> dict[str, str]:
    """The labels the program gives a node group in EKS (and so its nodes, and its scale-from-zero template)."""
    labels = {**group.labels, NODE_GROUP_LABEL: group.name}
    if group.ami_type.is_gpu:
        labels[GPU_PRESENT_LABEL[0]] = GPU_PRESENT_LABEL[1]
        labels[ACCELERATOR_LABEL] = f"nvidia-{group.instance_types[0].split('.')[0]}"
    return labels


@dataclass(frozen=True)
class Toleration:
    key: str
    operator: str = "Exists"
    value: str = ""
    effect: str = ""

    def tolerates(self, taint: Taint) -> bool:
        if self.key != taint.key or (self.effect and self.effect != taint.effect.value):
            return False
        return self.operator == "Exists" or self.value == taint.value


@dataclass(frozen=True)
class PodNeeds:
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: Sequence[Toleration] = ()
    gpus: int = 0


def fits(pod: PodNeeds, template: NodeTemplate) -> bool:
    """Would the scheduler place ``pod`` on a node like ``template`` (selector, NoSchedule/NoExecute taints, GPUs)?"""
    if any(template.labels.get(k) != v for k, v in pod.node_selector.items()):
        return False
    for taint in template.taints:
        if taint.effect.value in ("NoSchedule", "NoExecute") and not any(t.tolerates(taint) for t in pod.tolerations):
            return False
    return pod.gpus <= template.gpus


SCAN_INTERVAL_SECONDS = 10
MAX_NODE_PROVISION_MINUTES = 15
"""cluster-autoscaler's flag defaults, which the fleet does not override (its FAQ, "What are the
parameters to CA?": ``--scan-interval`` 10s, ``--max-node-provision-time`` 15m; the chart's
values.yaml shows the same as extraArgs examples): it looks for pending pods every 10 s, and gives a
node it asked for up to 15 minutes to join before it gives up on it and may try another group. Not a
bound on growth: retries, backoff, EC2 capacity and quotas can take longer (the FAQ: provisioning
time "doesn't depend on CA")."""


def autoscaler_values(
    cluster: str, region: str, role_arn: Any, kubernetes_version: str, mode: WorkloadIdentity = WorkloadIdentity.IRSA
) -> dict[str, Any]:
    """cluster-autoscaler chart values: auto-discovery of this cluster's groups, its role (IRSA's annotation,
    or Pod Identity's association, planning/workload_identity.py), balanced similar groups."""
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster},
        "image": {"tag": eks_releases.AUTOSCALER_IMAGE_TAGS[kubernetes_version]},
        "rbac": {
            "serviceAccount": {
                "name": AUTOSCALER_SERVICE_ACCOUNT,
                "annotations": workload_identity.service_account_annotations(mode, role_arn),
            }
        },
        # A change of mode restarts the pods, which get the new mode's credentials as they start.
        **({"podAnnotations": annotations} if (annotations := workload_identity.pod_annotations(mode)) else {}),
        "extraArgs": {
            # Spread capacity over a workload's similar groups (one per AZ or instance family).
            "balance-similar-node-groups": True,
            # Among groups that fit, the one that leaves least CPU and memory idle.
            "expander": "least-waste",
            # Nodes whose pods use emptyDir can still be scaled down (their data is scratch).
            "skip-nodes-with-local-storage": False,
        },
    }


def device_plugin_values() -> dict[str, Any]:
    """nvidia-device-plugin chart values: on GPU nodes only (their label), tolerating their taint."""
    key, value = GPU_PRESENT_LABEL
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]
                }
            }
        },
        "tolerations": [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}],
    }
