"""One cluster's VPC: private subnets for nodes, public subnets for load balancers, NAT egress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws

from ..aws import cidr
from ..aws.zones import Zone
from ..config.model import FlowLogDestination, FlowLogsSpec, NatGateways
from ..planning import naming
from ..planning.iam_policies import (
    GATEWAY_DRAINING_TAG,
    GATEWAY_POOL_TAG,
    flow_logs_delivery_policy,
    flow_logs_trust_policy,
    logs_key_policy,
)


@dataclass(frozen=True)
class ClusterNetworkArgs:
    cluster_name: str
    """EKS cluster name, used in the subnet discovery tags."""
    vpc_cidr: IPv4Network
    """The VPC range; also the cluster's pod range under the VPC CNI."""
    region: str
    """The region of the AWS provider passed in."""
    account_id: str
    """The deploying AWS account, for the flow-log key's and role's conditions."""
    availability_zones: tuple[Zone, ...]
    """Zones (placed by ID), one private and one public subnet in each."""
    nat_gateways: NatGateways
    """One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper)."""
    tags: dict[str, str]
    """Tags for every resource in the network."""
    flow_logs: FlowLogsSpec
    """Where the VPC's flow logs go."""
    gateway_addresses: int = 0
    """Elastic IPs reserved for Submariner gateway nodes (claimed by the nodes at boot)."""
    active_gateway_addresses: int = 0
    """How many of them gateways may claim; the rest drain (GATEWAY_DRAINING_TAG) until a later deploy releases them."""


