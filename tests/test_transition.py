"""The transition model (offline/transition.py): second `pulumi up` runs, checked step by step.

Pure tests build registrations by hand; the edit tests run the real program under mocks for two
configs and check what going from one to the other does.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.aws.force_new import FORCE_NEW, forced_by
from components.planning.iam_policies import GATEWAY_DRAINING_TAG, GATEWAY_POOL_TAG
from offline.harness import Registration, Run, run_stack
from offline.transition import transition
from tests.config_cases import retire_steps

# ---------------------------------------------------------------- pure: hand-built registrations


def reg(
    resource: str, type_token: str = "aws:ec2/route:Route", /, protect: bool = False, dbr: bool = False, **inputs: Any
) -> Registration:
    urn = f"urn:pulumi:prod::fleet::{type_token}::{resource}"
    return Registration(
        urn,
        f"{resource}-id",
        type_token,
        resource,
        True,
        False,
        "",
        protect,
        "",
        {},
        [],
        {},
        inputs,
        set(),
        delete_before_replace=dbr,
    )


def run(*registrations: Registration) -> Run:
    return Run({r.urn: r for r in registrations}, {}, set(), [])


def test_a_force_new_change_is_a_replace_and_others_are_updates() -> None:
    before = run(reg("vpc", "aws:ec2/vpc:Vpc", cidrBlock="10.0.0.0/16", tags={"a": "1"}))
    cidr = transition(before, run(reg("vpc", "aws:ec2/vpc:Vpc", cidrBlock="10.1.0.0/16", tags={"a": "1"})))
    tags = transition(before, run(reg("vpc", "aws:ec2/vpc:Vpc", cidrBlock="10.0.0.0/16", tags={"a": "2"})))
    assert [(c.action, c.forced_by) for c in cidr.changes] == [("replace", ("cidrBlock",))]
    assert [(c.action, c.changed) for c in tags.changes] == [("update", ("tags.a",))]


def test_steps_follow_the_engine_creates_first_deletes_last_in_reverse() -> None:
    a, b, c = (reg(n, destinationCidrBlock=f"10.{i}.0.0/16", routeTableId="rtb") for i, n in enumerate("abc"))
    replaced_first = reg("d", "aws:ec2/vpc:Vpc", dbr=True, cidrBlock="10.9.0.0/16")
    plan = transition(run(a, b, reg("d", "aws:ec2/vpc:Vpc", dbr=True, cidrBlock="10.8.0.0/16")), run(c, replaced_first))
    assert [(s.kind, s.registration.name) for s in plan.steps] == [
        ("create", "c"),
        ("delete", "d"),
        ("create", "d"),
        ("delete", "b"),
        ("delete", "a"),
    ]


def test_a_route_renamed_onto_the_same_destination_clashes_and_an_in_place_retarget_does_not() -> None:
    old = reg("link-from-hub", routeTableId="rtb-1", destinationCidrBlock="10.20.0.0/16", vpcPeeringConnectionId="pcx")
    renamed = reg("hub-to-10-20", routeTableId="rtb-1", destinationCidrBlock="10.20.0.0/16", transitGatewayId="tgw")
    retarget = reg("link-from-hub", routeTableId="rtb-1", destinationCidrBlock="10.20.0.0/16", transitGatewayId="tgw")
    assert [v.rule for v in transition(run(old), run(renamed)).violations] == ["one-route"]
    assert transition(run(old), run(retarget)).violations == []


def test_a_protected_or_deletion_protected_resource_cannot_go() -> None:
    nlb = reg("nlb", "aws:lb/loadBalancer:LoadBalancer", protect=True, enableDeletionProtection=True, name="nlb")
    assert {v.rule for v in transition(run(nlb), run()).violations} == {"protected", "deletion-protection"}
    unprotected = reg("nlb", "aws:lb/loadBalancer:LoadBalancer", enableDeletionProtection=False, name="nlb")
    assert transition(run(unprotected), run()).violations == []


def test_a_create_before_delete_replacement_under_the_same_name_clashes() -> None:
    before = run(reg("tg", "aws:lb/targetGroup:TargetGroup", name="edge", port=443))
    assert [
        v.rule for v in transition(before, run(reg("tg", "aws:lb/targetGroup:TargetGroup", name="edge", port=8443))).violations
    ] == ["name-clash"]
    deleted_first = reg("tg", "aws:lb/targetGroup:TargetGroup", dbr=True, name="edge", port=8443)
    assert (
        transition(
            run(reg("tg", "aws:lb/targetGroup:TargetGroup", dbr=True, name="edge", port=443)), run(deleted_first)
        ).violations
        == []
    )


SAME_OBJECT = [
    (
        "one-rule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/16"},
    ),
    ("one-peering", "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", {"vpcId": "vpc-1", "peerVpcId": "vpc-2"}),
    ("one-attachment", "aws:ec2transitgateway/vpcAttachment:VpcAttachment", {"transitGatewayId": "tgw-1", "vpcId": "vpc-1"}),
    ("one-access-entry", "aws:eks/accessEntry:AccessEntry", {"clusterName": "c", "principalArn": "arn:aws:iam::1:role/ci"}),
    (
        "one-route",
        "aws:ec2transitgateway/route:Route",
        {"transitGatewayRouteTableId": "rtb", "destinationCidrBlock": "10.0.0.0/16"},
    ),
]


@pytest.mark.parametrize(
    ("rule", "type_token", "identity"), SAME_OBJECT, ids=[case[0] + "-" + case[1].split(":")[-1] for case in SAME_OBJECT]
)
def test_a_second_object_aws_holds_once_is_refused_under_another_name(
    rule: str, type_token: str, identity: dict[str, Any]
) -> None:
    before = run(reg("old-name", type_token, **identity))
    moved = transition(before, run(reg("new-name", type_token, **identity)))
    assert [v.rule for v in moved.violations] == [rule]
    # A rename fails because the old object is deleted last; another object of the kind is fine.
    other = {**identity, **dict.fromkeys(list(identity)[-1:], "elsewhere")}
    assert transition(before, run(reg("new-name", type_token, **other))).violations == []


def test_forced_by_reads_nested_and_indexed_paths() -> None:
    assert forced_by("eks:index:ManagedNodeGroup", {"launchTemplate.version", "subnetIds[1]", "tags.a"}) == ["subnetIds[1]"]
    assert forced_by("aws:ec2/flowLog:FlowLog", {"destinationOptions.fileFormat"}) == ["destinationOptions.fileFormat"]


# ---------------------------------------------------------------- the program's registrations


def with_mode(mode: str, *, keep_internet_path: bool = False) -> Callable[[dict[str, Any]], None]:
    section: dict[str, Any] = {"mode": mode, **({"keepInternetPath": True} if keep_internet_path else {})}
    return lambda config: config.update({"fleet:interconnect": section})


@pytest.fixture(scope="module")
def peered() -> Run:
    return run_stack("fleet", mutate=with_mode("peering"))


@pytest.fixture(scope="module")
def transit() -> Run:
    return run_stack("fleet", mutate=with_mode("transitGateway"))


@pytest.fixture(scope="module")
def peered_keeping() -> Run:
    return run_stack("fleet", mutate=with_mode("peering", keep_internet_path=True))


@pytest.fixture(scope="module")
def transit_keeping() -> Run:
    return run_stack("fleet", mutate=with_mode("transitGateway", keep_internet_path=True))


def test_the_force_new_table_covers_every_registered_type(fleet: Run, staging: Run, peered: Run, transit: Run) -> None:
    registered = {r.type for run in (fleet, staging, peered, transit) for r in run.registrations.values() if r.custom or r.remote}
    missing = sorted(registered - FORCE_NEW.keys())
    assert missing == [], f"types with no force-new entry: {missing}"
    assert all(entry.source for entry in FORCE_NEW.values())


def test_the_same_config_is_no_change(fleet: Run) -> None:
    again = run_stack("fleet")
    assert transition(fleet, again).changes == []


def _interconnect_routes(run: Run) -> list[Registration]:
    return [r for r in run.of_type("aws:ec2/route:Route") if "-interconnect-" in r.name]


def test_switching_between_peering_and_transit_is_one_clean_deploy_each_way(peered: Run, transit: Run) -> None:
    # Issue 36 defect 8: each mode owned its hub routes under other names, so the switch created a
    # route to a range the hub's tables still routed (RouteAlreadyExists), and the offered path went
    # through none, which the allow-list quota refuses for the fleets that use a private path. Now every
    # route keeps its name and only its target changes: EC2's ReplaceRoute, in place.
    for before, after in ((peered, transit), (transit, peered)):
        plan = transition(before, after)
        assert plan.violations == []
        routes = {c.name: c for c in plan.changes if c.type == "aws:ec2/route:Route"}
        assert set(routes) == {r.name for r in _interconnect_routes(after)}
        assert {(c.action, c.changed) for c in routes.values()} == {("update", ("transitGatewayId", "vpcPeeringConnectionId"))}


def test_a_route_switched_to_a_transit_gateway_waits_for_the_whole_path(transit: Run) -> None:
    # ReplaceRoute moves traffic at once: before the attachments and the gateways' peering routes exist
    # it would blackhole the hub for the minutes they take.
    urn = {r.name: r.urn for r in transit.registrations.values()}
    for route in _interconnect_routes(transit):
        cluster = route.name.split("-interconnect-")[0]
        region = (
            transit.named(f"{cluster}-network-vpc").inputs.get("region")
            or transit.registrations[transit.named(f"{cluster}-network-vpc").provider_urn].inputs["region"]
        )
        needed = {urn[f"{end}-interconnect-attachment"] for end in ("mgmt", cluster)} | {urn[f"interconnect-{region}-tgw"]}
        if region != "us-east-1":
            needed |= {urn[f"interconnect-{region}-peering-accept-association"], urn[f"interconnect-{region}-to-hub"]}
            needed |= {r.urn for r in transit.registrations.values() if r.name.startswith(f"interconnect-{region}-from-hub-")}
        assert needed <= set(route.dependencies), route.name


def as_before_issue_36(run: Run) -> Run:
    """``run`` (transitGateway) as the program registered it before issue 36: the hub's routes to members
    were the hub end's, through the hub's provider, named by table and destination."""
    hub = run.named("mgmt-interconnect-attachment")
    registrations = {}
    for urn, r in run.registrations.items():
        if "-interconnect-from-hub-" not in r.name:
            registrations[urn] = r
            continue
        slug = r.name.split("-from-hub-")[1]
        cidr = r.inputs["destinationCidrBlock"].replace(".", "-").replace("/", "-")
        name = f"mgmt-interconnect-to-{slug}-{cidr}"
        legacy = as_registered_before(
            r,
            f"urn:pulumi:fleet::fleet::fleet:index:InterconnectHub$aws:ec2/route:Route::{name}",
            {k: v for k, v in r.inputs.items() if k != "region"},
            parent=hub.parent,
            provider=hub.provider,
        )
        registrations[legacy.urn] = legacy
    return dataclasses.replace(run, registrations=registrations)


def as_registered_before(r: Registration, urn: str, inputs: dict[str, Any], **fields: Any) -> Registration:
    """``r`` under the URN and inputs an older program gave it, with none of today's options."""
    return dataclasses.replace(
        r, urn=urn, name=urn.rsplit("::", 1)[1], inputs=inputs, delete_before_replace=False, aliases=[], **fields
    )


