"""One regional EKS cluster: its network, secrets key, control plane and managed node groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from ..aws import eks_access, eks_releases
from ..aws.eks_access import CLUSTER_ADMIN_POLICY
from ..config.model import ClusterSpec, KubeconfigAuth, NodeGroupSpec, SupportType, WorkloadIdentity
from ..planning import autoscaling, identity, naming, workload_identity
from ..planning.kubeconfig import ClusterAccess, build, endpoint_from_eks_kubeconfig, render
from . import nodes
from .network import ClusterNetwork

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# The policy pack lets an unprotected production cluster through only with this tag.
RETIRING_TAG = "fleet-retiring"


@dataclass(frozen=True)
class RegionalClusterArgs:
    spec: ClusterSpec
    """The validated cluster entry from fleet:clusters."""
    kubernetes_version: str
    """The EKS minor version (the entry's own or fleet:kubernetesVersion)."""
    support_type: SupportType
    """The EKS upgrade policy (STANDARD or billed EXTENDED support)."""
    network: ClusterNetwork
    """The cluster's VPC, built beforehand so other clusters' allow lists can name its egress addresses."""
    api_access_cidrs: tuple[str, ...]
    """CIDRs allowed to reach the public API endpoint; empty means private endpoint only."""
    access_entries: tuple[identity.PlannedEntry, ...]
    """The access entries the program creates (components/planning/identity.py): never the creator's, which EKS made."""
    kubeconfig_auth: KubeconfigAuth
    """Profile or role the kubeconfig's get-token call uses, when the stack asks for one."""
    protect: bool
    """Protect the cluster, its secrets key and its network from deletion."""
    retiring: bool = False
    """Being removed on purpose: tagged so, for the policy pack that otherwise insists on protection."""
    peer_api_access_cidrs: pulumi.Input[Sequence[str]] = ()
    """Egress addresses of every party whose flows reach this API (components/planning/flows.py), as IPs or CIDRs."""
    workload_identity: WorkloadIdentity = WorkloadIdentity.IRSA
    """fleet:workloadIdentity: an IAM OIDC provider only while IRSA is in use; the mode tagged on the cluster."""


class RegionalCluster(pulumi.ComponentResource):
    cluster_name: str
    region: str
    endpoint: pulumi.Output[str]
    certificate_authority_data: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    nat_public_ips: pulumi.Output[list[str]]
    gateway_public_ips: pulumi.Output[list[str]]
    gateway_pool: list[aws.ec2.Eip]
    oidc_provider_arn: pulumi.Output[str]
    oidc_provider_url: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    eks_cluster: eks.Cluster

    def __init__(self, name: str, args: RegionalClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:RegionalCluster", name, None, opts)
        spec = args.spec
        region = spec.region
        self.cluster_name = spec.name
        self.region = region
        tags = naming.cluster_tags(spec.name, region) | ({RETIRING_TAG: "true"} if args.retiring else {})
        guarded = pulumi.ResourceOptions(parent=self, protect=args.protect)
        child = pulumi.ResourceOptions(parent=self)

        network = args.network

        secrets_key = aws.kms.Key(
            f"{name}-secrets",
            aws.kms.KeyArgs(
                description=f"EKS secrets envelope encryption for {spec.name}",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                tags=tags,
            ),
            guarded,
        )

        part = naming.partition(region)
        node_role = nodes.node_role(f"{name}-node", naming.role_name_prefix(f"{spec.name}-node"), part, tags, child)

        auth = args.kubeconfig_auth
        release = eks_releases.RELEASES[args.kubernetes_version]
        cluster = eks.Cluster(
            f"{name}-eks",
            eks.ClusterArgs(
                name=spec.name,
                version=args.kubernetes_version,
                upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.support_type.value),
                authentication_mode=eks.AuthenticationMode.API,
                # EKS gives the creator (fleet:deployer) an admin entry of its own; these are the others,
                # planned from the config alone, so who runs the program never changes them.
                access_entries=_access_entries(args.access_entries, part),
                vpc_id=network.vpc_id,
                private_subnet_ids=network.private_subnet_ids,
                public_subnet_ids=network.public_subnet_ids,
                endpoint_private_access=True,
                endpoint_public_access=bool(args.api_access_cidrs),
                public_access_cidrs=pulumi.Output.from_input(args.peer_api_access_cidrs).apply(
                    lambda peers: _public_access_cidrs(args.api_access_cidrs, peers)
                )
                if args.api_access_cidrs
                else None,
                enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
                encryption_config_key_arn=secrets_key.arn,
                # One per cluster, 100 per account by default: only while a workload still uses IRSA.
                create_oidc_provider=workload_identity.uses_irsa(args.workload_identity),
                kubernetes_service_ip_address_range=str(spec.service_cidr),
                skip_default_node_group=True,
                # Pinned per minor (components/aws/eks_releases.py): pulumi-eks would otherwise take
                # the newest build on every run.
                kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(version=release.kube_proxy),
                vpc_cni_options=eks.VpcCniOptionsArgs(addon_version=release.vpc_cni),
                # CoreDNS is the EKS add-on of components/resources/cluster_addons.py, created after the
                # node groups: pulumi-eks would create it here, before any node exists, where it stays
                # DEGRADED and the create times out after 20 minutes (pulumi/pulumi-eks#1819).
                coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
                # Managed nodes carry the EKS-created cluster security group; pulumi-eks's own
                # node/cluster groups would only serve self-managed nodes this fleet never runs.
                skip_default_security_groups=True,
                deletion_protection=args.protect,
                provider_credential_opts=eks.KubeconfigOptionsArgs(profile_name=auth.profile, role_arn=auth.role_arn)
                if (auth.profile or auth.role_arn)
                else None,
                tags=tags,
                # The mode, read back by the next deploy (DescribeCluster) to refuse a jump that strands pods.
                cluster_tags={workload_identity.MODE_TAG: args.workload_identity.value},
            ),
            pulumi.ResourceOptions.merge(guarded, pulumi.ResourceOptions(transforms=[_oidc_provider(args.workload_identity)])),
        )

        self.node_groups = [
            node_group
            for group in sorted(spec.node_groups, key=lambda g: g.name)
            for node_group in self._node_groups(
                f"{name}-{group.name}", group, cluster, node_role, network, tags, args.kubernetes_version
            )
        ]

        endpoint_and_ca = cluster.kubeconfig_json.apply(endpoint_from_eks_kubeconfig)
        self.eks_cluster = cluster
        self.endpoint = endpoint_and_ca.apply(lambda pair: pair[0])
        self.certificate_authority_data = endpoint_and_ca.apply(lambda pair: pair[1])
        self.kubeconfig = pulumi.Output.secret(
            endpoint_and_ca.apply(lambda pair: render(build([self.access(server=pair[0], ca=pair[1], auth=auth)])))
        )
        self.vpc_id = network.vpc_id
        self.nat_public_ips = network.nat_public_ips
        self.gateway_public_ips = network.gateway_public_ips
        self.gateway_pool = network.gateway_pool
        self.private_subnet_ids = network.private_subnet_ids
        self.public_subnet_ids = network.public_subnet_ids
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_provider_url = cluster.oidc_provider_url
        self.node_security_group_id = cluster.node_security_group_id
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "vpcId": self.vpc_id,
                "oidcProviderArn": self.oidc_provider_arn,
            }
        )

    def access(self, server: str, ca: str, auth: KubeconfigAuth) -> ClusterAccess:
        """This cluster's kubeconfig entry, for its own provider and the merged fleet kubeconfig."""
        return ClusterAccess(
            name=self.cluster_name,
            region=self.region,
            server=server,
            certificate_authority_data=ca,
            profile=auth.profile,
            role_arn=auth.role_arn,
        )

    def _node_groups(
        self,
        name: str,
        group: NodeGroupSpec,
        cluster: eks.Cluster,
        node_role: aws.iam.Role,
        network: ClusterNetwork,
        tags: dict[str, str],
        kubernetes_version: str,
    ) -> list[eks.ManagedNodeGroup]:
        """The group's launch template and its managed node group, or one per zone (NodeGroupSpec.zonal)."""
        child = pulumi.ResourceOptions(parent=self)
        template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            aws.ec2.LaunchTemplateArgs(
                name_prefix=naming.launch_template_name_prefix(f"{self.cluster_name}-{group.name}"),
                description=f"{name} nodes: IMDSv2 only, encrypted root volume",
                update_default_version=True,
                metadata_options=nodes.imds_v2_only(),
                block_device_mappings=[nodes.encrypted_root_volume(group.disk_size_gib)],
                # Instance tags are part of the template's version: any change rolls every node of the
                # group, so they carry only what never changes for it (not `retiring`, not edits to tags).
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type="instance",
                        tags={
                            **naming.cluster_tags(self.cluster_name, self.region),
                            "Name": name,
                            "fleet-node-group": group.name,
                        },
                    )
                ],
                tags=tags,
            ),
            child,
        )
        sizes = autoscaling.registered_sizes(group, len(network.zones))
        # A per-zone group is one subnet's: its autoscaler scale-up lands where the pending pod's
        # volume is. Same labels and template in every zone, so balance-similar-node-groups treats them
        # as one (it ignores eks.amazonaws.com/nodegroup and the zone labels on AWS).
        placements: list[tuple[str, str, pulumi.Input[Sequence[str]]]] = (
            [
                (f"{name}-{zone.slug}", f"{group.name}-{zone.slug}", _subnet(network.private_subnet_ids, i))
                for i, zone in enumerate(network.zones)
            ]
            if group.zonal
            else [(name, group.name, network.private_subnet_ids)]
        )
        return [
            self._managed_group(logical, physical, subnets, group, sizes, cluster, node_role, template, tags, kubernetes_version)
            for logical, physical, subnets in placements
        ]

    def _managed_group(
        self,
        name: str,
        physical: str,
        subnets: pulumi.Input[Sequence[str]],
        group: NodeGroupSpec,
        sizes: autoscaling.Sizes,
        cluster: eks.Cluster,
        node_role: aws.iam.Role,
        template: aws.ec2.LaunchTemplate,
        tags: dict[str, str],
        kubernetes_version: str,
    ) -> eks.ManagedNodeGroup:
        return eks.ManagedNodeGroup(
            name,
            eks.ManagedNodeGroupArgs(
                cluster=cluster,
                node_group_name_prefix=naming.node_group_name_prefix(self.cluster_name, physical),
                node_role_arn=node_role.arn,
                # pulumi-eks defaults a group's version to the cluster's only without a launch template
                # (pulumi-eks#1253): without it a control-plane upgrade leaves the nodes behind, and EKS
                # then refuses the next one. Set, the group rolls to the new minor after the control plane.
                version=kubernetes_version,
                # The pinned node image (components/aws/eks_releases.py): a deploy never takes a newer
                # one by itself, and raising the pin is how nodes get patched.
                release_version=eks_releases.RELEASES[kubernetes_version].node_release,
                subnet_ids=subnets,
                instance_types=list(group.instance_types),
                ami_type=group.ami_type.value,
                capacity_type=group.capacity_type.value,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    min_size=sizes.min_size, max_size=sizes.max_size, desired_size=sizes.desired_size
                ),
                # The cluster autoscaler owns the running size; desiredSize only seeds it.
                ignore_scaling_changes=True,
                # The autoscaler reads these (eks:DescribeNodegroup) to scale the group from zero.
                labels=autoscaling.node_labels(group),
                taints=[
                    aws.eks.NodeGroupTaintArgs(key=t.key, value=t.value or None, effect=t.effect.eks_value)
                    for t in group.effective_taints
                ],
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self, transforms=[nodes.update_config(group.update_config)]),
        )


