"""The hub's VPC joined to each other cluster's (a VPC peering, or transit gateway attachments):
routes, firewall openings and DNS forwarding.

components/planning/interconnect.py says what is joined and why each piece is needed; this module
builds it (interconnect_transit.py builds the gateways). Spoke-side resources use the spoke's provider; hub-side
ones name the hub's region on the resource (pulumi-aws ``region``), so each link is one component
with one provider.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Protocol

import pulumi
import pulumi_aws as aws

from ..planning import naming, security_rules
from ..planning.gitops import PulledLinkEnd
from ..planning.interconnect import DNS_PORT, InterconnectPlan, Spoke, endpoint_host
from ..planning.security_rules import CidrRule
from .interconnect_transit import RegionalTransitGateway, attach
from .sg_rules import cidr_rules

# Route 53 Resolver wants at least two addresses per endpoint (two subnets, for two AZs when the VPC has them).
RESOLVER_ADDRESSES = 2
RESOLVER_NAME_MAX = naming.NAME_LIMITS["aws:route53/resolverRule:ResolverRule"]


class NetworkView(Protocol):
    """What a link needs of a VPC: a ClusterNetwork here, or a hub's network read from its stack's outputs."""

    @property
    def vpc_id(self) -> pulumi.Input[str]: ...

    @property
    def vpc_cidr(self) -> IPv4Network: ...

    @property
    def route_table_ids(self) -> Mapping[str, pulumi.Input[str]]: ...

    @property
    def private_subnets(self) -> Sequence[pulumi.Input[str]]: ...


@dataclass(frozen=True)
class ForeignNetwork:
    """The hub's VPC as another stack exported it (components/config/hub_stack.py)."""

    vpc_id: pulumi.Input[str]
    vpc_cidr: IPv4Network
    route_table_ids: Mapping[str, pulumi.Input[str]]
    private_subnets: Sequence[pulumi.Input[str]] = ()


@dataclass(frozen=True)
class ClusterEnd:
    """What a link needs of one end: its network, API endpoint and cluster security group."""

    name: str
    region: str
    network: NetworkView
    endpoint: pulumi.Output[str]
    cluster_security_group_id: pulumi.Input[str]
    routed: tuple[CidrRule, ...]
    """Submariner's routed-range rules already on its cluster security group (they may cover API rules)."""


def _resolver_endpoint(
    name: str,
    end: ClusterEnd,
    direction: str,
    rules: Sequence[CidrRule],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.route53.ResolverEndpoint, aws.ec2.SecurityGroup]:
    """An inbound endpoint answers forwarded queries from inside ``end``'s VPC (where EKS's private
    zone is); an outbound one forwards ``end``'s queries for a peer's endpoint name."""
    group = aws.ec2.SecurityGroup(
        f"{name}-sg",
        aws.ec2.SecurityGroupArgs(
            vpc_id=end.network.vpc_id,
            description=f"Route 53 Resolver {direction.lower()} endpoint of {end.name}: DNS with peered clusters only",
            tags={**tags, "Name": f"{name}-sg"},
        ),
        opts,
    )
    cidr_rules(name, group.id, rules, opts, egress=direction == "OUTBOUND")
    subnets = end.network.private_subnets
    endpoint = aws.route53.ResolverEndpoint(
        name,
        aws.route53.ResolverEndpointArgs(
            name=naming.fit(name, RESOLVER_NAME_MAX),
            direction=direction,
            security_group_ids=[group.id],
            ip_addresses=[
                aws.route53.ResolverEndpointIpAddressArgs(subnet_id=subnets[i % len(subnets)]) for i in range(RESOLVER_ADDRESSES)
            ],
            protocols=["Do53"],
            tags={**tags, "Name": name},
        ),
        opts,
    )
    return endpoint, group


def _addresses(endpoint: aws.route53.ResolverEndpoint) -> pulumi.Output[list[aws.route53.ResolverRuleTargetIpArgs]]:
    return endpoint.ip_addresses.apply(
        lambda addresses: [
            aws.route53.ResolverRuleTargetIpArgs(ip=str(a.ip), port=DNS_PORT) for a in sorted(addresses, key=lambda a: str(a.ip))
        ]
    )


