"""Submariner: the broker on one cluster, and every member's join, gateways and firewall openings."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from ..aws import eks_node_updates, eks_releases
from ..aws.eks_node_updates import MaxUnavailable
from ..aws.instance_types import ami_type_for
from ..planning import gateway_boot, naming, security_rules
from ..planning import submariner as plan
from ..planning.autoscaling import NODE_GROUP_LABEL
from ..planning.iam_policies import GATEWAY_NODE_TAG, gateway_node_policy
from ..planning.naming import partition
from . import k8s_objects, nodes

GATEWAY_NODE_GROUP = "submariner-gateway"
GATEWAY_DISK_GIB = 50
# Relative to the project directory, where `pulumi up` runs the program and its providers, so the
# release's inputs are the same on every machine that deploys the stack.
_HERE = Path(__file__).resolve()
POSTRENDER = f"./{(_HERE.parent / 'postrender_submariner.py').relative_to(_HERE.parents[2]).as_posix()}"


@dataclass(frozen=True)
class SubmarinerBrokerArgs:
    members: tuple[str, ...]
    """Clusters that join through this broker; each gets its own ServiceAccount and token."""
    chart_version: str
    """Pinned submariner-k8s-broker chart version."""
    chart_repository: str
    """Helm repository of the chart."""
    endpoint: pulumi.Input[str]
    """The broker cluster's API endpoint URL."""


@dataclass(frozen=True)
class BrokerCredential:
    token: pulumi.Output[str]
    """The member's ServiceAccount token, decoded (secret)."""
    ca: pulumi.Output[str]
    """The broker cluster's CA, base64 as Submariner expects it (secret)."""


class SubmarinerBroker(pulumi.ComponentResource):
    """The broker chart plus one revocable ServiceAccount token per member, on the broker cluster."""

    server: pulumi.Output[str]
    release: k8s.helm.v3.Release
    credentials: dict[str, BrokerCredential]
    token_secrets: dict[str, k8s.core.v1.Secret]

    def __init__(self, name: str, args: SubmarinerBrokerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:SubmarinerBroker", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s_objects.namespace(f"{name}-ns", plan.BROKER_NAMESPACE, child)
        self.release = k8s_objects.pinned_release(
            f"{name}-chart",
            release_name=plan.BROKER_RELEASE,
            chart="submariner-k8s-broker",
            version=args.chart_version,
            repository=args.chart_repository,
            namespace=namespace,
            values=plan.broker_values(),
            opts=child,
        )
        self.credentials = {}
        self.token_secrets = {}
        for member in sorted(args.members):
            account_name = f"submariner-{member}"
            account = k8s.core.v1.ServiceAccount(
                f"{name}-{member}-sa",
                k8s.core.v1.ServiceAccountInitArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=account_name, namespace=namespace.metadata.name, labels={"submariner.io/member": member}
                    )
                ),
                opts=child,
            )
            # Since Kubernetes 1.24 a ServiceAccount gets no token Secret by itself; the provider
            # waits for the token controller to fill this one in before its data is read.
            secret = k8s.core.v1.Secret(
                f"{name}-{member}-token",
                k8s.core.v1.SecretInitArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=f"{account_name}-token",
                        namespace=namespace.metadata.name,
                        annotations={"kubernetes.io/service-account.name": account_name},
                        labels={"submariner.io/member": member},
                    ),
                    type="kubernetes.io/service-account-token",
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[account], additional_secret_outputs=["data"]),
            )
            k8s.rbac.v1.RoleBinding(
                f"{name}-{member}-binding",
                k8s.rbac.v1.RoleBindingInitArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=account_name, namespace=namespace.metadata.name),
                    role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=plan.BROKER_ROLE),
                    subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account_name, namespace=plan.BROKER_NAMESPACE)],
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
            )
            self.token_secrets[member] = secret
            self.credentials[member] = BrokerCredential(
                token=pulumi.Output.secret(secret.data.apply(lambda data: base64.b64decode(data["token"]).decode())),
                ca=pulumi.Output.secret(secret.data.apply(lambda data: data["ca.crt"])),
            )
        self.server = pulumi.Output.from_input(args.endpoint).apply(plan.broker_server)
        self.register_outputs(
            {
                "server": self.server,
                "tokens": pulumi.Output.secret({m: c.token for m, c in self.credentials.items()}),
            }
        )


