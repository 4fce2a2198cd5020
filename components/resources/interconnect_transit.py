"""Transit gateways for ``fleet:interconnect.mode: transitGateway``: one per region the interconnect
spans, each other region's peered with the hub region's, with the static routes peering needs.

What AWS does with it (each fact checked offline by ``offline/private_path.py``):

- A VPC reaches its region's transit gateway only from the AZs where its attachment has a subnet,
  so each attachment takes one private subnet in every AZ of the VPC.
- Attachments in one transit gateway propagate their VPC ranges into its default route table.
  Routes across a transit gateway peering are never propagated: each side needs static routes,
  and those can only be created once the peering is accepted.
- Members reach only the hub: their VPC route tables send nothing but the hub's range to the
  transit gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_aws as aws

from ..aws import regions

# Private ASNs (RFC 6996) from the region's place among all regions: peered gateways never share
# one, and a region's ASN never changes as the fleet gains or loses regions.
FIRST_ASN = 64512


def asn_of(region: str) -> int:
    return FIRST_ASN + sorted(regions.ZONE_IDS).index(region)


@dataclass(frozen=True)
class RegionalTransitGatewayArgs:
    region: str
    """The region of the AWS provider passed in."""
    asn: int
    """The gateway's Amazon-side ASN, distinct from every peered gateway's."""
    hub: RegionalTransitGateway | None
    """The hub region's gateway to peer with; None for the hub region's own."""
    hub_region: str
    """Where the hub's gateway is (its side of the peering is created there)."""
    hub_cidr: IPv4Network
    """The hub's VPC range: this region's gateway routes it over the peering."""
    spoke_cidrs: tuple[IPv4Network, ...]
    """This region's members' VPC ranges: the hub's gateway routes them over the peering."""
    tags: dict[str, str]
    """Tags for every resource."""


class RegionalTransitGateway(pulumi.ComponentResource):
    """A region's transit gateway and, outside the hub's region, its peering with the hub's."""

    gateway: aws.ec2transitgateway.TransitGateway
    route_table_id: pulumi.Output[str]

    def __init__(self, name: str, args: RegionalTransitGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:index:RegionalTransitGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.gateway = aws.ec2transitgateway.TransitGateway(
            f"{name}-tgw",
            aws.ec2transitgateway.TransitGatewayArgs(
                description=f"fleet interconnect in {args.region}",
                amazon_side_asn=args.asn,
                # Attachments land in, and propagate to, the default route table; members stay apart
                # because their own VPC route tables send only the hub's range here.
                default_route_table_association="enable",
                default_route_table_propagation="enable",
                auto_accept_shared_attachments="disable",
                dns_support="enable",
                tags={**args.tags, "Name": f"{name}-tgw"},
            ),
            child,
        )
        self.route_table_id = self.gateway.association_default_route_table_id
        if args.hub is not None:
            self._peer(name, args, args.hub)
        self.register_outputs({"transitGatewayId": self.gateway.id, "routeTableId": self.route_table_id})

    def _peer(self, name: str, args: RegionalTransitGatewayArgs, hub: RegionalTransitGateway) -> None:
        child = pulumi.ResourceOptions(parent=self)
        peering = aws.ec2transitgateway.PeeringAttachment(
            f"{name}-peering",
            aws.ec2transitgateway.PeeringAttachmentArgs(
                transit_gateway_id=self.gateway.id,
                peer_transit_gateway_id=hub.gateway.id,
                peer_region=args.hub_region,
                tags={**args.tags, "Name": f"{name}-peering"},
            ),
            child,
        )
        accepter = aws.ec2transitgateway.PeeringAttachmentAccepter(
            f"{name}-peering-accept",
            aws.ec2transitgateway.PeeringAttachmentAccepterArgs(
                transit_gateway_attachment_id=peering.id,
                tags={**args.tags, "Name": f"{name}-peering"},
                region=args.hub_region,
            ),
            child,
        )
        # AWS's peering guide associates each side explicitly; relying on the default association
        # leaves the requester's side to an account setting. One route table per attachment (AWS),
        # so an association the default already made is replaced, not duplicated.
        sides = [
            ("peering-association", self.route_table_id, None),
            ("peering-accept-association", hub.route_table_id, args.hub_region),
        ]
        associations = [
            aws.ec2transitgateway.RouteTableAssociation(
                f"{name}-{part}",
                aws.ec2transitgateway.RouteTableAssociationArgs(
                    transit_gateway_attachment_id=accepter.transit_gateway_attachment_id,
                    transit_gateway_route_table_id=table,
                    replace_existing_association=True,
                    region=region,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[accepter]),
            )
            for part, table, region in sides
        ]
        accepted = pulumi.ResourceOptions(parent=self, depends_on=[accepter, *associations])
        aws.ec2transitgateway.Route(
            f"{name}-to-hub",
            aws.ec2transitgateway.RouteArgs(
                destination_cidr_block=str(args.hub_cidr),
                transit_gateway_attachment_id=peering.id,
                transit_gateway_route_table_id=self.route_table_id,
            ),
            accepted,
        )
        for network in args.spoke_cidrs:
            aws.ec2transitgateway.Route(
                f"{name}-from-hub-{str(network).replace('.', '-').replace('/', '-')}",
                aws.ec2transitgateway.RouteArgs(
                    destination_cidr_block=str(network),
                    transit_gateway_attachment_id=peering.id,
                    transit_gateway_route_table_id=hub.route_table_id,
                    region=args.hub_region,
                ),
                accepted,
            )


def attach(
    name: str,
    gateway: RegionalTransitGateway,
    vpc_id: pulumi.Input[str],
    subnets: Sequence[pulumi.Input[str]],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2transitgateway.VpcAttachment:
    """A VPC's attachment to its region's gateway, with one subnet in every AZ it has (subnets are one per AZ)."""
    return aws.ec2transitgateway.VpcAttachment(
        name,
        aws.ec2transitgateway.VpcAttachmentArgs(
            transit_gateway_id=gateway.gateway.id,
            vpc_id=vpc_id,
            subnet_ids=list(subnets),
            dns_support="enable",
            tags={**tags, "Name": name},
        ),
        opts,
    )