def test_hub_routes_of_a_transit_fleet_deployed_before_issue_36_move_to_their_links(transit: Run) -> None:
    # The old name is an alias; the provider reference changes but not the route's region, which the
    # engine asks the new provider about (DiffConfig) and pulumi-aws v7 keeps in place: nothing changes.
    moved = transition(as_before_issue_36(transit), transit)
    assert moved.violations == []
    assert [c for c in moved.changes if c.type == "aws:ec2/route:Route"] == []
    # Routes moved to another region would be replaced (terraform-provider-aws: region is ForceNew), and a
    # replacement created beside the old route is refused.
    elsewhere = dataclasses.replace(
        transit,
        registrations={
            urn: dataclasses.replace(r, inputs={**r.inputs, "region": "us-west-2"}) if "-from-hub-" in r.name else r
            for urn, r in transit.registrations.items()
        },
    )
    replaced = transition(as_before_issue_36(transit), elsewhere)
    assert {c.forced_by for c in replaced.changes if c.type == "aws:ec2/route:Route"} == {("region",)}
    assert "one-route" in {v.rule for v in replaced.violations}


def test_hub_routes_the_old_program_collapsed_are_replaced_by_more_specific_routes_first(transit: Run) -> None:
    # Review of #36: before it, adjacent member ranges shared one collapsed hub route, whose name no new
    # route aliases. The members' own routes are created beside it (other destinations), and it goes last.
    legacy = as_before_issue_36(transit)
    collapsed = {}
    for urn, r in legacy.registrations.items():
        if r.name.startswith("mgmt-interconnect-to-") and r.inputs["destinationCidrBlock"] == "10.20.0.0/16":
            name = r.name.replace("10-20-0-0-16", "10-16-0-0-12")
            r = dataclasses.replace(
                r, urn=urn.replace(r.name, name), name=name, inputs={**r.inputs, "destinationCidrBlock": "10.16.0.0/12"}
            )
        elif r.name.startswith("mgmt-interconnect-to-") and r.inputs["destinationCidrBlock"] == "10.30.0.0/16":
            continue
        collapsed[r.urn] = r
    plan = transition(dataclasses.replace(legacy, registrations=collapsed), transit)
    assert plan.violations == []
    routes = {(c.name.split("-interconnect-")[0], c.action) for c in plan.changes if c.type == "aws:ec2/route:Route"}
    assert routes == {("prod-us", "create"), ("prod-eu", "create"), ("mgmt", "delete")}
    order = [s.kind for s in plan.steps if s.registration.type == "aws:ec2/route:Route"]
    assert order.index("delete") > max(i for i, kind in enumerate(order) if kind == "create")