def _forward(
    name: str,
    rule_name: str,
    endpoint: pulumi.Output[str],
    outbound_id: pulumi.Input[str],
    targets: pulumi.Input[list[aws.route53.ResolverRuleTargetIpArgs]],
    caller_vpc_id: pulumi.Input[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> None:
    """The caller's VPC sends queries for ``endpoint``'s name (only that name) out through its
    outbound endpoint to ``targets`` (an inbound endpoint's addresses), inside the VPC where EKS
    answers with private addresses."""
    rule = aws.route53.ResolverRule(
        name,
        aws.route53.ResolverRuleArgs(
            name=rule_name,
            domain_name=endpoint.apply(endpoint_host),
            rule_type="FORWARD",
            resolver_endpoint_id=outbound_id,
            target_ips=targets,
            tags=tags,
            region=region,
        ),
        opts,
    )
    aws.route53.ResolverRuleAssociation(
        name,
        aws.route53.ResolverRuleAssociationArgs(resolver_rule_id=rule.id, vpc_id=caller_vpc_id, region=region),
        opts,
    )


def _to_hub_route(
    name: str,
    table: pulumi.Input[str],
    destination: IPv4Network,
    connection_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> aws.ec2.Route:
    return aws.ec2.Route(
        name,
        aws.ec2.RouteArgs(
            route_table_id=table, destination_cidr_block=str(destination), vpc_peering_connection_id=connection_id, region=region
        ),
        opts,
    )


def route_slug(destination: IPv4Network) -> str:
    """A destination as a resource-name part (``10.1.0.0/16`` -> ``10-1-0-0-16``)."""
    return str(destination).replace(".", "-").replace("/", "-")


def _from_hub_routes(
    name: str,
    args: InterconnectLinkArgs,
    target: dict[str, pulumi.Input[str]],
    ready: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> None:
    """Every hub route table's route to this member, named by table and member in either mode and
    created in the hub's region, so a switch between peering and transitGateway changes its target in
    place (EC2 ReplaceRoute; terraform-provider-aws ec2/vpc_route.go forces a new route only for its
    table and destination). Routes owned by each mode would be a create beside a delete of the same
    destination, which EC2 refuses (RouteAlreadyExists); Pulumi runs the deletes of the old mode's
    connections after every create and update.

    Before issue 36 the transitGateway hub routes were the hub end's, through the hub's provider: state
    under that name moves here. The provider changes but the route's region does not (``region`` names
    the hub's), which pulumi-aws v7 updates in place (its provider DiffConfig no longer replaces on region;
    the route's state holds its region once refreshed, as python -m deploy does by default). Ranges the
    old program collapsed into one route are new, more specific routes beside it, and it is deleted last."""
    spoke, hub = args.spoke_end, args.hub_end
    legacy_hub = f"{args.plan.hub}-interconnect"
    for slug, table in hub.network.route_table_ids.items():
        aws.ec2.Route(
            f"{name}-from-hub-{slug}",
            aws.ec2.RouteArgs(
                route_table_id=table, destination_cidr_block=str(spoke.network.vpc_cidr), region=hub.region, **target
            ),
            pulumi.ResourceOptions(
                parent=parent,
                depends_on=list(ready),
                aliases=[
                    pulumi.Alias(
                        name=f"{legacy_hub}-to-{slug}-{route_slug(spoke.network.vpc_cidr)}",
                        parent=args.hub_resource,
                    )
                ],
            ),
        )


def _accept(
    name: str,
    connection_id: pulumi.Input[str],
    tags: dict[str, str],
    label: str,
    opts: pulumi.ResourceOptions,
    region: str | None = None,
) -> aws.ec2.VpcPeeringConnectionAccepter:
    return aws.ec2.VpcPeeringConnectionAccepter(
        name,
        aws.ec2.VpcPeeringConnectionAccepterInitArgs(
            vpc_peering_connection_id=connection_id, auto_accept=True, tags={**tags, "Name": label}, region=region
        ),
        opts,
    )


@dataclass(frozen=True)
class InterconnectHubArgs:
    plan: InterconnectPlan
    """Who is joined to the hub, and whether endpoint names need forwarding."""
    hub: ClusterEnd
    """The hub's network, endpoint and cluster security group."""
    tags: dict[str, str]
    """Tags for every resource."""
    transit: RegionalTransitGateway | None = None
    """With mode transitGateway: the hub's region's gateway (else members peer with the hub's VPC)."""
    forwards_for_members: bool = False
    """Member stacks' names need forwarding from the hub's VPC even if its own do not (interconnect.hub_forwards_for_members)."""


class InterconnectHub(pulumi.ComponentResource):
    """The hub's end of every link: its API opening for members and its resolver endpoints."""

    inbound: aws.route53.ResolverEndpoint | None
    outbound: aws.route53.ResolverEndpoint | None
    outbound_group: aws.ec2.SecurityGroup | None
    attachment: aws.ec2transitgateway.VpcAttachment | None = None

    def __init__(self, name: str, args: InterconnectHubArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:InterconnectHub", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan, hub = args.plan, args.hub
        cidr_rules(f"{name}-api", hub.cluster_security_group_id, security_rules.api_rules(plan, hub.name, hub.routed), child)
        if args.transit is not None:
            self._transit(name, args, args.transit)
        self.inbound = self.outbound = self.outbound_group = None
        if plan.resolvers and plan.hub_is_called:
            rules = security_rules.resolver_inbound_rules(plan, hub.name)
            self.inbound, _ = _resolver_endpoint(f"{name}-dns-in", hub, "INBOUND", rules, args.tags, child)
        if (plan.resolvers and plan.hub_calls_out) or args.forwards_for_members:
            rules = security_rules.resolver_outbound_rules(plan, hub.name)
            self.outbound, self.outbound_group = _resolver_endpoint(f"{name}-dns-out", hub, "OUTBOUND", rules, args.tags, child)
        self.register_outputs(
            {
                "inboundEndpointId": self.inbound.id if self.inbound else None,
                "outboundEndpointId": self.outbound.id if self.outbound else None,
            }
        )

    def _transit(self, name: str, args: InterconnectHubArgs, gateway: RegionalTransitGateway) -> None:
        """The hub's VPC attached to its region's gateway. Its routes to members are each member's
        link's, in either mode (InterconnectLink)."""
        self.attachment = attach(
            f"{name}-attachment",
            gateway,
            args.hub.network.vpc_id,
            list(args.hub.network.private_subnets),
            args.tags,
            pulumi.ResourceOptions(parent=self),
        )


@dataclass(frozen=True)
class InterconnectLinkArgs:
    plan: InterconnectPlan
    """The whole interconnect, for the hub's range and region."""
    spoke: Spoke
    """This link's member end: what it calls and is called by."""
    spoke_end: ClusterEnd
    """The member's network, endpoint and cluster security group."""
    hub_end: ClusterEnd
    """The hub's network and endpoint (its resources are created in the hub's region)."""
    hub_outbound_endpoint_id: pulumi.Input[str] | None
    """The hub's outbound resolver endpoint, which forwards the hub's queries for this member's endpoint."""
    hub_inbound_endpoint: aws.route53.ResolverEndpoint | None
    """The hub's inbound resolver endpoint, which answers this member's queries for the hub's endpoint."""
    tags: dict[str, str]
    """Tags for every resource."""
    transit: RegionalTransitGateway | None = None
    """With mode transitGateway: the member's region's gateway (else the link is a VPC peering)."""
    hub_side: bool = True
    """Whether this link also builds the hub's side; False for a stack joining another stack's hub,
    whose stack builds it (InterconnectPulledLink) from this stack's outputs."""
    hub_owner: str | None = None
    """The hub's account when it is another one (interconnect.hub_owner): the request's PeerOwnerId."""
    hub_attachment: aws.ec2transitgateway.VpcAttachment | None = None
    """With mode transitGateway: the hub's VPC attachment, which the routes both ways wait for."""
    hub_transit: RegionalTransitGateway | None = None
    """With mode transitGateway: the hub's region's gateway, the target of the hub's routes to the member."""
    hub_resource: pulumi.Resource | None = None
    """The hub's end (InterconnectHub), which owned the transitGateway hub routes before issue 36."""


class InterconnectLink(pulumi.ComponentResource):
    """One member's peering with the hub: the connection, both sides' routes, the member's API
    opening for the hub, and the DNS forwarding each direction of API calls needs."""

    connection: aws.ec2.VpcPeeringConnection | None
    accepter: aws.ec2.VpcPeeringConnectionAccepter | None = None
    attachment: aws.ec2transitgateway.VpcAttachment | None = None
    inbound: aws.route53.ResolverEndpoint | None

    def __init__(self, name: str, args: InterconnectLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:InterconnectLink", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan, spoke = args.plan, args.spoke_end
        tags = {**args.tags, "fleet-interconnect": f"{plan.hub}-{spoke.name}"}
        self.connection = self.inbound = None

        if args.transit is not None:
            self._transit(name, args, args.transit, tags)
        else:
            self._peering(name, args, tags)
        api = security_rules.api_rules(plan, spoke.name, spoke.routed)
        cidr_rules(f"{name}-api", spoke.cluster_security_group_id, api, child)
        if plan.resolvers:
            self._dns(name, args, tags)
        self.register_outputs({})

    def _peering(self, name: str, args: InterconnectLinkArgs, tags: dict[str, str]) -> None:
        """A peering connection with the hub's VPC, accepted on the hub's side, routed both ways."""
        child = pulumi.ResourceOptions(parent=self)
        plan, spoke, hub = args.plan, args.spoke_end, args.hub_end
        connection = aws.ec2.VpcPeeringConnection(
            f"{name}-peering",
            aws.ec2.VpcPeeringConnectionArgs(
                vpc_id=spoke.network.vpc_id,
                peer_vpc_id=hub.network.vpc_id,
                peer_region=hub.region,
                peer_owner_id=args.hub_owner,
                tags={**tags, "Name": f"{name}-peering"},
            ),
            child,
        )
        self.connection = connection
        if not args.hub_side:
            # The hub's stack accepts it: until then the connection is pending-acceptance and these
            # routes are blackholes, which AWS allows ("Update your route tables for a VPC peering
            # connection"); a request not accepted within 7 days expires.
            for slug, table in spoke.network.route_table_ids.items():
                _to_hub_route(f"{name}-to-hub-{slug}", table, plan.hub_cidr, connection.id, child)
            return
        # Cross-region (and, uniformly, same-region) peering is accepted from the hub's side.
        self.accepter = _accept(f"{name}-peering-accept", connection.id, tags, f"{name}-peering", child, region=hub.region)
        active = pulumi.ResourceOptions(parent=self, depends_on=[self.accepter])
        for slug, table in spoke.network.route_table_ids.items():
            _to_hub_route(f"{name}-to-hub-{slug}", table, plan.hub_cidr, connection.id, active)
        _from_hub_routes(name, args, {"vpc_peering_connection_id": connection.id}, [self.accepter], self)

    def _transit(self, name: str, args: InterconnectLinkArgs, gateway: RegionalTransitGateway, tags: dict[str, str]) -> None:
        """The member's VPC attached to its region's transit gateway; its tables send the hub's range there.
        The hub's side (its attachment, its routes to members) is InterconnectHub's."""
        spoke = args.spoke_end
        self.attachment = attach(
            f"{name}-attachment",
            gateway,
            spoke.network.vpc_id,
            list(spoke.network.private_subnets),
            tags,
            pulumi.ResourceOptions(parent=self),
        )
        # The route keeps its name in either mode, so a switch from peering replaces its target in
        # place: only once the whole path carries traffic (this attachment, the hub's, and the
        # gateways' peering and static routes), or the member loses the hub until it does.
        # transitGateway mode builds both
        assert args.hub_transit is not None
        assert args.hub_attachment is not None
        path: list[pulumi.Resource] = [self.attachment, gateway, args.hub_attachment]
        attached = pulumi.ResourceOptions(parent=self, depends_on=path)
        for slug, table in spoke.network.route_table_ids.items():
            aws.ec2.Route(
                f"{name}-to-hub-{slug}",
                aws.ec2.RouteArgs(
                    route_table_id=table, destination_cidr_block=str(args.plan.hub_cidr), transit_gateway_id=gateway.gateway.id
                ),
                attached,
            )
        _from_hub_routes(name, args, {"transit_gateway_id": args.hub_transit.gateway.id}, path, self)

    def _dns(self, name: str, args: InterconnectLinkArgs, tags: dict[str, str]) -> None:
        """Forward each endpoint name its callers need from the caller's VPC to the owner's."""
        child = pulumi.ResourceOptions(parent=self)
        plan, spoke, hub = args.plan, args.spoke_end, args.hub_end
        if args.spoke.argocd:
            inbound, _ = _resolver_endpoint(
                f"{name}-dns-in", spoke, "INBOUND", security_rules.resolver_inbound_rules(plan, spoke.name), tags, child
            )
            self.inbound = inbound
            if args.hub_side:
                assert args.hub_outbound_endpoint_id is not None  # the hub calls out whenever a spoke is an Argo CD target
                _forward(
                    f"{name}-hub-resolves",
                    naming.fit(f"{plan.hub}-resolves-{spoke.name}", RESOLVER_NAME_MAX),
                    spoke.endpoint,
                    args.hub_outbound_endpoint_id,
                    _addresses(inbound),
                    hub.network.vpc_id,
                    tags,
                    child,
                    region=hub.region,
                )
        if args.spoke.broker_client:
            assert args.hub_inbound_endpoint is not None  # spokes call the hub whenever one is a broker client
            outbound, _ = _resolver_endpoint(
                f"{name}-dns-out", spoke, "OUTBOUND", security_rules.resolver_outbound_rules(plan, spoke.name), tags, child
            )
            _forward(
                f"{name}-resolves-hub",
                naming.fit(f"{spoke.name}-resolves-{plan.hub}", RESOLVER_NAME_MAX),
                hub.endpoint,
                outbound.id,
                _addresses(args.hub_inbound_endpoint),
                spoke.network.vpc_id,
                tags,
                child,
            )


@dataclass(frozen=True)
class InterconnectPulledLinkArgs:
    plan: InterconnectPlan
    """The member stack's plan of its clusters joined to this hub (interconnect.plan_joined)."""
    spoke: Spoke
    """The member cluster this link joins."""
    hub_end: ClusterEnd
    """This stack's hub: its network (route tables) and region."""
    member: pulumi.Output[PulledLinkEnd]
    """What the member stack exports for this cluster (gitops.pulled_link)."""
    hub_outbound_endpoint_id: pulumi.Input[str] | None
    """The hub's outbound resolver endpoint (when endpoint names are forwarded)."""
    hub_outbound_group_id: pulumi.Input[str] | None
    """Its security group, opened to the member's range for the forwarded queries."""
    tags: dict[str, str]
    """Tags for every resource."""


class InterconnectPulledLink(pulumi.ComponentResource):
    """The hub's side of a member stack's peering, built by the hub's stack as itself: the
    acceptance, the hub's routes to the member, and the forwarding of the member's endpoint name.
    The member's deploy identity changes nothing of the hub's."""

    def __init__(self, name: str, args: InterconnectPulledLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:InterconnectPulledLink", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plan, spoke, hub = args.plan, args.spoke, args.hub_end
        tags = {**args.tags, "fleet-interconnect": f"{plan.hub}-{spoke.name}"}
        connection_id = args.member.apply(lambda m: m.peering_connection_id)
        accepter = _accept(f"{name}-peering-accept", connection_id, tags, f"{name}-peering", child)
        active = pulumi.ResourceOptions(parent=self, depends_on=[accepter])
        for slug, table in hub.network.route_table_ids.items():
            _to_hub_route(f"{name}-from-hub-{slug}", table, spoke.vpc_cidr, accepter.vpc_peering_connection_id, active)
        if plan.resolvers and spoke.argocd:
            assert args.hub_outbound_endpoint_id is not None  # the hub runs Argo CD: it calls out
            assert args.hub_outbound_group_id is not None
            reach = [
                dataclasses.replace(dns, cidr=spoke.vpc_cidr, purpose=f"DNS queries forwarded to {spoke.name} (a member stack)")
                for dns in security_rules.resolver_outbound_rules(plan, spoke.name)
            ]
            cidr_rules(f"{name}-hub-dns-out", args.hub_outbound_group_id, reach, child, egress=True)
            _forward(
                f"{name}-hub-resolves",
                naming.fit(f"{plan.hub}-resolves-{spoke.name}", RESOLVER_NAME_MAX),
                args.member.apply(lambda m: m.server),
                args.hub_outbound_endpoint_id,
                args.member.apply(
                    lambda m: [aws.route53.ResolverRuleTargetIpArgs(ip=ip, port=DNS_PORT) for ip in m.resolver_ips]
                ),
                hub.network.vpc_id,
                tags,
                child,
            )
        self.register_outputs({})
