"""What every EC2 node of the fleet shares: its IAM role, IMDSv2 settings and encrypted root disk."""

from __future__ import annotations

import json
from typing import cast

import pulumi
import pulumi_aws as aws

from ..aws.eks_node_updates import MaxUnavailable

NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
)
# Hop limit 1 keeps pods (one network hop away) from reading node credentials through IMDS;
# workloads get AWS identity from Pod Identity or IRSA instead.
IMDS_HOP_LIMIT = 1
_EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
"""The resource pulumi-eks's ManagedNodeGroup creates for its group."""
UPDATE_CONFIG = "updateConfig"
"""The aws provider's NodeGroup input for EKS's NodegroupUpdateConfig (pulumi_aws.eks.NodeGroup.update_config)."""


def update_config(setting: MaxUnavailable) -> pulumi.ResourceTransform:
    """A transform that sets the updateConfig of the node group a pulumi-eks ManagedNodeGroup creates.

    pulumi-eks 4.4's ManagedNodeGroupArgs has no updateConfig; transforms (unlike transformations)
    reach the children of packaged components such as pulumi-eks's
    (https://www.pulumi.com/docs/iac/concepts/resources/options/transforms/). A change is an in-place
    UpdateNodegroupConfig, which rolls no node.
    """

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != NODE_GROUP_TYPE:
            return None
        # No options: the engine keeps the child's own (rebuilt from args.opts, the SDK would drop some).
        return pulumi.ResourceTransformResult(
            props={**args.props, UPDATE_CONFIG: setting.wire()}, opts=cast(pulumi.ResourceOptions, None)
        )

    return transform


def node_role(name: str, name_prefix: str, partition: str, tags: dict[str, str], opts: pulumi.ResourceOptions) -> aws.iam.Role:
    """An EC2 role with the managed policies EKS nodes need, registered as ``name`` plus one attachment per policy."""
    role = aws.iam.Role(
        name, aws.iam.RoleArgs(name_prefix=name_prefix, assume_role_policy=json.dumps(_EC2_TRUST), tags=tags), opts
    )
    for policy in NODE_POLICIES:
        aws.iam.RolePolicyAttachment(
            f"{name}-{policy}",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=f"arn:{partition}:iam::aws:policy/{policy}"),
            opts,
        )
    return role


def imds_v2_only() -> aws.ec2.LaunchTemplateMetadataOptionsArgs:
    return aws.ec2.LaunchTemplateMetadataOptionsArgs(
        http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=IMDS_HOP_LIMIT
    )


def encrypted_root_volume(size_gib: int) -> aws.ec2.LaunchTemplateBlockDeviceMappingArgs:
    return aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
        device_name="/dev/xvda",
        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
            volume_size=size_gib, volume_type="gp3", encrypted="true", delete_on_termination="true"
        ),
    )