def test_going_private_in_one_deploy_is_refused_for_its_api_gap(fleet: Run, peered: Run, transit: Run) -> None:
    # Defect 5: the allow lists shrink beside the peering's creation; nothing orders one after the other.
    for private in (peered, transit):
        gaps = [v for v in transition(fleet, private).violations if v.rule == "api-access-gap"]
        assert gaps
        assert all("lose the API" in v.message and "keepInternetPath" in v.fix for v in gaps)
    assert transition(peered, fleet).violations == [], "going public widens the lists first: no gap"


def test_keep_internet_path_keeps_every_allow_list_until_the_next_deploy(
    fleet: Run, peered: Run, peered_keeping: Run, transit_keeping: Run
) -> None:
    def allow_lists(run: Run) -> dict[str, set[str]]:
        return {
            r.name: set(r.inputs.get("publicAccessCidrs") or [])
            for r in run.registrations.values()
            if r.type == "eks:index:Cluster"
        }

    assert allow_lists(peered_keeping) == allow_lists(fleet)
    assert allow_lists(transit_keeping) == allow_lists(fleet)
    assert any(allow_lists(peered)[name] < allow_lists(fleet)[name] for name in allow_lists(fleet))


def test_switching_through_none_is_clean_both_ways(
    fleet: Run, peered: Run, transit: Run, peered_keeping: Run, transit_keeping: Run
) -> None:
    path = (
        (peered, fleet),
        (fleet, transit_keeping),
        (transit_keeping, transit),
        (transit, fleet),
        (fleet, peered_keeping),
        (peered_keeping, peered),
    )
    for before, after in path:
        moved = transition(before, after)
        assert moved.violations == [], [v.message for v in moved.violations]


def routing(config: dict[str, Any], record: str, **policy: Any) -> None:
    records = config["fleet:dns"]["records"]
    config["fleet:dns"] = {
        **config["fleet:dns"],
        "records": [{"name": record, **policy} if r["name"] == record else r for r in records],
    }


def test_changing_a_records_routing_policy_is_refused_with_a_path_that_keeps_the_name_answered(fleet: Run) -> None:
    # Defect 3: weighted -> latency is an update of both sets; Route53 refuses mixed routing types. The
    # path offered was remove-deploy-add, which leaves the name unanswered (resolvers cache NXDOMAIN).
    latency = run_stack(
        "fleet", mutate=lambda c: routing(c, "api.example.com", routing="latency", clusters=["prod-us", "prod-eu"])
    )
    moved = transition(fleet, latency)
    assert [v.rule for v in moved.violations] == ["one-routing-type"]
    assert "between weighted and latency, in three `pulumi up` runs, each clean and the name answered" in moved.violations[0].fix
    # Issue 36: the path through one set. Each run is clean, and no run leaves the name without a set.
    one_set = run_stack("fleet", mutate=lambda c: routing(c, "api.example.com", routing="weighted", weights={"prod-us": 100}))
    switched = run_stack("fleet", mutate=lambda c: routing(c, "api.example.com", routing="latency", clusters=["prod-us"]))
    steps = [transition(fleet, one_set), transition(one_set, switched), transition(switched, latency)]
    assert [t.violations for t in steps] == [[], [], []]
    (updated,) = [c for c in steps[1].changes if c.type == "aws:route53/record:Record"]
    assert (updated.name, updated.action) == ("traffic-api.example.com-prod-us", "update")
    # The remove-deploy-add path is the gap --compare names.
    removed = run_stack("fleet", mutate=lambda c: c["fleet:dns"].update(records=c["fleet:dns"]["records"][1:]))
    assert [(v.rule, v.step) for v in transition(fleet, removed).violations] == [("dns-gap", "delete api.example.com")]


def test_to_or_from_geolocation_the_one_set_path_does_not_apply(fleet: Run) -> None:
    # Its sets are named by location, a weighted or latency set by its cluster: the single set cannot be
    # updated across (a new set beside the old is refused), and --compare says so rather than offer it.
    only_default = run_stack(
        "fleet", mutate=lambda c: routing(c, "shop.example.com", routing="geolocation", locations={"default": "prod-us"})
    )
    weighted = run_stack("fleet", mutate=lambda c: routing(c, "shop.example.com", routing="weighted", weights={"prod-us": 1}))
    assert transition(fleet, only_default).violations == []
    assert [v.rule for v in transition(only_default, weighted).violations] == ["one-routing-type"]
    (refused,) = transition(only_default, weighted).violations
    assert "To or from failover or geolocation" in refused.fix
    assert "three" not in refused.fix


def test_renaming_a_record_creates_the_new_name_before_the_old_goes(fleet: Run) -> None:
    renamed = run_stack("fleet", mutate=lambda c: c["fleet:dns"]["records"][0].update(name="edge-api.example.com"))
    moved = transition(fleet, renamed)
    # The old name's clients lose it, which --compare says.
    assert [(v.rule, v.step) for v in moved.violations] == [("dns-gap", "delete api.example.com")]
    kinds = [
        (s.kind, s.registration.inputs.get("name")) for s in moved.steps if s.registration.type == "aws:route53/record:Record"
    ]
    assert kinds.index(("create", "edge-api.example.com")) < kinds.index(("delete", "api.example.com"))


def test_changing_weights_is_a_clean_update(fleet: Run) -> None:
    shifted = run_stack(
        "fleet", mutate=lambda c: routing(c, "api.example.com", routing="weighted", weights={"prod-us": 50, "prod-eu": 50})
    )
    moved = transition(fleet, shifted)
    assert moved.violations == []
    assert {c.action for c in moved.changes} == {"update"}


def test_a_failover_swap_in_one_deploy_is_clean(fleet: Run) -> None:
    # Issue 36, defect 1: the sets were named by cluster, so each update flipped a role and Route 53
    # refused the first (one PRIMARY and one SECONDARY per name: API reference, ResourceRecordSet.Failover).
    # Named by role, a swap moves each set's target in place. (Two tests called the old swap clean, then refused.)
    swapped = run_stack(
        "fleet", mutate=lambda c: routing(c, "app.example.com", routing="failover", primary="prod-eu", secondary="prod-us")
    )
    moved = transition(fleet, swapped)
    assert moved.violations == []
    changed = {c.name: c for c in moved.changes if c.type == "aws:route53/record:Record"}
    assert set(changed) == {"traffic-app.example.com-primary", "traffic-app.example.com-secondary"}
    assert {c.action for c in changed.values()} == {"update"}
    assert all("setIdentifier" not in c.changed and "failoverRoutingPolicies[0].type" not in c.changed for c in changed.values())