@dataclass(frozen=True)
class SubmarinerMemberArgs:
    member: plan.Member
    """This cluster's place in the clusterset (CIDRs, global CIDR)."""
    clusterset: plan.ClusterSet
    """The whole clusterset, for peers and cable driver."""
    peer_gateway_ips: Mapping[str, pulumi.Input[list[str]]]
    """Per other member, its gateways' pool addresses: the only sources of tunnel traffic."""
    broker_server: pulumi.Input[str] | None
    """host:port of the broker API; None for a cell whose broker's cell has not deployed yet."""
    credential: BrokerCredential | None
    """This member's own broker token and the broker CA; None (with the server) until the broker's cell
    exports it: the gateways are built, the operator waits for the join round (planning/cells.py)."""
    broker_dependencies: tuple[pulumi.Resource, ...]
    """The broker release and this member's token: the join waits for these and nothing else."""
    psk: pulumi.Output[str] | None
    """The clusterset's IPsec PSK (secret); None with the credential."""
    chart_version: str
    """Pinned submariner-operator chart version."""
    chart_repository: str
    """Helm repository of the chart."""
    eks_cluster: eks.Cluster
    """The member's EKS cluster, for the gateway node group."""
    vpc_id: pulumi.Input[str]
    """The member's VPC."""
    public_subnet_ids: pulumi.Input[list[str]]
    """Where gateway nodes run: they need public addresses to reach peers across regions."""
    cluster_security_group_id: pulumi.Input[str]
    """The EKS-managed security group every node carries."""
    gateway_instance_type: str
    """EC2 type of the gateway nodes."""
    tags: dict[str, str]
    """Tags for the AWS resources."""
    kubernetes_version: str
    """The member's EKS minor version: its gateway nodes follow the control plane."""
    gateway_pool: tuple[pulumi.Resource, ...] = ()
    """The member's pool addresses: the gateway nodes, which may hold any of them, go before they do."""
    coredns: pulumi.Resource | None = None
    """The member's CoreDNS add-on: Lighthouse adds its clusterset.local forward after the add-on's
    create, which resets the Corefile to EKS's defaults."""