def _subnet(subnet_ids: pulumi.Output[list[str]], index: int) -> pulumi.Output[list[str]]:
    """The one private subnet (as a list) of the zone at ``index``."""
    return subnet_ids.apply(lambda ids: [ids[index]])


def _access_entries(entries: Sequence[identity.PlannedEntry], part: str) -> dict[str, eks.AccessEntryArgs]:
    """pulumi-eks entries keyed by principal only (``admin-<hash>``, the key cluster admins always had), so
    changing a principal's level updates its policy association instead of replacing the entry, which
    EKS would refuse while the old one exists."""
    return {
        f"admin-{naming.short_hash(entry.principal)}": eks.AccessEntryArgs(
            principal_arn=entry.principal,
            access_policies={
                # "cluster-admin" is the key cluster admins' association always had.
                "cluster-admin" if entry.policy == CLUSTER_ADMIN_POLICY else entry.policy: eks.AccessPolicyAssociationArgs(
                    policy_arn=eks_access.policy_arn(part, entry.policy),
                    access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                        type=entry.scope, namespaces=list(entry.namespaces) or None
                    ),
                )
            },
        )
        for entry in entries
    }


def _public_access_cidrs(configured: Sequence[str], peer_addresses: Sequence[str]) -> list[str]:
    """The configured CIDRs plus one /32 per peer address, each once, in a stable order."""
    peers = {address if "/" in address else f"{address}/32" for address in peer_addresses}
    return [*configured, *sorted(peers - set(configured))]


OIDC_PROVIDER_TYPE = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


def _oidc_provider(mode: WorkloadIdentity) -> pulumi.ResourceTransform:
    """While a fleet moves to Pod Identity (``both``), the cluster's OIDC provider loses the protection it
    inherits from the cluster: the next step (``podIdentity``) deletes it, and Pulumi refuses to delete a
    resource its state says is protected."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != OIDC_PROVIDER_TYPE or mode is not WorkloadIdentity.BOTH:
            return None
        return pulumi.ResourceTransformResult(
            args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=False))
        )

    return transform