def test_moving_a_geolocation_location_to_another_cluster_is_clean(fleet: Run) -> None:
    # Defect 2: the location's set was named by cluster, so the new set was created beside the old
    # one, and Route 53 holds one set per location and name.
    moved_eu = run_stack(
        "fleet",
        mutate=lambda c: routing(c, "shop.example.com", routing="geolocation", locations={"EU": "prod-us", "default": "prod-us"}),
    )
    moved = transition(fleet, moved_eu)
    assert moved.violations == []
    (change,) = [c for c in moved.changes if c.type == "aws:route53/record:Record"]
    assert (change.name, change.action) == ("traffic-shop.example.com-continent-eu", "update")


def named_by_cluster(run: Run) -> Run:
    """``run``'s failover and geolocation sets as the program named them before issue 36: by cluster."""
    edges = {edge["hostname"]: cluster for cluster, edge in run.exports["edges"].items()}
    registrations = {}
    for urn, r in run.registrations.items():
        policies = r.inputs.get("failoverRoutingPolicies") or r.inputs.get("geolocationRoutingPolicies")
        if r.type != "aws:route53/record:Record" or not policies:
            registrations[urn] = r
            continue
        cluster = edges[r.inputs["aliases"][0]["name"]]
        new_id = r.inputs["setIdentifier"]
        old_id = cluster if "failoverRoutingPolicies" in r.inputs else f"{cluster}-{new_id}"
        name = r.name.removesuffix(new_id) + old_id
        legacy = as_registered_before(r, urn.removesuffix(r.name) + name, {**r.inputs, "setIdentifier": old_id})
        registrations[legacy.urn] = legacy
    return dataclasses.replace(run, registrations=registrations)


def test_sets_named_by_cluster_become_their_roles_and_locations_in_place(fleet: Run) -> None:
    # The move from sets named by cluster is an update per set: the provider sends a new set identifier
    # as one transactional batch, DELETE of the old set and CREATE of the new (terraform-provider-aws
    # route53 record.go, resourceRecordUpdate), so no role or location is held twice, or not at all.
    moved = transition(named_by_cluster(fleet), fleet)
    assert moved.violations == []
    records = {c.name: c for c in moved.changes if c.type == "aws:route53/record:Record"}
    assert set(records) == {
        f"traffic-{name}"
        for name in (
            "app.example.com-primary",
            "app.example.com-secondary",
            "shop.example.com-continent-eu",
            "shop.example.com-default",
        )
    }
    assert {(c.action, c.changed) for c in records.values()} == {("update", ("setIdentifier",))}


def test_a_routing_edit_in_the_deploy_that_renames_the_sets_is_refused(fleet: Run) -> None:
    # Review of #36: from sets still named by cluster, moving a location in the same deploy creates the
    # location's new set beside the old one, which Route 53 refuses.
    moved_eu = run_stack(
        "fleet",
        mutate=lambda c: routing(c, "shop.example.com", routing="geolocation", locations={"EU": "prod-us", "default": "prod-us"}),
    )
    moved = transition(named_by_cluster(fleet), moved_eu)
    assert "one-location" in {v.rule for v in moved.violations}
    assert any("deploy this program with the record unchanged, then make the edit" in v.fix for v in moved.violations)


def test_a_name_that_goes_is_a_gap_compare_names(fleet: Run) -> None:
    # Defect 3: "remove the record, deploy, add it back" deletes a live name; resolvers then cache
    # NXDOMAIN for up to the zone's negative TTL.
    def without_www(config: dict[str, Any]) -> None:
        config["fleet:dns"]["records"] = [r for r in config["fleet:dns"]["records"] if r["name"] != "www.example.com"]

    (gap,) = transition(fleet, run_stack("fleet", mutate=without_www)).violations
    assert (gap.rule, gap.step) == ("dns-gap", "delete www.example.com")
    assert "clients get NXDOMAIN" in gap.message
    assert "--accept dns-gap:www.example.com" in gap.fix


def gateways(count: int, keep: int | None = None) -> Callable[[dict[str, Any]], None]:
    extra = {"keepGatewayAddresses": keep} if keep is not None else {}
    return lambda config: config["fleet:submariner"].update(gatewaysPerCluster=count, **extra)


def test_lowering_gateways_in_one_deploy_is_refused_with_the_draining_path(fleet: Run) -> None:
    # Defect 2: a running gateway may hold any pool address (it finds them by tag, so it may hold 4-6).
    fewer = run_stack("fleet", mutate=gateways(1))
    violations = transition(fleet, fewer).violations
    assert {v.rule for v in violations} == {"pool-address-held"}
    assert all("keepGatewayAddresses" in v.fix for v in violations if v.rule == "pool-address-held")


def test_lowering_gateways_drains_then_releases_in_two_clean_deploys(fleet: Run) -> None:
    draining = run_stack("fleet", mutate=gateways(1, keep=6))
    fewer = run_stack("fleet", mutate=gateways(1))
    first, second = transition(fleet, draining), transition(draining, fewer)
    assert first.violations == [], [v.message for v in first.violations]
    assert second.violations == [], [v.message for v in second.violations]
    assert [c for c in first.changes if c.action == "delete" and c.type == "aws:ec2/eip:Eip"] == []
    # The gateway groups are replaced in the first deploy, while no pool address is released.
    replaced = {c.name for c in first.changes if c.action == "replace" and c.type == "eks:index:ManagedNodeGroup"}
    assert replaced
    assert all(name.endswith("-submariner-gateway") for name in replaced)
    drained = {c.name for c in second.changes if c.action == "delete"}
    members = {r.name.removesuffix("-submariner") for r in fleet.of_type("fleet:index:SubmarinerMember")}
    assert drained == {f"{m}-network-gateway-{n}" for m in members for n in (4, 5, 6)}
    # Draining addresses cannot be claimed: the boot script's filter and the node policy read the pool tag.
    for name in drained:
        tags = draining.named(name).inputs["tags"]
        assert GATEWAY_POOL_TAG not in tags
        assert tags[GATEWAY_DRAINING_TAG]


def test_raising_gateways_is_one_clean_deploy(fleet: Run) -> None:
    fewer = run_stack("fleet", mutate=gateways(1))
    moved = transition(fewer, fleet)
    assert moved.violations == [], [v.message for v in moved.violations]
    assert [c for c in moved.changes if c.action == "delete" and c.type == "aws:ec2/eip:Eip"] == []


def test_opening_the_gateways_to_anywhere_and_back_are_clean_deploys(fleet: Run) -> None:
    opened = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(gatewayPeers="anywhere"))
    opening = transition(fleet, opened)
    # The gateways' launch template changes, so EKS would move them to the newest node image unless the
    # pin moves in the same deploy (node-image-drift); nothing else is refused.
    assert {v.rule for v in opening.violations} == {"node-image-drift"}
    assert {v.step for v in opening.violations} == {f"update {c}-submariner-gateway" for c in ("mgmt", "prod-us", "prod-eu")}
    deleted = {c.type for c in opening.changes if c.action == "delete"}
    assert "aws:ec2/managedPrefixList:ManagedPrefixList" in deleted
    # The gateways roll once onto the new group: their launch template's interface changes in place.
    assert [c.action for c in opening.changes if c.name.endswith("-submariner-gateway-lt")] == ["update"] * 3
    closing = transition(opened, fleet)
    assert {v.rule for v in closing.violations} == {"node-image-drift"}