class ClusterNetwork(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: IPv4Network
    route_table_ids: dict[str, pulumi.Output[str]]
    """Every route table of the VPC, by a stable slug (public, private-<zone>)."""
    private_subnets: list[pulumi.Output[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    nat_public_ips: pulumi.Output[list[str]]
    gateway_public_ips: pulumi.Output[list[str]]
    gateway_pool: list[aws.ec2.Eip]
    """The Submariner gateway pool's addresses, for the gateway nodes to be deleted before them."""
    zones: tuple[Zone, ...]
    """The network's zones, in the order of its private subnets."""

    def __init__(self, name: str, args: ClusterNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:ClusterNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.zones = tuple(args.availability_zones)
        plan = cidr.plan_subnets(args.vpc_cidr, len(args.availability_zones))
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        def tags(suffix: str, extra: dict[str, str] | None = None) -> dict[str, str]:
            return {**args.tags, "Name": f"{name}-{suffix}", **(extra or {})}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            aws.ec2.VpcArgs(
                cidr_block=str(args.vpc_cidr),
                enable_dns_hostnames=True,
                enable_dns_support=True,
                tags=tags("vpc"),
            ),
            child,
        )
        # Take over the VPC's default security group and leave it with no rules (CIS AWS 5.4),
        # so nothing that falls back to it is reachable.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", aws.ec2.DefaultSecurityGroupArgs(vpc_id=vpc.id, tags=tags("default-sg")), child
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", aws.ec2.InternetGatewayArgs(vpc_id=vpc.id, tags=tags("igw")), child)

        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt", aws.ec2.RouteTableArgs(vpc_id=vpc.id, tags=tags("public-rt")), child
        )
        aws.ec2.Route(
            f"{name}-public-default",
            aws.ec2.RouteArgs(route_table_id=public_routes.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id),
            child,
        )

        route_tables: dict[str, pulumi.Output[str]] = {"public": public_routes.id}
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        nat_ids: list[pulumi.Output[str]] = []
        nat_ips: list[pulumi.Output[str]] = []
        for zone, public_range, private_range in zip(args.availability_zones, plan.public, plan.private, strict=True):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone.slug}",
                aws.ec2.SubnetArgs(
                    vpc_id=vpc.id,
                    cidr_block=str(public_range),
                    availability_zone_id=zone.id,
                    # EKS refuses a managed node group in a public subnet that does not hand out public
                    # addresses, and Submariner gateways live there; otherwise nothing launched here
                    # gets one by accident.
                    map_public_ip_on_launch=args.gateway_addresses > 0,
                    tags=tags(f"public-{zone.slug}", {**cluster_tag, "kubernetes.io/role/elb": "1"}),
                ),
                child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone.slug}",
                aws.ec2.RouteTableAssociationArgs(subnet_id=public.id, route_table_id=public_routes.id),
                child,
            )
            public_subnets.append(public)
            if args.nat_gateways is NatGateways.ONE_PER_AZ or not nat_ids:
                eip = aws.ec2.Eip(f"{name}-nat-{zone.slug}", aws.ec2.EipArgs(domain="vpc", tags=tags(f"nat-{zone.slug}")), child)
                nat = aws.ec2.NatGateway(
                    f"{name}-nat-{zone.slug}",
                    aws.ec2.NatGatewayArgs(allocation_id=eip.id, subnet_id=public.id, tags=tags(f"nat-{zone.slug}")),
                    pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
                nat_ips.append(eip.public_ip)

            private = aws.ec2.Subnet(
                f"{name}-private-{zone.slug}",
                aws.ec2.SubnetArgs(
                    vpc_id=vpc.id,
                    cidr_block=str(private_range),
                    availability_zone_id=zone.id,
                    tags=tags(f"private-{zone.slug}", {**cluster_tag, "kubernetes.io/role/internal-elb": "1"}),
                ),
                child,
            )
            private_routes = aws.ec2.RouteTable(
                f"{name}-private-{zone.slug}", aws.ec2.RouteTableArgs(vpc_id=vpc.id, tags=tags(f"private-{zone.slug}")), child
            )
            route_tables[f"private-{zone.slug}"] = private_routes.id
            aws.ec2.Route(
                f"{name}-private-{zone.slug}-default",
                aws.ec2.RouteArgs(
                    route_table_id=private_routes.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat_ids[-1]
                ),
                child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone.slug}",
                aws.ec2.RouteTableAssociationArgs(subnet_id=private.id, route_table_id=private_routes.id),
                child,
            )
            private_subnets.append(private)

        # Numbered, not per AZ: a node claims whichever address is free, wherever it lands.
        # Never protected: a pool address is found by its tag, and only this program's allow lists
        # and prefix lists name it, so a new one works as well; what must not happen is a release
        # while a gateway holds it, which the gateway group's dependency on the pool and draining
        # (fleet:submariner.keepGatewayAddresses) prevent. Draining addresses carry another tag:
        # neither the boot script nor the node policy lets a gateway claim them.
        unprotected = pulumi.ResourceOptions(parent=self, protect=False)
        self.gateway_pool = [
            aws.ec2.Eip(
                f"{name}-gateway-{number}",
                aws.ec2.EipArgs(
                    domain="vpc",
                    tags=tags(
                        f"gateway-{number}",
                        {
                            GATEWAY_POOL_TAG
                            if number <= args.active_gateway_addresses
                            else GATEWAY_DRAINING_TAG: args.cluster_name
                        },
                    ),
                ),
                unprotected,
            )
            for number in range(1, args.gateway_addresses + 1)
        ]
        gateway_ips = [address.public_ip for address in self.gateway_pool]

        self._flow_logs(name, args, vpc)

        self.vpc_id = vpc.id
        self.vpc_cidr = args.vpc_cidr
        self.route_table_ids = route_tables
        self.private_subnets = [s.id for s in private_subnets]
        self.nat_public_ips = pulumi.Output.all(*nat_ips)
        self.gateway_public_ips = pulumi.Output.all(*gateway_ips)
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "natPublicIps": self.nat_public_ips,
                "gatewayPublicIps": self.gateway_public_ips,
            }
        )

    def _flow_logs(self, name: str, args: ClusterNetworkArgs, vpc: aws.ec2.Vpc) -> None:
        """Every VPC logs its traffic: to an existing S3 bucket, or to a KMS-encrypted log group with a retention."""
        child = pulumi.ResourceOptions(parent=self)
        config = args.flow_logs
        tags = {**args.tags, "Name": f"{name}-flow-logs"}

        def flow_log(
            destination_type: str,
            destination: pulumi.Input[str],
            role_arn: pulumi.Input[str] | None,
            opts: pulumi.ResourceOptions,
        ) -> None:
            aws.ec2.FlowLog(
                f"{name}-flow-logs",
                aws.ec2.FlowLogArgs(
                    vpc_id=vpc.id,
                    traffic_type=config.traffic_type,
                    max_aggregation_interval=60,
                    log_destination_type=destination_type,
                    log_destination=destination,
                    iam_role_arn=role_arn,
                    tags=tags,
                ),
                opts,
            )

        if config.destination is FlowLogDestination.S3:
            assert config.bucket_arn is not None  # the model requires it for s3
            flow_log("s3", config.bucket_arn, None, child)
            return
        part = naming.partition(args.region)
        key = aws.kms.Key(
            f"{name}-flow-logs-key",
            aws.kms.KeyArgs(
                description=f"VPC flow logs of {args.cluster_name}",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=json.dumps(logs_key_policy(part, args.region, args.account_id)),
                tags=tags,
            ),
            child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs-group",
            aws.cloudwatch.LogGroupArgs(
                name=f"/fleet/{args.cluster_name}/vpc-flow-logs",
                retention_in_days=config.retention_days,
                kms_key_id=key.arn,
                tags=tags,
            ),
            child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            aws.iam.RoleArgs(
                name_prefix=naming.role_name_prefix(f"{args.cluster_name}-flow-logs"),
                assume_role_policy=json.dumps(flow_logs_trust_policy(args.account_id)),
                tags=tags,
            ),
            child,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-flow-logs-delivery",
            aws.iam.RolePolicyArgs(
                role=role.id, policy=log_group.arn.apply(lambda arn: json.dumps(flow_logs_delivery_policy(arn)))
            ),
            child,
        )
        flow_log("cloud-watch-logs", log_group.arn, role.arn, pulumi.ResourceOptions(parent=self, depends_on=[delivery]))
