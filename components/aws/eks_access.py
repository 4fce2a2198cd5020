"""EKS access entries and access policies: the facts the fleet's access model relies on.

- EKS keeps at most one access entry per IAM principal per cluster; creating a second one fails
  with ``ResourceInUseException`` (EKS API reference, CreateAccessEntry).
- A cluster created with ``bootstrapClusterCreatorAdminPermissions: true`` (what pulumi-eks always
  asks for, pulumi/pulumi-eks#2373) gets an admin entry for its creator, made by EKS and not by the
  program; the setting can only be chosen at creation (changing it replaces the cluster).
- Access policies are AWS-managed and fixed (EKS user guide, "Review access policy permissions"):
  AmazonEKSClusterAdminPolicy (cluster-admin), AmazonEKSAdminPolicy (admin), AmazonEKSEditPolicy
  (edit) and AmazonEKSViewPolicy (view), each associated with a ``cluster`` or a ``namespace``
  scope. The view policy reads no Secrets.
"""

from __future__ import annotations

from enum import StrEnum


class AccessLevel(StrEnum):
    """What an entry lets its principal do, as Kubernetes' user-facing roles name it."""

    ADMIN = "admin"
    EDIT = "edit"
    VIEW = "view"


CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"

# The access policy each level maps to, per scope: cluster-wide admin is cluster-admin; inside
# namespaces, the admin policy (it grants no cluster-scoped objects).
POLICY_FOR = {
    (AccessLevel.ADMIN, "cluster"): CLUSTER_ADMIN_POLICY,
    (AccessLevel.ADMIN, "namespace"): "AmazonEKSAdminPolicy",
    (AccessLevel.EDIT, "cluster"): "AmazonEKSEditPolicy",
    (AccessLevel.EDIT, "namespace"): "AmazonEKSEditPolicy",
    (AccessLevel.VIEW, "cluster"): "AmazonEKSViewPolicy",
    (AccessLevel.VIEW, "namespace"): "AmazonEKSViewPolicy",
}


def policy_arn(partition: str, policy: str) -> str:
    """An access policy's ARN: AWS-managed, no region or account."""
    return f"arn:{partition}:eks::aws:cluster-access-policy/{policy}"