def add_cluster(config: dict[str, Any]) -> None:
    clusters = config["fleet:clusters"]
    extra = copy.deepcopy(next(c for c in clusters if c["name"] == "prod-eu"))
    extra.update(name="prod-ap", region="ap-northeast-1", vpcCidr="10.50.0.0/16", serviceCidr="172.25.0.0/16")
    extra["labels"] = {**extra["labels"], "overlay": "production-ap"}
    clusters.append(extra)
    config["fleet:submariner"]["clusters"] = [*config["fleet:submariner"]["clusters"], "prod-ap"]


def test_adding_and_removing_a_cluster_are_clean(fleet: Run) -> None:
    grown = run_stack("fleet", mutate=add_cluster)
    added = transition(fleet, grown)
    assert added.violations == [], [v.message for v in added.violations]
    assert not [c for c in added.changes if c.action in ("replace", "delete")]
    # The broker admits the new member: an in-place update of its allow list.
    broker = next(c for c in added.changes if c.name == "mgmt-eks")
    assert (broker.action, broker.changed) == ("update", ("publicAccessCidrs",))

    # Removing an unprotected, never-served cluster again is the tear-down's last step.
    def retiring_new_cluster(config: dict[str, Any]) -> None:
        add_cluster(config)
        config["fleet:clusters"][-1]["retiring"] = True

    grown_unprotected = run_stack("fleet", mutate=retiring_new_cluster)
    removed = transition(grown_unprotected, fleet)
    assert removed.violations == [], [v.message for v in removed.violations]
    assert {c.action for c in removed.changes if c.name.startswith("prod-ap")} == {"delete"}


def test_cutting_a_member_off_the_clusterset_is_clean(fleet: Run) -> None:
    cut = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(clusters=["mgmt", "prod-us"]))
    moved = transition(fleet, cut)
    assert moved.violations == [], [v.message for v in moved.violations]
    deleted = [s.registration.name for s in moved.steps if s.kind == "delete"]
    assert deleted.index("prod-eu-submariner-gateway") < min(deleted.index(f"prod-eu-network-gateway-{n}") for n in range(1, 7))


def test_a_leaving_members_gateways_are_deleted_before_its_pool_addresses(fleet: Run) -> None:
    # Pulumi runs unrelated deletes in parallel: only a dependency orders the group before the addresses.
    group = fleet.named("prod-eu-submariner-gateway")
    pool = [r.urn for r in fleet.of_type("aws:ec2/eip:Eip") if r.name.startswith("prod-eu-network-gateway-")]
    assert pool
    assert set(pool) <= set(group.dependencies)


# ---------------------------------------------------------------- the tear-down runbook, step by step


def test_the_old_runbook_order_is_refused(fleet: Run) -> None:
    # Defect 4: taking the cluster out of DNS and the clusterset while it is still protected deletes
    # a protected, deletion-protected NLB and protected pool addresses.
    def old_step1(config: dict[str, Any]) -> None:
        retire_steps()[1](config)
        next(c for c in config["fleet:clusters"] if c["name"] == "prod-eu")["retiring"] = False

    rules = {v.rule for v in transition(fleet, run_stack("fleet", mutate=old_step1)).violations}
    assert {"protected", "deletion-protection"} <= rules


def test_the_tear_down_runbook_is_clean_step_by_step(fleet: Run) -> None:
    runs = [fleet, *(run_stack("fleet", mutate=step) for step in retire_steps())]
    for number, (before, after) in enumerate(itertools.pairwise(runs), start=1):
        moved = transition(before, after)
        # Step 2 retires app.example.com (failover needs two clusters): its clients lose the name, which
        # --compare says (issue 36: "retiring a failover member" deletes a live name) until accepted.
        expected = [("dns-gap", "delete app.example.com")] if number == 2 else []
        assert [(v.rule, v.step) for v in moved.violations] == expected, (number, [v.message for v in moved.violations])
    first = transition(runs[0], runs[1]).by_action()
    assert first["delete"] == [], "step 1 only lifts protection"
    assert first["replace"] == []
    assert not [r for r in runs[-1].registrations.values() if r.name.startswith("prod-eu")]


def step_files(directory: Path, stack: str, steps: list[Callable[[dict[str, Any]], None]]) -> list[Path]:
    """The single-stack fleet's file as stack ``stack`` before a runbook (step0) and after each of its steps."""
    from offline import stacks

    text = yaml.safe_load(stacks.stack_path("fleet").read_text())
    files = []
    for number, step in enumerate([lambda _: None, *steps]):
        config = copy.deepcopy(text)
        step(config["config"])
        files.append(directory / f"step{number}" / f"Pulumi.{stack}.yaml")
        files[-1].parent.mkdir()
        files[-1].write_text(yaml.safe_dump(config, sort_keys=False))
    return files


def test_each_runbook_step_is_previewed_by_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from plan import __main__ as plan_main

    files = step_files(tmp_path, "fleet", retire_steps())[1:]
    assert plan_main.main(["fleet", "--compare", str(files[0])]) == 0
    for before, after in itertools.pairwise(files):
        accept = ["--accept", "dns-gap:app.example.com"]  # the runbook's step 2 says why
        assert plan_main.main(["fleet", "--compare", str(before), "--to", str(after), *accept]) == 0
    out = capsys.readouterr().out
    assert out.count("No step breaks an AWS or Pulumi rule.") == 3


def test_compare_exits_1_and_names_the_safe_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from offline import stacks
    from plan import __main__ as plan_main

    config = yaml.safe_load(stacks.stack_path("prod").read_text())
    routing(config["config"], "api.example.com", routing="latency", clusters=["prod-us", "prod-eu"])
    changed = tmp_path / "Pulumi.prod.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    assert plan_main.main(["prod", "--compare", str(changed)]) == 1
    out = capsys.readouterr().out
    assert "error [one-routing-type]" in out
    assert "safe way: between weighted and latency, in three `pulumi up` runs" in out


def test_plan_refuses_a_stack_file_outside_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from plan import __main__ as plan_main

    other = tmp_path / "Pulumi.prod.yaml"
    other.write_text("config: {}\n")
    assert plan_main.main([str(other)]) == 1
    assert f"--compare {other}" in capsys.readouterr().err


def rolled_node_groups(moved: Any) -> list[str]:
    return sorted(c.name for c in moved.changes if "launchTemplate.version" in c.changed)


def test_retiring_or_retagging_rolls_no_node(fleet: Run) -> None:
    # Defect 7: `retiring` (and any tag edit) reached the launch templates' instance tags, so EKS
    # replaced every node of the cluster.
    retiring = run_stack("fleet", mutate=retire_steps()[0])
    assert rolled_node_groups(transition(fleet, retiring)) == []


