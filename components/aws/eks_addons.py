"""The EKS-managed add-ons the fleet installs beyond the ones pulumi-eks manages (kube-proxy, VPC CNI,
CoreDNS: eks_releases.py), one row each: what EKS calls it, the fleet:addons key of its version pin,
the switch a cluster turns it on with, and the IAM its service account needs.

Version rule, the same for every row: the pin for the cluster's minor (fleet:addons, one version or
one per minor), else EKS's default build for the cluster's minor (DescribeAddonVersions' default,
``aws.eks.get_addon_version`` with mostRecent false), so an upgrade moves the add-on with the
cluster, and EKS changing its default for a minor shows in the next preview. EKS user guide,
"Amazon EKS add-ons"; API reference, DescribeAddonVersions. Adding one (e.g. the EFS CSI driver) is a
row here and its pin field and switch in components/config/cluster.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EksAddon:
    name: str
    """The EKS add-on name (CreateAddon's addonName)."""
    part: str
    """The resource name part (``<cluster>-addons-<part>``)."""
    pin_field: str
    """The AddonVersionsSpec field of its version pin (fleet:addons.<camelCase>)."""
    pin_key: str
    """That field's config key."""
    switch: str
    """The ClusterAddonsSpec field that turns it on for a cluster."""
    managed_policy: str | None = None
    """The AWS managed policy its service account's role gets, if it calls AWS."""
    service_account: str | None = None
    """Its service account that calls AWS (the add-on's Pod Identity association names it): for the EBS CSI
    driver, ebs-csi-controller-sa (EKS user guide, add-ons-iam, "Pod Identity Support Reference")."""


EKS_ADDONS: tuple[EksAddon, ...] = (
    EksAddon(
        "aws-ebs-csi-driver",
        "ebs-csi",
        "ebs_csi_version",
        "ebsCsiVersion",
        "ebs_csi",
        "service-role/AmazonEBSCSIDriverPolicy",
        "ebs-csi-controller-sa",
    ),
    EksAddon("metrics-server", "metrics-server", "metrics_server_version", "metricsServerVersion", "metrics_server"),
)

BY_NAME = {addon.name: addon for addon in EKS_ADDONS}
