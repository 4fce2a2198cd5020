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
GATEWAY_NODE_TAG = ("fleet-node-group", "submariner-gateway")


def gateway_node_policy(partition: str, region: str, cluster: str) -> dict[str, Any]:
    """What a Submariner gateway node does to itself at boot: claim a pool address, drop the source/dest check.

    Both changes are limited to this cluster's gateway instances and its own address pool, by tag.
    """
    instance_tags = {"aws:ResourceTag/fleet-cluster": cluster, f"aws:ResourceTag/{GATEWAY_NODE_TAG[0]}": GATEWAY_NODE_TAG[1]}
    return {
        "Version": "2012-10-17",
        "Statement": [
            # DescribeAddresses has no resource-level permissions.
            {"Sid": "FindPoolAddresses", "Effect": "Allow", "Action": ["ec2:DescribeAddresses"], "Resource": "*"},
            {
                "Sid": "ClaimPoolAddress",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress"],
                "Resource": f"arn:{partition}:ec2:{region}:*:elastic-ip/*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{GATEWAY_POOL_TAG}": cluster}},
            },
            {
                "Sid": "ChangeOwnGatewayInstance",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress", "ec2:ModifyInstanceAttribute"],
                "Resource": f"arn:{partition}:ec2:{region}:*:instance/*",
                "Condition": {"StringEquals": instance_tags},
            },
            {
                # Associating an address touches the instance's primary network interface too.
                "Sid": "UseOwnNetworkInterface",
                "Effect": "Allow",
                "Action": ["ec2:AssociateAddress"],
                "Resource": f"arn:{partition}:ec2:{region}:*:network-interface/*",
            },
        ],
    }


def argocd_hub_trust_policy(
    oidc_provider_arn: str, oidc_provider_url: str, namespace: str, service_accounts: tuple[str, ...], own_role_arn: str
) -> dict[str, Any]:
    """Trust for the hub's Argo CD role: the named service accounts through IRSA (sub and aud pinned),
    and the role itself, because Argo CD assumes the roleARN of a cluster's awsAuthConfig from its
    IRSA session before asking EKS for a token."""
    issuer = oidc_provider_url.removeprefix("https://")
    account_root = own_role_arn.split(":role/", 1)[0] + ":root"
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
            {
                "Sid": "AssumeSelfForClusterAuth",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": "sts:AssumeRole",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": own_role_arn}},
            },
        ],
    }