def test_a_new_template_version_rolls_the_groups_that_read_it(fleet: Run) -> None:
    def bigger_disks(config: dict[str, Any]) -> None:
        for group in next(c for c in config["fleet:clusters"] if c["name"] == "prod-eu")["nodeGroups"]:
            group["diskSizeGib"] = 200

    moved = transition(fleet, run_stack("fleet", mutate=bigger_disks))
    rolled = rolled_node_groups(moved)
    assert rolled
    assert all(name.startswith("prod-eu-") for name in rolled)
    # Issue 34, defect 4: the provider sends that update without releaseVersion, so EKS takes the newest
    # node image, and the next deploy's pinned (older) image is refused: --compare says so first.
    drifted = {v.step.removeprefix("update ") for v in moved.violations if v.rule == "node-image-drift"}
    assert drifted == set(rolled)
    assert all("NODE_IMAGE_RELEASE" in v.fix for v in moved.violations)


def test_every_transit_peering_is_associated_explicitly_on_both_sides(transit: Run) -> None:
    # Defect 9: the requester's side relied on the gateway's default association.
    gateways = {g.id: g for g in transit.of_type("aws:ec2transitgateway/transitGateway:TransitGateway")}
    associations = transit.of_type("aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation")
    peerings = transit.of_type("aws:ec2transitgateway/peeringAttachment:PeeringAttachment")
    assert peerings
    for peering in peerings:
        ends = (gateways[peering.inputs["transitGatewayId"]], gateways[peering.inputs["peerTransitGatewayId"]])
        tables = {
            a.inputs["transitGatewayRouteTableId"] for a in associations if a.inputs["transitGatewayAttachmentId"] == peering.id
        }
        assert tables == {end.outputs["associationDefaultRouteTableId"] for end in ends}


def scaled(minimum: int, maximum: int) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        group = next(c for c in config["fleet:clusters"] if c["name"] == "prod-eu")["nodeGroups"][0]
        group.update(minSize=minimum, maxSize=maximum, desiredSize=max(minimum, group.get("desiredSize", minimum)))

    return change


def test_raising_a_minimum_names_the_resize_to_do_first(fleet: Run) -> None:
    # Defect 6: desiredSize is the autoscaler's, so EKS may get min > desired.
    moved = transition(fleet, run_stack("fleet", mutate=scaled(5, 21)))
    # prod-eu's general group is per zone: each of its three groups gets min 2 (5 over 3 zones, rounded up).
    assert [v.rule for v in moved.violations] == ["minimum-above-desired"] * 3
    assert all("desiredSize=2" in v.fix for v in moved.violations)


def test_lowering_a_minimum_or_raising_a_maximum_is_clean(fleet: Run) -> None:
    for change in (scaled(0, 21), scaled(3, 27)):
        moved = transition(fleet, run_stack("fleet", mutate=change))
        assert moved.violations == []
        assert {c.action for c in moved.changes} == {"update"}