class SubmarinerMember(pulumi.ComponentResource):
    """One cluster's join: gateway nodes, the firewall openings Submariner needs, and the operator."""

    release: k8s.helm.v3.Release | None

    def __init__(self, name: str, args: SubmarinerMemberArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:SubmarinerMember", name, None, opts)
        member, clusterset = args.member, args.clusterset
        child = pulumi.ResourceOptions(parent=self)

        gateway_groups = self._gateway_security_groups(name, args)
        self._node_openings(name, args)
        self._gateway_nodes(name, args, gateway_groups)
        if args.credential is None or args.broker_server is None or args.psk is None:
            self.release = None
            self.register_outputs({"clusterId": member.name, "joined": False})
            return

        namespace = k8s_objects.namespace(f"{name}-ns", plan.OPERATOR_NAMESPACE, child)
        self.release = k8s.helm.v3.Release(
            f"{name}-operator",
            k8s.helm.v3.ReleaseArgs(
                name=plan.OPERATOR_RELEASE,
                chart="submariner-operator",
                version=args.chart_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.chart_repository),
                namespace=namespace.metadata.name,
                values=plan.operator_values(clusterset),
                postrender=POSTRENDER,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[namespace, *args.broker_dependencies, *([args.coredns] if args.coredns else [])]
            ),
        )
        manifest = plan.submariner_manifest(
            member,
            clusterset,
            server=args.broker_server,
            token=args.credential.token,
            ca=args.credential.ca,
            psk=args.psk,
            version=args.chart_version,
        )
        # Depends on the release: on removal Pulumi deletes it first and waits while the operator,
        # still running, clears its finalizer and tears the gateways and agents down.
        k8s.apiextensions.CustomResource(
            f"{name}-submariner",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=k8s.meta.v1.ObjectMetaArgs(**manifest["metadata"]),
            # It carries the broker token and the PSK.
            spec=pulumi.Output.secret(manifest["spec"]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release], additional_secret_outputs=["spec"]),
        )
        self.register_outputs({"clusterId": member.name, "release": self.release.status})

    def _gateway_security_groups(self, name: str, args: SubmarinerMemberArgs) -> list[aws.ec2.SecurityGroup]:
        """Peer gateways into this member's gateways, one group per shard of peers.

        A group holds one rule, from one prefix list of its peers' pool addresses, for every
        protocol: the tunnel's UDP ports and ESP alike. Per-port rules would each count the
        list's maxEntries again (security_rules), and the peers are this fleet's own gateways.
        """
        child = pulumi.ResourceOptions(parent=self)
        if args.clusterset.open_tunnels:
            return [self._open_gateway_group(name, args)]
        groups = []
        for number, shard in enumerate(security_rules.gateway_shards(args.clusterset, args.member.name), start=1):
            suffix = "" if number == 1 else f"-{number}"
            addresses = [args.peer_gateway_ips[peer.name] for peer in shard]
            peers = aws.ec2.ManagedPrefixList(
                f"{name}-peer-gateways{suffix}",
                aws.ec2.ManagedPrefixListArgs(
                    address_family="IPv4",
                    # Fixed, sized for a full shard of pools (update surge included), so a growing
                    # clusterset fills lists instead of resizing ones already in use.
                    max_entries=security_rules.shard_max_entries(args.clusterset),
                    entries=pulumi.Output.all(*addresses).apply(
                        lambda pools: [
                            aws.ec2.ManagedPrefixListEntryArgs(cidr=f"{ip}/32", description="Submariner peer gateway")
                            for ip in sorted({ip for pool in pools for ip in pool})
                        ]
                    ),
                    tags={**args.tags, "Name": f"{name}-peer-gateways{suffix}"},
                ),
                child,
            )
            members = ", ".join(peer.name for peer in shard) or "none yet"
            group = aws.ec2.SecurityGroup(
                f"{name}-gateway-sg{suffix}",
                aws.ec2.SecurityGroupArgs(
                    vpc_id=args.vpc_id,
                    description=f"Submariner gateways of {args.member.name}: tunnels from peer gateways only",
                    tags={**args.tags, "Name": f"{name}-gateway-sg{suffix}", "fleet-peers": members[:255]},
                ),
                child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-gateway-sg{suffix}-from-peers",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=group.id,
                    ip_protocol=security_rules.ALL,
                    prefix_list_id=peers.id,
                    description="Submariner tunnels (IKE, NAT-T, NAT discovery, ESP) from peer gateways",
                ),
                child,
            )
            groups.append(group)
        return groups

    def _open_gateway_group(self, name: str, args: SubmarinerMemberArgs) -> aws.ec2.SecurityGroup:
        """fleet:submariner.gatewayPeers: anywhere: one group whatever the clusterset's size, the tunnel
        ports open to every source. Tunnels still authenticate (the IPsec PSK, WireGuard keys);
        validation refuses it for unencrypted VXLAN. Its own name: switching modes creates it before
        the shard groups go, so the gateway nodes roll once onto it."""
        child = pulumi.ResourceOptions(parent=self)
        group = aws.ec2.SecurityGroup(
            f"{name}-gateway-open-sg",
            aws.ec2.SecurityGroupArgs(
                vpc_id=args.vpc_id,
                description=f"Submariner gateways of {args.member.name}: tunnel ports from anywhere",
                tags={**args.tags, "Name": f"{name}-gateway-open-sg"},
            ),
            child,
        )
        for rule in security_rules.open_tunnel_rules(args.clusterset):
            aws.vpc.SecurityGroupIngressRule(
                # The policy pack admits open ingress only to rules named *-submariner-gateway-*.
                f"{name}-gateway-{rule.slug}-anywhere",
                aws.vpc.SecurityGroupIngressRuleArgs(
                    security_group_id=group.id,
                    ip_protocol=rule.protocol,
                    from_port=rule.port,
                    to_port=rule.port,
                    cidr_ipv4="0.0.0.0/0",
                    description=rule.purpose.replace("from peer gateways", "from anywhere"),
                ),
                child,
            )
        return group

    def _node_openings(self, name: str, args: SubmarinerMemberArgs) -> None:
        """The peers' routed ranges into every node: one prefix list of them (collapsed) and one
        rule, whatever the clusterset's size. The rule counts the list's maxEntries against the
        group's quota, the same as a rule per range would (security_rules); sized exactly, it
        grows in place as peers join (terraform-provider-aws#26845 changes entries and size in
        one apply). VXLAN between this cluster's own nodes needs no rule: EKS's cluster security
        group already admits everything from itself."""
        child = pulumi.ResourceOptions(parent=self)
        routed = security_rules.routed_rules(args.clusterset, args.member.name)
        if not routed:
            return
        ranges = aws.ec2.ManagedPrefixList(
            f"{name}-peer-ranges",
            aws.ec2.ManagedPrefixListArgs(
                address_family="IPv4",
                max_entries=len(routed),
                entries=[aws.ec2.ManagedPrefixListEntryArgs(cidr=str(r.cidr), description=r.purpose) for r in routed],
                tags={**args.tags, "Name": f"{name}-peer-ranges"},
            ),
            child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-peers",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=args.cluster_security_group_id,
                ip_protocol=security_rules.ALL,
                prefix_list_id=ranges.id,
                description="Submariner: traffic routed from peer clusters",
            ),
            child,
        )

    def _gateway_nodes(self, name: str, args: SubmarinerMemberArgs, gateway_groups: list[aws.ec2.SecurityGroup]) -> None:
        """Gateway nodes in public subnets, one per AZ, kept free of ordinary pods by a taint."""
        member = args.member
        child = pulumi.ResourceOptions(parent=self)
        region_partition = partition(member.region)
        role = nodes.node_role(
            f"{name}-gateway-node", naming.role_name_prefix(f"{member.name}-submariner-gw"), region_partition, args.tags, child
        )
        aws.iam.RolePolicy(
            f"{name}-gateway-node-self",
            aws.iam.RolePolicyArgs(
                role=role.name, policy=json.dumps(gateway_node_policy(region_partition, member.region, member.name))
            ),
            child,
        )
        instance_tags = {**args.tags, "Name": f"{name}-gateway", GATEWAY_NODE_TAG[0]: GATEWAY_NODE_TAG[1]}
        template = aws.ec2.LaunchTemplate(
            f"{name}-gateway-lt",
            aws.ec2.LaunchTemplateArgs(
                name_prefix=naming.launch_template_name_prefix(f"{member.name}-submariner-gateway"),
                description=f"{member.name} Submariner gateways: IMDSv2 only, encrypted root volume, public address",
                update_default_version=True,
                metadata_options=nodes.imds_v2_only(),
                block_device_mappings=[nodes.encrypted_root_volume(GATEWAY_DISK_GIB)],
                network_interfaces=[
                    aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                        device_index=0,
                        # A public address from launch, until the node claims its pool address.
                        associate_public_ip_address="true",
                        security_groups=[args.cluster_security_group_id, *[g.id for g in gateway_groups]],
                        delete_on_termination="true",
                    )
                ],
                user_data=gateway_boot.gateway_user_data(member.name),
                # The interface carries the tags too: the node's IAM policy lets it change only its own.
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                    for kind in ("instance", "network-interface")
                ],
                tags=args.tags,
            ),
            child,
        )
        label_key, label_value = plan.GATEWAY_LABEL
        count = args.clusterset.gateways_per_cluster
        eks.ManagedNodeGroup(
            f"{name}-gateway",
            eks.ManagedNodeGroupArgs(
                cluster=args.eks_cluster,
                node_group_name_prefix=naming.node_group_name_prefix(member.name, GATEWAY_NODE_GROUP),
                node_role_arn=role.arn,
                # Follows the control plane, like every node group (components/resources/cluster.py).
                version=args.kubernetes_version,
                release_version=eks_releases.RELEASES[args.kubernetes_version].node_release,
                # One AZ per gateway: an update surges two nodes per AZ the group spans, and every
                # node that can exist at once needs a pool address (clusterset.gateway_pool_size).
                subnet_ids=pulumi.Output.from_input(args.public_subnet_ids).apply(lambda ids: list(ids)[:count]),
                instance_types=[args.gateway_instance_type],
                ami_type=ami_type_for(args.gateway_instance_type).value,
                capacity_type="ON_DEMAND",
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=count, max_size=count, desired_size=count),
                labels={label_key: label_value, NODE_GROUP_LABEL: GATEWAY_NODE_GROUP},
                taints=[aws.eks.NodeGroupTaintArgs(key=label_key, value=label_value, effect="NO_SCHEDULE")],
                launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
                tags=args.tags,
            ),
            # Pulumi deletes dependents first: a leaving member's gateways let go of their pool
            # addresses before those are released (else InvalidIPAddress.InUse, or a live gateway loses its address).
            # One gateway at a time, so a clusterset connection always has a gateway (EKS's default, explicit).
            pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.gateway_pool),
                transforms=[nodes.update_config(MaxUnavailable(count=eks_node_updates.DEFAULT_MAX_UNAVAILABLE))],
            ),
        )
