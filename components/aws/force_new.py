"""Which input changes make the provider replace a resource instead of updating it.

pulumi-aws bridges the Terraform AWS provider: a property marked ``ForceNew`` (SDKv2) or with a
``RequiresReplace`` plan modifier (Plugin Framework) in the cited file makes Pulumi replace the
resource when it changes. pulumi-eks's components are remote: what replaces their hidden children
is cited from pulumi-eks and the underlying Terraform resource. Kubernetes objects are replaced on
a change of their identity (name, namespace) and of the fields the API server keeps immutable.
Paths are the Pulumi (camelCase) input names; a change at or below a path forces the replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

TF = "hashicorp/terraform-provider-aws: internal/service/"


@dataclass(frozen=True)
class ForceNew:
    paths: tuple[str, ...]
    """Input paths whose change replaces the resource."""
    source: str
    """Where the fact is stated (repository and file)."""


FORCE_NEW: dict[str, ForceNew] = {
    # ---- EC2 and VPC
    "aws:ec2/vpc:Vpc": ForceNew(("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"), TF + "ec2/vpc_.go"),
    "aws:ec2/subnet:Subnet": ForceNew(
        ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"), TF + "ec2/vpc_subnet.go"
    ),
    "aws:ec2/route:Route": ForceNew(
        ("routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"),
        TF + "ec2/vpc_route.go",
    ),
    "aws:ec2/routeTable:RouteTable": ForceNew(("vpcId",), TF + "ec2/vpc_route_table.go"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ForceNew(
        ("subnetId", "gatewayId"), TF + "ec2/vpc_route_table_association.go"
    ),
    "aws:ec2/internetGateway:InternetGateway": ForceNew((), TF + "ec2/vpc_internet_gateway.go"),
    "aws:ec2/natGateway:NatGateway": ForceNew(
        ("allocationId", "subnetId", "connectivityType", "privateIp"), TF + "ec2/vpc_nat_gateway.go"
    ),
    "aws:ec2/eip:Eip": ForceNew(
        ("domain", "address", "publicIpv4Pool", "networkBorderGroup", "customerOwnedIpv4Pool"), TF + "ec2/ec2_eip.go"
    ),
    "aws:ec2/securityGroup:SecurityGroup": ForceNew(
        ("name", "namePrefix", "description", "vpcId"), TF + "ec2/vpc_security_group.go"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ForceNew(("vpcId",), TF + "ec2/vpc_default_security_group.go"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ForceNew(
        ("securityGroupId",), TF + "vpc/security_group_ingress_rule.go"
    ),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ForceNew(
        ("securityGroupId",), TF + "vpc/security_group_egress_rule.go"
    ),
    "aws:ec2/managedPrefixList:ManagedPrefixList": ForceNew(("addressFamily",), TF + "ec2/vpc_managed_prefix_list.go"),
    # Every other launch template change writes a new template version.
    "aws:ec2/launchTemplate:LaunchTemplate": ForceNew(("name", "namePrefix"), TF + "ec2/ec2_launch_template.go"),
    "aws:ec2/flowLog:FlowLog": ForceNew(
        (
            "vpcId",
            "subnetId",
            "eniId",
            "transitGatewayId",
            "logDestination",
            "logDestinationType",
            "logFormat",
            "iamRoleArn",
            "deliverCrossAccountRole",
            "trafficType",
            "maxAggregationInterval",
            "destinationOptions",
        ),
        TF + "ec2/vpc_flow_log.go",
    ),
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": ForceNew(
        ("vpcId", "peerVpcId", "peerOwnerId", "peerRegion"), TF + "ec2/vpc_peering_connection.go"
    ),
    "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": ForceNew(
        ("vpcPeeringConnectionId",), TF + "ec2/vpc_peering_connection_accepter.go"
    ),
    # ---- Transit gateways
    "aws:ec2transitgateway/transitGateway:TransitGateway": ForceNew(("amazonSideAsn",), TF + "ec2/transitgateway_.go"),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": ForceNew(
        ("transitGatewayId", "vpcId"), TF + "ec2/transitgateway_vpc_attachment.go"
    ),
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": ForceNew(
        ("transitGatewayId", "peerTransitGatewayId", "peerRegion", "peerAccountId"),
        TF + "ec2/transitgateway_peering_attachment.go",
    ),
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": ForceNew(
        ("transitGatewayAttachmentId",), TF + "ec2/transitgateway_peering_attachment_accepter.go"
    ),
    # The resource has no update: every argument is ForceNew.
    "aws:ec2transitgateway/route:Route": ForceNew(
        ("destinationCidrBlock", "transitGatewayRouteTableId", "transitGatewayAttachmentId", "blackhole"),
        TF + "ec2/transitgateway_route.go",
    ),
    "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation": ForceNew(
        ("transitGatewayAttachmentId", "transitGatewayRouteTableId"),
        TF + "ec2/transitgateway_route_table_association.go",
    ),
    # ---- Route 53
    # Routing-policy changes are updates (one ChangeResourceRecordSets batch of DELETE and CREATE),
    # which Route 53 refuses while other sets of the name keep another routing type.
    "aws:route53/record:Record": ForceNew(("zoneId", "name"), TF + "route53/record.go"),
    "aws:route53recoverycontrol/cluster:Cluster": ForceNew(("name",), TF + "route53recoverycontrolconfig/cluster.go"),
    "aws:route53recoverycontrol/controlPanel:ControlPanel": ForceNew(
        ("clusterArn",), TF + "route53recoverycontrolconfig/control_panel.go"
    ),
    "aws:route53recoverycontrol/routingControl:RoutingControl": ForceNew(
        ("clusterArn",), TF + "route53recoverycontrolconfig/routing_control.go"
    ),
    "aws:route53recoverycontrol/safetyRule:SafetyRule": ForceNew(
        ("assertedControls", "controlPanelArn", "gatingControls", "ruleConfig", "targetControls"),
        TF + "route53recoverycontrolconfig/safety_rule.go",
    ),
    "aws:route53/healthCheck:HealthCheck": ForceNew(
        ("type", "requestInterval", "measureLatency", "referenceName", "routingControlArn"),
        TF + "route53/health_check.go",
    ),
    "aws:route53/resolverEndpoint:ResolverEndpoint": ForceNew(
        ("direction", "securityGroupIds", "creatorRequestId"), TF + "route53resolver/endpoint.go"
    ),
    "aws:route53/resolverRule:ResolverRule": ForceNew(("domainName", "ruleType"), TF + "route53resolver/rule.go"),
    "aws:route53/resolverRuleAssociation:ResolverRuleAssociation": ForceNew(
        ("resolverRuleId", "vpcId", "name"), TF + "route53resolver/rule_association.go"
    ),
    # ---- Load balancing
    "aws:lb/loadBalancer:LoadBalancer": ForceNew(
        ("name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool"), TF + "elbv2/load_balancer.go"
    ),
    "aws:lb/targetGroup:TargetGroup": ForceNew(
        ("name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType", "ipAddressType"),
        TF + "elbv2/target_group.go",
    ),
    "aws:lb/listener:Listener": ForceNew(("loadBalancerArn",), TF + "elbv2/listener.go"),
    # ---- IAM, KMS, logs
    "aws:iam/role:Role": ForceNew(("name", "namePrefix", "path"), TF + "iam/role.go"),
    "aws:iam/rolePolicy:RolePolicy": ForceNew(("role", "name", "namePrefix"), TF + "iam/role_policy.go"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ForceNew(("role", "policyArn"), TF + "iam/role_policy_attachment.go"),
    "aws:kms/key:Key": ForceNew(
        ("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"), TF + "kms/key.go"
    ),
    "aws:cloudwatch/logGroup:LogGroup": ForceNew(("name", "namePrefix", "logGroupClass"), TF + "logs/group.go"),
    # ---- EKS
    "aws:eks/accessEntry:AccessEntry": ForceNew(("clusterName", "principalArn", "type"), TF + "eks/access_entry.go"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ForceNew(
        ("clusterName", "principalArn", "policyArn", "accessScope"), TF + "eks/access_policy_association.go"
    ),
    "aws:eks/addon:Addon": ForceNew(("clusterName", "addonName"), TF + "eks/addon.go"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ForceNew(
        ("clusterName", "namespace", "serviceAccount"), TF + "eks/pod_identity_association.go"
    ),
    # Remote components: what replaces the aws:eks/cluster:Cluster or aws:eks/nodeGroup:NodeGroup inside.
    # Subnets and security groups update in place since terraform-provider-aws v5.25.0 (EKS
    # UpdateClusterConfig, 2023-10; CHANGELOG: "Allow vpc_config.security_group_ids and
    # vpc_config.subnet_ids to be updated in-place").
    "eks:index:Cluster": ForceNew(
        (
            "name",
            "vpcId",
            "serviceRole",
            "encryptionConfigKeyArn",
            "kubernetesServiceIpAddressRange",
            "ipFamily",
            "bootstrapSelfManagedAddons",
            "authenticationMode.bootstrapClusterCreatorAdminPermissions",
        ),
        "pulumi/pulumi-eks: nodejs/eks/cluster.ts; " + TF + "eks/cluster.go",
    ),
    "eks:index:ManagedNodeGroup": ForceNew(
        (
            "cluster",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "subnetIds",
            "instanceTypes",
            "capacityType",
            "amiType",
            "diskSize",
            "remoteAccess",
            "launchTemplate.id",
            "launchTemplate.name",
        ),
        "pulumi/pulumi-eks: nodejs/eks/nodegroup.ts; " + TF + "eks/node_group.go",
    ),
    # ---- Kubernetes (identity and immutable fields; pulumi-kubernetes replaces on them)
    "kubernetes:core/v1:Namespace": ForceNew(("metadata.name",), "kubernetes: namespaces are immutable by name"),
    "kubernetes:core/v1:Secret": ForceNew(
        ("metadata.name", "metadata.namespace", "type"), "kubernetes: pkg/apis/core/validation (Secret.type immutable)"
    ),
    "kubernetes:core/v1:ServiceAccount": ForceNew(("metadata.name", "metadata.namespace"), "kubernetes: object identity"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ForceNew(
        ("metadata.name", "metadata.namespace", "roleRef"), "kubernetes: pkg/apis/rbac/validation (roleRef immutable)"
    ),
    "kubernetes:storage.k8s.io/v1:StorageClass": ForceNew(
        ("metadata.name", "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"),
        "kubernetes: pkg/apis/storage/validation (StorageClass updates)",
    ),
    "kubernetes:helm.sh/v3:Release": ForceNew(
        ("name", "namespace"), "pulumi/pulumi-kubernetes: provider/pkg/provider/helm_release.go"
    ),
    "kubernetes:argoproj.io/v1alpha1:Application": ForceNew(
        ("metadata.name", "metadata.namespace"), "kubernetes: object identity"
    ),
    "kubernetes:argoproj.io/v1alpha1:ApplicationSet": ForceNew(
        ("metadata.name", "metadata.namespace"), "kubernetes: object identity"
    ),
    "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding": ForceNew(
        ("metadata.name", "metadata.namespace"), "kubernetes: object identity"
    ),
    "kubernetes:submariner.io/v1alpha1:Submariner": ForceNew(
        ("metadata.name", "metadata.namespace"), "kubernetes: object identity"
    ),
    # ---- Others
    "random:index/randomPassword:RandomPassword": ForceNew(
        (
            "length",
            "special",
            "upper",
            "lower",
            "numeric",
            "minLower",
            "minUpper",
            "minNumeric",
            "minSpecial",
            "overrideSpecial",
            "keepers",
        ),
        "pulumi/pulumi-random: terraform-provider-random internal/provider/resource_password.go",
    ),
    "pulumi:providers:aws": ForceNew(
        (),
        "pulumi/pulumi-aws commit d273034: v7 forces provider replacement on no config key "
        "(region included; resources carry their own)",
    ),
    "pulumi:providers:kubernetes": ForceNew((), "pulumi/pulumi-kubernetes: provider/pkg/provider/provider.go DiffConfig"),
    "pulumi:pulumi:StackReference": ForceNew(("name",), "pulumi/pulumi: sdk stack_reference (read by name)"),
}


def forced_by(type_token: str, changed: set[str]) -> list[str]:
    """The changed paths that replace a resource of ``type_token`` (KeyError for a type not in the table)."""
    paths = FORCE_NEW[type_token].paths
    return sorted(c for c in changed if any(c == p or c.startswith(f"{p}.") or c.startswith(f"{p}[") for p in paths))