def prod_eu(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda config: change(next(c for c in config["fleet:clusters"] if c["name"] == "prod-eu"))


def test_new_instance_types_replace_only_that_group_and_cleanly(fleet: Run) -> None:
    moved = transition(
        fleet, run_stack("fleet", mutate=prod_eu(lambda c: c["nodeGroups"][0].update(instanceTypes=["m7i.2xlarge"])))
    )
    # The SDK registers a resource once its inputs resolve: the three zones' groups come in any order.
    assert sorted((c.action, c.name, c.forced_by) for c in moved.changes) == [
        ("replace", f"prod-eu-general-euw1-az{n}", ("instanceTypes",)) for n in (1, 2, 3)
    ]
    assert moved.violations == [], "a name prefix lets the new group exist beside the old one"


def test_more_zones_lowers_each_zones_maximum_and_fewer_zones_is_refused_on_a_protected_network(fleet: Run) -> None:
    def zones(count: int) -> Callable[[dict[str, Any]], None]:
        return prod_eu(lambda c: c.update(availabilityZones=count))

    two = run_stack("fleet", mutate=zones(2))
    # Issue 34, defect 7: a third zone shares the per-zone groups' maxSize (12: 6 -> 4 a zone), which EKS
    # refuses below a zone's running size: --compare once called this clean.
    more = transition(two, fleet)
    assert {v.rule for v in more.violations} == {"maximum-below-desired"}
    assert all("never by setting desiredSize" in v.fix for v in more.violations)
    fewer = transition(fleet, two)
    # The zones left share the per-zone groups' minimum: each zone's rises (1 -> 2), past what the autoscaler set.
    assert {v.rule for v in fewer.violations} == {"protected", "minimum-above-desired"}
    assert any("euw1-az3" in v.message for v in fewer.violations)


def test_an_attachment_takes_one_association_per_gateway() -> None:
    token = "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation"
    first = reg("a", token, transitGatewayAttachmentId="tgw-attach-1", transitGatewayRouteTableId="rtb-1", region="us-east-1")
    same_side = reg("b", token, transitGatewayAttachmentId="tgw-attach-1", transitGatewayRouteTableId="rtb-2", region="us-east-1")
    other_side = reg(
        "b", token, transitGatewayAttachmentId="tgw-attach-1", transitGatewayRouteTableId="rtb-3", region="eu-west-1"
    )
    assert [v.rule for v in transition(run(first), run(first, same_side)).violations] == ["one-association"]
    assert transition(run(first), run(first, other_side)).violations == []


# ---------------------------------------------------------------- Kubernetes versions


def versioned(version: str) -> Callable[[dict[str, Any]], None]:
    # Past standard support, a protected cluster must be on EXTENDED (else EKS upgrades it itself).
    return lambda config: config.update({"fleet:kubernetesVersion": version, "fleet:supportType": "EXTENDED"})


def test_a_version_bump_updates_each_control_plane_in_place_one_minor_at_a_time(fleet: Run) -> None:
    older = run_stack("fleet", mutate=versioned("1.34"))
    oldest = run_stack("fleet", mutate=versioned("1.33"))
    up = transition(older, fleet)
    assert up.violations == [], [v.message for v in up.violations]
    clusters = [c for c in up.changes if c.type == "eks:index:Cluster"]
    assert {c.action for c in clusters} == {"update"}
    assert all({"version", "kubeProxyAddonOptions.version"} <= set(c.changed) for c in clusters)
    # Issue #20, defect 1: every node group (general, ARM, GPU, Spot, gateways) follows, in place.
    groups = [r for r in fleet.registrations.values() if r.type == "eks:index:ManagedNodeGroup"]
    moved = {c.name: c for c in up.changes if c.type == "eks:index:ManagedNodeGroup"}
    assert groups
    assert {g.name for g in groups} == set(moved)
    assert all(c.action == "update" and "version" in c.changed for c in moved.values())
    assert {g.inputs["version"] for g in groups} == {"1.35"}
    assert not [c for c in up.changes if c.action in ("replace", "delete")]
    skipped = {v.rule for v in transition(oldest, fleet).violations}
    down = transition(fleet, older).violations
    assert skipped == {"one-minor-up"}
    assert {v.rule for v in down} == {"one-minor-up"}
    assert all("downgrade is a new cluster" in v.fix for v in down)


# ---------------------------------------------------------------- moving the hub to its own stack (two stacks to three)


def hub_out_runs() -> list[Run]:
    from offline.harness import run_program, stack_config
    from tests.config_cases import hub_out_steps

    configs = [stack_config("fleet")]
    for step in hub_out_steps():
        config = stack_config("fleet")
        step(config)
        configs.append(config)
    # The single-stack fleet deployed as stack prod: the shape prod had before mgmt had its own stack.
    return [run_program(config, stack="prod") for config in configs]


def test_moving_the_hub_to_its_own_stack_keeps_every_production_resource() -> None:
    from offline.harness import stack_config
    from tests.config_cases import hub_out_steps

    before, retiring, dropped, joined = hub_out_runs()
    # Step 1: the hub loses its protection, nothing else changes.
    first = transition(before, retiring)
    assert first.violations == [], [v.message for v in first.violations]
    assert first.by_action()["delete"] == first.by_action()["replace"] == []
    assert {c.name.split("-", 1)[0] for c in first.changes} <= {"mgmt"}

    # Step 2: the hub, Argo CD and the hub's Submariner pieces go; no production resource is
    # replaced or deleted. The broker's objects move to prod-us: a new provider means a
    # replacement (created on prod-us, then deleted on mgmt), and the members re-point at it.
    second = transition(retiring, dropped)
    assert second.violations == [], [v.message for v in second.violations]
    acted = second.by_action()
    # Of prod's own, only its registration in the old hub goes: the old role's entries and the Secrets on mgmt.
    assert {c.name for c in acted["delete"] + acted["replace"] if c.name.startswith("prod-")} == {
        f"prod-{r}-argocd{p}" for r in ("us", "eu") for p in ("", "-access", "-admin", "-cluster")
    }
    replaced = acted["replace"]
    assert replaced
    assert all(c.name.startswith("submariner-broker-") and c.forced_by == ("(provider)",) for c in replaced)
    assert all(c.type.startswith("kubernetes:") for c in replaced)
    chart = [s for s in second.steps if s.registration.name == "submariner-broker-chart"]
    assert [s.kind for s in chart] == ["create", "delete"]  # on prod-us first, then off mgmt
    members = {c.name: c.changed for c in acted["update"] if c.type == "kubernetes:submariner.io/v1alpha1:Submariner"}
    assert set(members) == {"prod-us-submariner-submariner", "prod-eu-submariner-submariner"}
    assert all("spec.brokerK8sApiServer" in changed for changed in members.values())
    deleted = {c.name for c in acted["delete"]}
    assert "mgmt-eks" in deleted
    assert {"argocd", "argocd-root", "argocd-appset-myapp"} <= deleted
    # Deleting them deletes no workload: no cascading finalizer on the root Application, and every
    # ApplicationSet keeps its Applications' resources.
    root = retiring.named("argocd-root")
    assert not (root.inputs.get("metadata") or {}).get("finalizers")
    for appset in retiring.of_type("kubernetes:argoproj.io/v1alpha1:ApplicationSet"):
        assert appset.inputs["spec"]["syncPolicy"]["preserveResourcesOnDeletion"] is True

    # Step 3: prod joins mgmt: only the hub role's entries on its clusters and its allow lists.
    third = transition(dropped, joined)
    assert third.violations == [], [v.message for v in third.violations]
    acted = third.by_action()
    assert acted["delete"] == acted["replace"] == []
    assert {c.name for c in acted["update"]} == {"prod-us-eks", "prod-eu-eks"}

    # The last step is the shipped Pulumi.prod.yaml (its quotas are a fresh account's).
    final = stack_config("fleet")
    for step in hub_out_steps():
        final = stack_config("fleet")
        step(final)
    shipped = stack_config("prod")
    assert {k: v for k, v in final.items() if k != "fleet:quotas"} == {k: v for k, v in shipped.items() if k != "fleet:quotas"}


def test_each_hub_out_step_is_previewed_by_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from plan import __main__ as plan_main
    from tests.config_cases import hub_out_steps

    files = step_files(tmp_path, "prod", hub_out_steps())
    for before, after in itertools.pairwise(files):
        assert plan_main.main(["prod", "--compare", str(before), "--to", str(after)]) == 0
    out = capsys.readouterr().out
    assert out.count("No step breaks an AWS or Pulumi rule.") == 3
    assert "submariner-broker-chart (forced by (provider))" in out


def test_staging_moves_to_mgmts_hub_replacing_only_the_hub_roles_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from components.config import hub_stack
    from tests.config_cases import MGMT
    from tests.reference_stacks import fleet_hub_project, reference_project

    # Both hubs' stack files beside staging: prod's (the single-stack fleet) before, mgmt's after.
    for path in fleet_hub_project().iterdir():
        shutil.copy(path, tmp_path / path.name)
    shutil.copy(reference_project() / "Pulumi.mgmt.yaml", tmp_path / "Pulumi.mgmt.yaml")
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)

    def hub(role: str, cluster: str) -> dict[str, Any]:
        return {"argocdHub": {"cluster": cluster, "namespace": "argocd", "roleArn": role, "egressIps": ["192.0.2.1"]}}

    old_role = "arn:aws:iam::123456789012:role/fleet-prod-argocd-hub-20261001000000000000000001"
    new_role = "arn:aws:iam::123456789012:role/fleet-mgmt-argocd-hub-20261207000000000000000001"
    before = run_stack(
        "staging",
        mutate=lambda c: c.update({"fleet:hub": {"stack": "organization/fleet/prod"}}),
        stack_outputs={"organization/fleet/prod": hub(old_role, "mgmt")},
    )
    after = run_stack("staging", stack_outputs={MGMT: hub(new_role, "mgmt")})
    moved = transition(before, after)
    assert moved.violations == [], [v.message for v in moved.violations]
    acted = moved.by_action()
    # A new principal is a new entry (EKS: principalArn forces replacement): the new role's entry is
    # created before the old one goes, two principals, no collision.
    assert {c.name for c in acted["replace"]} == {"staging-us-argocd-access", "staging-us-argocd-admin"}
    assert acted["delete"] == []


def fronted(config: dict[str, Any], record: str, **policy: Any) -> None:
    routing(config, record, front=True, **policy)


