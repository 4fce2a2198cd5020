"""IAM policy documents as pure data, so their scope is tested without mocks."""

from __future__ import annotations

from typing import Any

LOAD_BALANCER_CONTROLLER_SA = ("kube-system", "aws-load-balancer-controller")

# Describe calls have no resource-level permissions in IAM, so they need "*"; every call that
# changes something is limited to the target groups this program owns.
_DISCOVERY_ACTIONS = (
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
_TARGET_ACTIONS = ("elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:RegisterTargets")


def load_balancer_controller_policy(target_group_arns: list[str]) -> dict[str, Any]:
    """What the AWS Load Balancer Controller needs to keep TargetGroupBindings' targets current.

    It may not create, modify or delete load balancers, listeners, target groups or security
    groups: the program owns those, so nothing in a cluster can leave an unmanaged load balancer behind.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Discover", "Effect": "Allow", "Action": list(_DISCOVERY_ACTIONS), "Resource": "*"},
            {"Sid": "RegisterTargets", "Effect": "Allow", "Action": list(_TARGET_ACTIONS), "Resource": sorted(target_group_arns)},
        ],
    }


def irsa_trust_policy(oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_account: str) -> dict[str, Any]:
    """Trust for one Kubernetes service account through the cluster's OIDC provider (sub and aud pinned)."""
    issuer = oidc_provider_url.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


GATEWAY_POOL_TAG = "submariner-gateway-pool"
# A pool address being drained (fleet:submariner.keepGatewayAddresses) carries its cluster under
# this key instead: neither the boot script's filter nor the node policy lets a gateway claim it,
# so the gateway group replaced in the same deploy lets go of it before a later deploy releases it.
GATEWAY_DRAINING_TAG = "submariner-gateway-pool-draining"
GATEWAY_NODE_TAG = ("fleet-node-group", "submariner-gateway")


def gateway_node_policy(partition: str, region: str, cluster: str) -> dict[str, Any]:
    """What a Submariner gateway node does to itself at boot: claim a pool address for its primary
    network interface and turn off that interface's source/destination check.

    Every change is limited by tag to this cluster's gateway interfaces and its own address pool.
    """
    own = {"aws:ResourceTag/fleet-cluster": cluster, f"aws:ResourceTag/{GATEWAY_NODE_TAG[0]}": GATEWAY_NODE_TAG[1]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            # Describe calls have no resource-level permissions.
            {"Sid": "FindPoolAddresses", "Effect": "Allow", "Action": ["ec2:DescribeAddresses"], "Resource": "*"},
            {
                "Sid": "ClaimPoolAddress",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress"],
                "Resource": f"arn:{partition}:ec2:{region}:*:elastic-ip/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{GATEWAY_POOL_TAG}": cluster}},
            },
            {
                # Associating by interface id authorizes the address and the interface, never the instance:
                # an instance id is ambiguous once the VPC CNI attaches a second interface.
                "Sid": "OwnGatewayInterface",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress", "ec2:ModifyNetworkInterfaceAttribute"],
                "Resource": f"arn:{partition}:ec2:{region}:*:network-interface/*",
                "Condition": {"StringEquals": own},
            },
        ],
    }


def argocd_hub_trust_policy(
    oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_accounts: tuple[str, ...]
) -> dict[str, Any]:
    """Trust for the hub's Argo CD role: only the named service accounts, through IRSA (sub and aud pinned).

    Cluster Secrets carry no roleARN, so argocd-k8s-auth signs with these IRSA credentials as
    they are; nothing ever calls sts:AssumeRole on the role.
    """
    issuer = oidc_provider_url.removeprefix("https://")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ArgoCdServiceAccounts",
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:aud": "sts.amazonaws.com",
                        f"{issuer}:sub": [f"system:serviceaccount:{namespace}:{sa}" for sa in sorted(service_accounts)],
                    }
                },
            },
        ],
    }


def flow_logs_trust_policy(account_id: str) -> dict[str, Any]:
    """Trust for the role VPC Flow Logs delivers to CloudWatch Logs with, from this account only (confused deputy)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def flow_logs_delivery_policy(log_group_arn: str) -> dict[str, Any]:
    """Write access to one log group's streams, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            }
        ],
    }


def logs_key_policy(partition: str, region: str, account_id: str) -> dict[str, Any]:
    """A KMS key CloudWatch Logs may use for this account's log groups in this region (and the account administers)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}
                },
            },
        ],
    }


def cluster_autoscaler_policy(partition: str, region: str, cluster: str) -> dict[str, Any]:
    """cluster-autoscaler's permissions (its AWS README's recommended policy), scoped to one cluster.

    It may read any group (Describe calls have no resource-level scope), read this cluster's node
    groups in EKS (labels and taints, to scale from zero), and change only the Auto Scaling groups
    EKS tags as this cluster's (k8s.io/cluster-autoscaler/<cluster>: owned).
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ReadOwnNodeGroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": f"arn:{partition}:eks:{region}:*:nodegroup/{cluster}/*/*",
            },
            {
                "Sid": "ScaleOwnGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}},
            },
        ],
    }


def ebs_key_policy(key_arn: str) -> dict[str, Any]:
    """What the EBS CSI driver needs on a customer-managed key besides AmazonEBSCSIDriverPolicy: use it, and
    grant EC2 its use for the volumes it attaches (grants for AWS resources only)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GrantForVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "UseForVolumes",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": key_arn,
            },
        ],
    }
