"""What moves with a cluster's Kubernetes minor version: the EKS add-ons pulumi-eks manages, pinned
per minor, and the rules EKS applies to a version change.

Sources:
- kube-proxy: Amazon EKS user guide, "Manage kube-proxy in Amazon EKS clusters"
  (managing-kube-proxy.md, "kube-proxy versions": the latest EKS add-on build per Kubernetes version).
- CoreDNS: Amazon EKS user guide, "Manage CoreDNS for DNS in Amazon EKS clusters"
  (managing-coredns.md, "CoreDNS versions"), same snapshot as kube-proxy's table.
- VPC CNI: Amazon EKS user guide, "Assign IPs to Pods with the Amazon VPC CNI"
  (managing-vpc-cni.md, "Amazon VPC CNI versions": one build, v1.21.1-eksbuild.7, for 1.29-1.35).
- Node images: awslabs/amazon-eks-ami CHANGELOG.md, "AMI Release v20260714": one release
  version per Kubernetes minor (the kubelet patch and the release date) for all five AL2023 AMI
  types (standard and NVIDIA on x86 and ARM, Neuron on x86).
- Skew and order: amazon-eks-user-guide ``update-cluster.adoc`` (the control plane moves one minor
  per update; managed node groups must match the control plane before the next update; nodes
  may be up to three minors older than the control plane) and ``rollback-cluster.adoc``.

pulumi-eks looks up the newest kube-proxy, CoreDNS and VPC CNI build on every run unless a version
is given (field notes, "Day 2"), so an unpinned add-on changes on a deploy nobody asked to change.
A deploy must not move an add-on to an older build than it runs (a cluster that already runs a newer
one, taken by pulumi-eks before these pins, needs this table raised to it): EKS accepts the
UpdateAddon, and the add-on then runs a build older than the one its objects were written for.
Moving an add-on down is the rollback's step only, for builds the previous minor cannot run
(rollback-cluster.adoc, "Rollback and add-ons": ``aws eks update-addon --addon-version``).
"""

from __future__ import annotations

from dataclasses import dataclass

# cluster-autoscaler's image must match the cluster's Kubernetes minor version (its README).
AUTOSCALER_IMAGE_TAGS = {
    "1.31": "v1.31.0",
    "1.32": "v1.32.0",
    "1.33": "v1.33.0",
    "1.34": "v1.34.0",
    "1.35": "v1.35.0",
}

# Kubelets may be this many minors older than the API server (Kubernetes version skew policy, 1.28+).
NODE_SKEW_MINORS = 3


@dataclass(frozen=True)
class MinorRelease:
    """The EKS add-on builds a cluster of one Kubernetes minor runs."""

    kube_proxy: str
    coredns: str
    node_patch: str
    """The kubelet version of the pinned node image release for this minor."""
    vpc_cni: str = "v1.21.1-eksbuild.7"

    @property
    def node_release(self) -> str:
        """A managed node group's releaseVersion: the node image every group of this minor runs."""
        return f"{self.node_patch}-{NODE_IMAGE_RELEASE}"


# Raising it (and the patches below, from the same CHANGELOG entry) patches every node: each managed
# node group rolls to the new image. EKS keeps older releases available, so a pin is reproducible.
NODE_IMAGE_RELEASE = "20260714"

RELEASES: dict[str, MinorRelease] = {
    "1.31": MinorRelease(kube_proxy="v1.31.14-eksbuild.9", coredns="v1.11.4-eksbuild.33", node_patch="1.31.14"),
    "1.32": MinorRelease(kube_proxy="v1.32.13-eksbuild.5", coredns="v1.11.4-eksbuild.33", node_patch="1.32.13"),
    "1.33": MinorRelease(kube_proxy="v1.33.10-eksbuild.2", coredns="v1.13.2-eksbuild.4", node_patch="1.33.13"),
    "1.34": MinorRelease(kube_proxy="v1.34.6-eksbuild.2", coredns="v1.13.2-eksbuild.4", node_patch="1.34.9"),
    "1.35": MinorRelease(kube_proxy="v1.35.3-eksbuild.2", coredns="v1.13.2-eksbuild.4", node_patch="1.35.6"),
}


def minor(version: str) -> tuple[int, int]:
    """(1, 35) for "1.35"."""
    major, number = version.split(".")[:2]
    return int(major), int(number)


def hops(current: str, target: str) -> list[tuple[str, str]]:
    """The one-minor updates from ``current`` up to ``target`` (EKS moves a control plane one minor
    per update); empty when they are equal; ValueError for a downgrade."""
    (major, start), (target_major, end) = minor(current), minor(target)
    if (target_major, end) < (major, start):
        raise ValueError(f"{target} is below {current}: EKS never moves a control plane down (only a rollback does)")
    return [(f"{major}.{n}", f"{major}.{n + 1}") for n in range(start, end)]


SSM_AMI_TYPE_PATHS = {
    "AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
    "AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
    "AL2023_x86_64_NVIDIA": "amazon-linux-2023/x86_64/nvidia",
    "AL2023_ARM_64_NVIDIA": "amazon-linux-2023/arm64/nvidia",
    "AL2023_x86_64_NEURON": "amazon-linux-2023/x86_64/neuron",
}
"""EKS's AMI types as the public SSM parameters name them (EKS user guide, "Retrieve recommended Amazon
Linux AMI IDs")."""


def recommended_release_parameter(minor: str, ami_type: str) -> str:
    """The public SSM parameter whose value is the newest node image release EKS recommends for the minor
    and AMI type: what a node group update without releaseVersion rolls to."""
    return f"/aws/service/eks/optimized-ami/{minor}/{SSM_AMI_TYPE_PATHS[ami_type]}/recommended/release_version"