def test_a_fronted_name_changes_routing_in_one_deploy_and_stays_answered(fleet: Run) -> None:
    # Issue 36 defect 3: the public name is one alias to the routing's own name; the new policy's sets are
    # created under their name, the alias is updated in place (UPSERT), the old sets go last.
    weighted = run_stack(
        "fleet", mutate=lambda c: fronted(c, "api.example.com", routing="weighted", weights={"prod-us": 70, "prod-eu": 30})
    )
    failover = run_stack(
        "fleet", mutate=lambda c: fronted(c, "api.example.com", routing="failover", primary="prod-us", secondary="prod-eu")
    )
    geolocation = run_stack(
        "fleet",
        mutate=lambda c: fronted(c, "api.example.com", routing="geolocation", locations={"EU": "prod-eu", "default": "prod-us"}),
    )
    front = weighted.named("traffic-api.example.com")
    assert front.inputs["name"] == "api.example.com"
    assert "setIdentifier" not in front.inputs
    assert front.inputs["aliases"] == [
        {"name": "_fleet-weighted.api.example.com", "zoneId": front.inputs["zoneId"], "evaluateTargetHealth": True}
    ]
    assert weighted.exports["dns"]["api.example.com"]["routedName"] == "_fleet-weighted.api.example.com"
    sets = {r.urn for r in weighted.of_type("aws:route53/record:Record") if r.inputs["name"] == "_fleet-weighted.api.example.com"}
    assert len(sets) == 2
    assert sets <= set(front.dependencies), "Route 53 refuses an alias to a name with no records"
    for before, after in itertools.permutations((weighted, failover, geolocation), 2):
        plan = transition(before, after)
        assert plan.violations == [], (before.named("traffic-api.example.com").inputs["aliases"], plan.violations)
        actions = {c.name: c.action for c in plan.changes if c.type == "aws:route53/record:Record"}
        assert actions.pop("traffic-api.example.com") == "update"
        assert set(actions.values()) == {"create", "delete"}
    # The same edit without a front is refused: two routing types at one name.
    assert "one-routing-type" in {v.rule for v in transition(fleet, failover_unfronted()).violations}


def failover_unfronted() -> Run:
    return run_stack(
        "fleet", mutate=lambda c: routing(c, "api.example.com", routing="failover", primary="prod-us", secondary="prod-eu")
    )


def test_an_alias_written_before_its_target_exists_is_refused() -> None:
    # The oracle for the front's ordering: Route 53 rejects an alias to an empty name in its own zone.
    front = reg(
        "front",
        "aws:route53/record:Record",
        name="a.example.com",
        aliases=[{"name": "_fleet-weighted.a.example.com", "zoneId": "Z1"}],
        zoneId="Z1",
    )
    target = reg("set", "aws:route53/record:Record", name="_fleet-weighted.a.example.com", setIdentifier="x", zoneId="Z1")
    assert [v.rule for v in transition(run(), run(front)).violations] == ["alias-target"]
    assert transition(run(), run(target, front)).violations == []


def test_turning_front_on_for_a_live_name_is_refused_for_its_gap(fleet: Run) -> None:
    # The live name's sets and the front (a simple alias) cannot share the name: Route 53 refuses the
    # front beside them, and removing them first leaves the name unanswered.
    on = run_stack(
        "fleet", mutate=lambda c: fronted(c, "api.example.com", routing="weighted", weights={"prod-us": 70, "prod-eu": 30})
    )
    refused = [v for v in transition(fleet, on).violations if v.rule == "one-routing-type"]
    assert refused
    assert all("remove the record in one run and add it back with the front" in v.fix for v in refused)
    # Review of #36: turning it off is the other direction, and says so.
    off = [v for v in transition(on, fleet).violations if v.rule == "one-routing-type"]
    assert off
    assert all("add it back without the front" in v.fix for v in off)


def test_removing_a_fronted_name_is_a_gap_like_any_other(fleet: Run) -> None:
    # Review of #36: the front has no set identifier; its name going unanswered is still a gap.
    on = run_stack(
        "fleet", mutate=lambda c: fronted(c, "api.example.com", routing="weighted", weights={"prod-us": 70, "prod-eu": 30})
    )

    def without_api(c: dict[str, Any]) -> None:
        c["fleet:dns"] = {**c["fleet:dns"], "records": [r for r in c["fleet:dns"]["records"] if r["name"] != "api.example.com"]}

    gone = run_stack("fleet", mutate=without_api)
    gaps = [v for v in transition(on, gone).violations if v.rule == "dns-gap"]
    assert [v.step for v in gaps] == ["delete api.example.com"]


def test_adaptive_retries_change_only_the_providers_config(fleet: Run) -> None:
    # Issue 37: the AWS providers retry in adaptive mode. Adding it to a running stack updates each
    # provider's config; no resource is replaced (pulumi-aws forces provider replacement on no config key).
    providers = fleet.of_type("pulumi:providers:aws")
    assert providers
    assert {p.inputs.get("retryMode") for p in providers} == {"adaptive"}
    before = dataclasses.replace(
        fleet,
        registrations={
            urn: dataclasses.replace(r, inputs={k: v for k, v in r.inputs.items() if k != "retryMode"})
            if r.type == "pulumi:providers:aws"
            else r
            for urn, r in fleet.registrations.items()
        },
    )
    plan = transition(before, fleet)
    assert plan.violations == []
    assert {(c.type, c.action, c.changed) for c in plan.changes} == {("pulumi:providers:aws", "update", ("retryMode",))}


def provider(name: str, region: str, account: str, session: str = "fleet") -> Registration:
    role = {"roleArn": f"arn:aws:iam::{account}:role/deploy", "sessionName": session}
    return dataclasses.replace(
        reg(name, "pulumi:providers:aws", region=region, allowedAccountIds=[account], assumeRoles=[role]), custom=True
    )


def on(registration: Registration, through: Registration) -> Registration:
    return dataclasses.replace(registration, provider=f"{through.urn}::{through.id}")


def test_a_change_of_aws_provider_replaces_only_by_region_or_refuses_by_account() -> None:
    # Review of #36: pulumi-aws v7's DiffConfig replaces on no config key; what decides is the resource's
    # own region (ForceNew, for resources that have one) and the account it lives in.
    east, west = provider("aws-us-east-1", "us-east-1", "111111111111"), provider("aws-eu-west-1", "eu-west-1", "111111111111")
    dns = provider("aws-dns", "us-east-1", "111111111111", session="fleet-dns")
    other = provider("aws-other", "us-east-1", "222222222222")
    role = reg("role", "aws:iam/role:Role", name="r")
    route = reg("route", "aws:ec2/route:Route", routeTableId="rt", destinationCidrBlock="10.0.0.0/16")
    providers = (east, west, dns, other)

    def moved(resource: Registration, before: Registration, after: Registration) -> Any:
        return transition(run(*providers, on(resource, before)), run(*providers, on(resource, after)))

    # A global resource has no region: another regional provider of the same account changes nothing
    # (the engine's step is a "same" that records the new provider reference).
    assert moved(role, east, west).changes == []
    # Only the session name differs: the same account and region, nothing changes.
    assert moved(route, east, dns).changes == []
    # A regional resource moved to another region is replaced.
    assert [c.forced_by for c in moved(route, east, west).changes] == [("region",)]
    # Another account: refused, whatever the diff.
    assert [v.rule for v in moved(role, east, other).violations] == ["account-move"]
