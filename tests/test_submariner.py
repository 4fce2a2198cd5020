"""Submariner in the prod stack under mocks: broker, joins, secrets, gateways, firewall, CoreDNS, outputs."""

from __future__ import annotations

import base64
from ipaddress import IPv4Network
from typing import Any

import pulumi
import pytest

from components.aws import cidr, service_quotas
from components.planning import flows
from components.planning import submariner as plan
from components.planning.checks import load_fleet
from components.planning.iam_policies import GATEWAY_POOL_TAG
from offline import reachability
from offline.graph import Graph
from offline.harness import Registration, Run, run_stack, stack_config
from tests.reference import unknown_keys

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"

MEMBERS = {"mgmt": "us-east-1", "prod-eu": "eu-west-1", "prod-us": "us-east-1"}
BROKER = "mgmt"
VPC = {"mgmt": "10.10.0.0/16", "prod-us": "10.20.0.0/16", "prod-eu": "10.30.0.0/16"}
SERVICES = {"mgmt": "172.20.0.0/16", "prod-us": "172.21.0.0/16", "prod-eu": "172.22.0.0/16"}


def provider_of(run: Run, registration: Registration) -> str:
    return run.registrations[registration.provider_urn].name


def operator(run: Run, member: str) -> Registration:
    return run.named(f"{member}-submariner-operator")


def submariner(run: Run, member: str) -> dict[str, Any]:
    """The spec of the member's Submariner object (created by the program, not the chart)."""
    spec: dict[str, Any] = run.named(f"{member}-submariner-submariner").inputs["spec"]
    return spec


def gateway_ips(run: Run, member: str) -> list[str]:
    return sorted(
        r.outputs["publicIp"] for r in run.of_type("aws:ec2/eip:Eip") if r.name.startswith(f"{member}-network-gateway-")
    )


def nat_ips(run: Run, member: str) -> list[str]:
    return sorted(r.outputs["publicIp"] for r in run.of_type("aws:ec2/eip:Eip") if r.name.startswith(f"{member}-network-nat-"))


def ingress_rules(run: Run, prefix: str) -> dict[str, dict[str, Any]]:
    return {
        r.name.removeprefix(prefix): r.inputs
        for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.name.startswith(prefix)
    }


def routed_ranges(run: Run, member: str) -> list[str]:
    """What ``member``'s nodes admit from its peers: the entries of its peer-ranges prefix list, which
    one all-protocol rule on its cluster security group references (and whose size it counts)."""
    (rule,) = [r for r in run.of_type(INGRESS) if r.name == f"{member}-submariner-from-peers"]
    ranges = run.named(f"{member}-submariner-peer-ranges")
    assert rule.inputs["prefixListId"] == ranges.id
    assert rule.inputs["ipProtocol"] == "-1"
    assert rule.inputs["securityGroupId"] == run.named(f"{member}-eks").outputs["clusterSecurityGroupId"]
    entries = [e["cidr"] for e in ranges.inputs["entries"]]
    assert ranges.inputs["maxEntries"] == len(entries)
    return sorted(entries)


# ---------------------------------------------------------------- the broker


def test_broker_chart_on_the_broker_cluster_only(fleet: Run) -> None:
    releases = [r for r in fleet.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "submariner-k8s-broker"]
    assert len(releases) == 1
    release = releases[0]
    assert provider_of(fleet, release) == f"{BROKER}-k8s"
    assert release.inputs["name"] == plan.BROKER_RELEASE
    assert release.inputs["namespace"] == plan.BROKER_NAMESPACE
    assert release.inputs["version"] == "0.24.1"
    assert release.inputs["repositoryOpts"]["repo"] == "https://submariner-io.github.io/submariner-charts/charts"
    assert unknown_keys(release.inputs["values"], "submariner/submariner-k8s-broker") == []
    # No shared client token: each member has its own.
    assert release.inputs["values"]["serviceAccounts"]["client"]["create"] is False
    assert fleet.named("submariner-broker-ns").inputs["metadata"]["name"] == plan.BROKER_NAMESPACE


@pytest.mark.parametrize("member", list(MEMBERS))
def test_each_member_has_its_own_broker_account_token_and_binding(fleet: Run, member: str) -> None:
    account = fleet.named(f"submariner-broker-{member}-sa")
    secret = fleet.named(f"submariner-broker-{member}-token")
    binding = fleet.named(f"submariner-broker-{member}-binding")
    for resource in (account, secret, binding):
        assert provider_of(fleet, resource) == f"{BROKER}-k8s"
    name = account.inputs["metadata"]["name"]
    assert name == f"submariner-{member}"
    assert account.inputs["metadata"]["namespace"] == plan.BROKER_NAMESPACE
    assert secret.inputs["type"] == "kubernetes.io/service-account-token"
    assert secret.inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": name}
    assert secret.inputs["metadata"]["namespace"] == plan.BROKER_NAMESPACE
    assert account.urn in fleet.depends_on(secret), "the token Secret needs its ServiceAccount first"
    assert "data" in secret.additional_secret_outputs
    assert binding.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": plan.BROKER_ROLE}
    assert binding.inputs["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": plan.BROKER_NAMESPACE}]


# ---------------------------------------------------------------- the joins


@pytest.mark.parametrize("member", list(MEMBERS))
def test_operator_release_per_member_on_its_own_cluster(fleet: Run, member: str) -> None:
    release = operator(fleet, member)
    assert provider_of(fleet, release) == f"{member}-k8s"
    assert release.inputs["chart"] == "submariner-operator"
    assert release.inputs["name"] == plan.OPERATOR_RELEASE
    assert release.inputs["namespace"] == plan.OPERATOR_NAMESPACE
    assert release.inputs["version"] == "0.24.1"
    assert fleet.named(f"{member}-submariner-ns").inputs["metadata"]["name"] == "submariner-operator"


@pytest.mark.parametrize("member", list(MEMBERS))
def test_operator_values_carry_nothing_but_what_its_rbac_reads(fleet: Run, member: str) -> None:
    release = operator(fleet, member)
    values = release.inputs["values"]
    assert unknown_keys(values, "submariner/submariner-operator") == []
    assert values == {"broker": {"globalnet": False}, "submariner": {"serviceDiscovery": True}}
    # No token, no PSK in Helm's release history.
    assert "token" not in str(values)
    assert "psk" not in str(values)
    assert release.inputs["postrender"] == "./components/resources/postrender_submariner.py"


@pytest.mark.parametrize("member", list(MEMBERS))
def test_submariner_object_for_each_member(fleet: Run, member: str) -> None:
    cr = fleet.named(f"{member}-submariner-submariner")
    assert provider_of(fleet, cr) == f"{member}-k8s"
    assert (cr.inputs["apiVersion"], cr.inputs["kind"]) == ("submariner.io/v1alpha1", "Submariner")
    assert cr.inputs["metadata"] == {"name": "submariner", "namespace": plan.OPERATOR_NAMESPACE}
    spec = submariner(fleet, member)
    broker_endpoint = fleet.exports["clusters"][BROKER]["endpoint"]
    assert spec["brokerK8sApiServer"] == broker_endpoint.removeprefix("https://").lower() + ":443"
    assert spec["brokerK8sRemoteNamespace"] == plan.BROKER_NAMESPACE
    assert spec["brokerK8sInsecure"] is False
    # Its own token, decoded from the Secret the token controller filled in; the broker's CA as base64.
    token_data = fleet.named(f"submariner-broker-{member}-token").outputs["data"]
    assert spec["brokerK8sApiServerToken"] == base64.b64decode(token_data["token"]).decode()
    assert spec["brokerK8sApiServerToken"].split(".")[1] == f"submariner-{member}"
    assert spec["brokerK8sCA"] == token_data["ca.crt"]
    assert (spec["clusterID"], spec["clusterCIDR"], spec["serviceCIDR"], spec["globalCIDR"]) == (
        member,
        VPC[member],
        SERVICES[member],
        "",
    )
    assert spec["natEnabled"] is True
    assert spec["cableDriver"] == "libreswan"
    assert spec["serviceDiscoveryEnabled"] is True
    assert (spec["ceIPSecIKEPort"], spec["ceIPSecNATTPort"]) == (500, 4500)
    assert spec["version"] == "0.24.1"


@pytest.mark.parametrize("member", list(MEMBERS))
def test_the_submariner_object_is_deleted_before_the_operator(fleet: Run, member: str) -> None:
    # Pulumi deletes dependents first: the object goes while the operator can still clear its finalizer.
    cr = fleet.named(f"{member}-submariner-submariner")
    assert operator(fleet, member).urn in fleet.depends_on(cr)


def test_one_psk_for_the_clusterset_generated_and_secret(fleet: Run) -> None:
    (password,) = fleet.of_type("random:index/randomPassword:RandomPassword")
    assert password.name == "submariner-psk"
    assert password.inputs["length"] == 64
    assert password.inputs["special"] is False
    assert {submariner(fleet, m)["ceIPSecPSK"] for m in MEMBERS} == {password.outputs["result"]}


@pytest.mark.parametrize("member", list(MEMBERS))
def test_token_ca_and_psk_are_secret_in_state(fleet: Run, member: str) -> None:
    cr = fleet.named(f"{member}-submariner-submariner")
    assert "spec" in cr.secret_inputs
    assert "spec" in cr.additional_secret_outputs


def test_a_configured_psk_is_used_and_nothing_is_generated() -> None:
    psk = "k" * 48
    run = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(psk=psk))
    assert run.of_type("random:index/randomPassword:RandomPassword") == []
    for member in MEMBERS:
        assert submariner(run, member)["ceIPSecPSK"] == psk
        assert "spec" in run.named(f"{member}-submariner-submariner").secret_inputs


def test_rotating_the_psk_changes_the_key_and_the_joins_only(fleet: Run) -> None:
    from tests.test_fleet_program import changed_resources

    rotated = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(pskVersion=2))
    assert rotated.named("submariner-psk").inputs["keepers"] == {"version": "2"}
    assert changed_resources(fleet, rotated) == {"submariner-psk"}
    # The Submariner objects change through the new key's result, which is only known at deploy time.
    for member in MEMBERS:
        assert rotated.named("submariner-psk").urn in rotated.depends_on(rotated.named(f"{member}-submariner-submariner"))


@pytest.mark.parametrize("member", list(MEMBERS))
def test_a_join_waits_for_the_broker_and_nothing_else_outside_its_cluster(fleet: Run, member: str) -> None:
    release = operator(fleet, member)
    waits = {fleet.registrations[urn].name for urn in fleet.depends_on(release)}
    waits |= {fleet.registrations[urn].name for urn in fleet.depends_on(fleet.named(f"{member}-submariner-submariner"))}
    assert "submariner-broker-chart" in waits
    assert f"submariner-broker-{member}-token" in waits
    others = {f"submariner-broker-{m}-token" for m in MEMBERS if m != member}
    assert not waits & others
    # Addresses are the one exception: the broker's API allow list holds every member's Elastic IPs.
    foreign = {
        dependency.name
        for dependency in (fleet.registrations[urn] for urn in fleet.transitive_dependencies(release))
        if dependency.type != "aws:ec2/eip:Eip"
        and any(dependency.name.startswith(f"{m}-") for m in MEMBERS if m not in (member, BROKER))
    }
    assert foreign == set(), f"{member}'s join waits on another member: {foreign}"


# ---------------------------------------------------------------- gateways


@pytest.mark.parametrize("member", list(MEMBERS))
def test_gateway_node_group_in_public_subnets_labelled_and_tainted(fleet: Run, member: str) -> None:
    group = fleet.named(f"{member}-submariner-gateway")
    assert group.type == "eks:index:ManagedNodeGroup"
    public = sorted(
        (r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{member}-network-public-")),
        key=lambda r: r.inputs["availabilityZoneId"],
    )
    # One AZ per gateway (the first by zone ID): fewer AZs, a smaller update surge to hold addresses for.
    assert group.inputs["subnetIds"] == [r.id for r in public[:2]]
    assert group.inputs["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}
    assert group.inputs["labels"]["submariner.io/gateway"] == "true"
    assert group.inputs["taints"] == [{"key": "submariner.io/gateway", "value": "true", "effect": "NO_SCHEDULE"}]
    assert group.inputs["instanceTypes"] == ["c6i.large"]
    assert group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
    assert group.inputs["cluster"] == fleet.named(f"{member}-eks").urn


@pytest.mark.parametrize("member", list(MEMBERS))
def test_public_subnets_of_members_hand_out_public_addresses(fleet: Run, member: str) -> None:
    # EKS fails a managed node group in a public subnet without MapPublicIpOnLaunch (Ec2SubnetInvalidConfiguration).
    public = [r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{member}-network-public-")]
    assert public
    assert all(r.inputs["mapPublicIpOnLaunch"] is True for r in public)
    private = [r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{member}-network-private-")]
    assert not any(r.inputs.get("mapPublicIpOnLaunch") for r in private)


@pytest.mark.parametrize("member", list(MEMBERS))
def test_gateway_launch_template(fleet: Run, member: str) -> None:
    group = fleet.named(f"{member}-submariner-gateway")
    template = fleet.named(f"{member}-submariner-gateway-lt")
    assert group.inputs["launchTemplate"]["id"] == template.id
    inputs = template.inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    (interface,) = inputs["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "true"
    cluster_sg = fleet.named(f"{member}-eks").outputs["clusterSecurityGroupId"]
    assert interface["securityGroups"] == [cluster_sg, fleet.named(f"{member}-submariner-gateway-sg").id]
    script = base64.b64decode(inputs["userData"]).decode()
    assert f"Values={member}" in script
    assert "--no-source-dest-check" in script
    for kind in ("instance", "network-interface"):
        (tags,) = [t["tags"] for t in inputs["tagSpecifications"] if t["resourceType"] == kind]
        assert tags["fleet-cluster"] == member
        assert tags["fleet-node-group"] == "submariner-gateway"


@pytest.mark.parametrize("member", list(MEMBERS))
def test_gateway_nodes_have_their_own_role_scoped_to_themselves(fleet: Run, member: str) -> None:
    role = fleet.named(f"{member}-submariner-gateway-node")
    assert fleet.named(f"{member}-submariner-gateway").inputs["nodeRoleArn"] == role.outputs["arn"]
    inline = fleet.named(f"{member}-submariner-gateway-node-self")
    assert f'"aws:ResourceTag/{GATEWAY_POOL_TAG}": "{member}"' in inline.inputs["policy"]
    # The ordinary node role gets no EC2 write access.
    assert not [
        r
        for r in fleet.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.inputs["role"] == fleet.named(f"{member}-node").outputs["name"]
    ]


@pytest.mark.parametrize("member", list(MEMBERS))
def test_an_address_pool_per_member_gateways_plus_update_surge(fleet: Run, member: str) -> None:
    pool = [r for r in fleet.of_type("aws:ec2/eip:Eip") if r.name.startswith(f"{member}-network-gateway-")]
    # 2 gateways in 2 AZs; an update surges up to 2 nodes per AZ before old ones leave.
    assert len(pool) == 2 + 2 * 2
    assert all(r.inputs["tags"][GATEWAY_POOL_TAG] == member for r in pool)
    # Only this program's lists name them, and they are released only once no gateway can hold them
    # (tests/test_transition.py): protection would only block a member leaving the clusterset.
    assert not any(r.protect for r in pool)


def test_the_broker_api_admits_the_other_members_egress_addresses(fleet: Run) -> None:
    cidrs = fleet.named(f"{BROKER}-eks").inputs["publicAccessCidrs"]
    peers = [m for m in MEMBERS if m != BROKER]
    expected = sorted(f"{ip}/32" for m in peers for ip in (*gateway_ips(fleet, m), *nat_ips(fleet, m)))
    assert cidrs == ["203.0.113.0/24", *expected]
    assert len(expected) == 2 * (6 + 3)


# ---------------------------------------------------------------- security groups


@pytest.mark.parametrize("member", list(MEMBERS))
def test_gateway_ports_open_only_to_peer_gateways(fleet: Run, member: str) -> None:
    prefix_list = fleet.named(f"{member}-submariner-peer-gateways")
    peers = [m for m in MEMBERS if m != member]
    assert sorted(e["cidr"] for e in prefix_list.inputs["entries"]) == sorted(
        f"{ip}/32" for p in peers for ip in gateway_ips(fleet, p)
    )
    # A full shard: ten peers' pools of six (gateways + update surge), 60 rules' worth, fixed.
    assert prefix_list.inputs["maxEntries"] == 60
    group = fleet.named(f"{member}-submariner-gateway-sg")
    rules = ingress_rules(fleet, f"{member}-submariner-gateway-sg-")
    # One rule for every protocol: per-port rules would each count the list's 60 entries again.
    assert {name: (r["ipProtocol"], r["prefixListId"], r["securityGroupId"]) for name, r in rules.items()} == {
        "from-peers": ("-1", prefix_list.id, group.id)
    }


@pytest.mark.parametrize("member", list(MEMBERS))
def test_nodes_accept_peers_pod_and_service_ranges_and_leave_vxlan_to_the_eks_self_rule(fleet: Run, member: str) -> None:
    cluster_sg = fleet.named(f"{member}-eks").outputs["clusterSecurityGroupId"]
    # VXLAN runs between this cluster's own nodes, which EKS's cluster security group already admits.
    assert not [r.name for r in fleet.of_type(INGRESS) if "vxlan" in r.name]
    peers = [m for m in MEMBERS if m != member]
    # Collapsed to the fewest CIDRs (prod-eu's peers' services, 172.20/16 and 172.21/16, are one /15),
    # in one prefix list: one rule per member, whatever the clusterset's size.
    expected = cidr.collapse(IPv4Network(c) for p in peers for c in (VPC[p], SERVICES[p]))
    assert [IPv4Network(c) for c in routed_ranges(fleet, member)] == sorted(expected)
    assert not [r for r in fleet.of_type(INGRESS) if r.name.startswith(f"{member}-submariner-from-peers-")]
    assert cluster_sg


def test_nothing_is_open_to_the_internet_but_the_edge_listeners(fleet: Run) -> None:
    open_rules = [
        r.name
        for r in fleet.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if r.inputs.get("cidrIpv4") == "0.0.0.0/0"
    ]
    assert open_rules
    assert all(name.endswith("-edge-nlb-listener") for name in open_rules)


def test_wireguard_tunnels_are_admitted_without_ike_or_esp() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(cableDriver="wireguard"))
    spec = load_fleet(
        {k.removeprefix("fleet:"): v for k, v in stack_config("fleet").items()}
        | {"submariner": {**stack_config("fleet")["fleet:submariner"], "cableDriver": "wireguard"}}
    )
    tunnels = [f for f in flows.fleet_flows(spec) if f.kind is flows.FlowKind.TUNNEL]
    assert {f.ports for f in tunnels} == {(4490, 4500)}
    graph = Graph(run)
    assert all(reachability.check(graph, f).path for f in tunnels)
    assert submariner(run, "prod-us")["cableDriver"] == "wireguard"


# ---------------------------------------------------------------- CoreDNS, Globalnet, outputs, off switch


@pytest.mark.parametrize("member", list(MEMBERS))
def test_coredns_addon_keeps_lighthouses_forwarding(fleet: Run, member: str) -> None:
    # The managed add-on would overwrite the ConfigMap on update (aws/containers-roadmap#1597).
    coredns = fleet.named(f"{member}-addons-coredns")
    assert coredns.inputs["resolveConflictsOnUpdate"] == "PRESERVE"
    # Its create resets the Corefile to EKS's defaults: Lighthouse joins after it, and adds its forward then.
    assert coredns.urn in fleet.transitive_dependencies(operator(fleet, member))


def test_globalnet_lets_members_overlap_and_routes_global_ranges() -> None:
    def overlap(config: dict[str, Any]) -> None:
        config["fleet:submariner"].update(globalnet=True, globalCidrs={"prod-eu": "242.30.0.0/16"})
        config["fleet:clusters"][2].update(vpcCidr="10.20.0.0/16", serviceCidr="172.21.0.0/16")

    run = run_stack("fleet", mutate=overlap)
    members = run.exports["clusterset"]["members"]
    assert members["prod-eu"]["globalCidr"] == "242.30.0.0/16"
    global_cidrs = {name: m["globalCidr"] for name, m in members.items()}
    assert len(set(global_cidrs.values())) == 3
    for name in MEMBERS:
        assert operator(run, name).inputs["values"]["broker"]["globalnet"] is True
        assert submariner(run, name)["globalCIDR"] == global_cidrs[name]
    assert set(routed_ranges(run, "prod-us")) == {global_cidrs["mgmt"], global_cidrs["prod-eu"]}


def test_clusterset_output(fleet: Run) -> None:
    clusterset = fleet.exports["clusterset"]
    assert clusterset["broker"] == BROKER
    assert clusterset["cableDriver"] == "libreswan"
    assert clusterset["globalnet"] is False
    assert clusterset["domain"] == "clusterset.local"
    assert set(clusterset["members"]) == set(MEMBERS)
    us = clusterset["members"]["prod-us"]
    assert us["clusterId"] == "prod-us"
    assert (us["clusterCidr"], us["serviceCidr"]) == (VPC["prod-us"], SERVICES["prod-us"])
    assert sorted(us["gatewayIps"]) == gateway_ips(fleet, "prod-us")
    assert "clusterset" not in fleet.secret_exports
    assert "psk" not in str(clusterset).lower()
    assert "token" not in str(clusterset).lower()


def test_disabled_submariner_builds_nothing_and_reserves_nothing() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(enabled=False))
    assert not [r for r in run.registrations.values() if "submariner" in r.name]
    assert not [r for r in run.of_type("aws:ec2/eip:Eip") if "-gateway-" in r.name]
    assert run.named("mgmt-eks").inputs["publicAccessCidrs"] == ["203.0.113.0/24"]
    # CoreDNS is the EKS add-on everywhere (so upgrades move it); without Submariner no Lighthouse
    # forward is kept: EKS's configuration wins on update.
    assert run.named("prod-us-eks").inputs["corednsAddonOptions"]["resolveConflictsOnUpdate"] == "OVERWRITE"
    assert not any(r.inputs["mapPublicIpOnLaunch"] for r in run.of_type("aws:ec2/subnet:Subnet") if "-public-" in r.name)
    assert run.exports["clusterset"] == {}


def test_a_member_left_out_gets_no_join() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:submariner"].update(clusters=["mgmt", "prod-us"]))
    assert not [r for r in run.registrations.values() if r.name.startswith("prod-eu-submariner")]
    assert set(run.exports["clusterset"]["members"]) == {"mgmt", "prod-us"}
    assert set(routed_ranges(run, "prod-us")) == {VPC["mgmt"], SERVICES["mgmt"]}


# ---------------------------------------------------------------- gatewayPeers: anywhere


def open_tunnels(config: dict[str, Any]) -> None:
    config["fleet:submariner"]["gatewayPeers"] = "anywhere"


@pytest.fixture(scope="module")
def opened() -> Run:
    return run_stack("fleet", mutate=open_tunnels)


@pytest.mark.parametrize("member", list(MEMBERS))
def test_open_tunnels_are_one_group_per_member_with_each_port_from_anywhere(opened: Run, member: str) -> None:
    # No gateway prefix list (the peers' routed ranges still have theirs).
    assert not [r for r in opened.of_type("aws:ec2/managedPrefixList:ManagedPrefixList") if "-peer-gateways" in r.name]
    group = opened.named(f"{member}-submariner-gateway-open-sg")
    rules = ingress_rules(opened, f"{member}-submariner-gateway-")
    assert {name: (r["ipProtocol"], r.get("fromPort"), r["cidrIpv4"], r["securityGroupId"]) for name, r in rules.items()} == {
        "udp-4500-anywhere": ("udp", 4500, "0.0.0.0/0", group.id),
        "udp-4490-anywhere": ("udp", 4490, "0.0.0.0/0", group.id),
        "udp-500-anywhere": ("udp", 500, "0.0.0.0/0", group.id),
        "proto-50-anywhere": ("50", None, "0.0.0.0/0", group.id),
    }
    cluster_sg = opened.named(f"{member}-eks").outputs["clusterSecurityGroupId"]
    interface = opened.named(f"{member}-submariner-gateway-lt").inputs["networkInterfaces"][0]
    assert interface["securityGroups"] == [cluster_sg, group.id]


def test_open_tunnels_reach_every_peer_and_pass_the_policy_pack(opened: Run) -> None:
    from offline.policy_view import violations

    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("fleet").items()}
    spec = load_fleet(raw | {"submariner": {**raw["submariner"], "gatewayPeers": "anywhere"}})
    tunnels = [f for f in flows.fleet_flows(spec) if f.kind is flows.FlowKind.TUNNEL]
    graph = Graph(opened)
    assert tunnels
    assert all(reachability.check(graph, f).path for f in tunnels)
    assert all(not found for found in violations(opened).values()), violations(opened)


def test_vxlan_tunnels_are_never_opened_to_the_internet() -> None:
    from tests.config_cases import problems_after

    problems = problems_after(lambda raw: raw["submariner"].update(gatewayPeers="anywhere", cableDriver="vxlan"))
    (problem,) = problems
    assert problem.startswith("fleet:submariner: gatewayPeers: anywhere would open unencrypted VXLAN tunnels")


def test_moving_to_one_routed_range_list_per_member_is_one_clean_deploy(fleet: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: one rule per collapsed peer range on each member's cluster group (quadratic in the fleet).
    from components.planning import security_rules
    from components.resources import sg_rules
    from components.resources import submariner as resources
    from offline.transition import transition

    def per_range(self: Any, name: str, args: Any) -> None:
        routed = security_rules.routed_rules(args.clusterset, args.member.name)
        sg_rules.cidr_rules(f"{name}-from-peers", args.cluster_security_group_id, routed, pulumi.ResourceOptions(parent=self))

    with monkeypatch.context() as patch:
        patch.setattr(resources.SubmarinerMember, "_node_openings", per_range)
        before = run_stack("fleet")
    plan_ = transition(before, fleet)
    assert plan_.violations == [], [v.message for v in plan_.violations]
    actions = {(c.action, c.type.split(":")[-1]) for c in plan_.changes}
    assert actions == {
        ("create", "ManagedPrefixList"),
        ("create", "SecurityGroupIngressRule"),
        ("delete", "SecurityGroupIngressRule"),
    }
    for member in MEMBERS:
        # The new rule is created before the old ones go: for a moment the group counts both.
        old = [r for r in before.of_type(INGRESS) if r.name.startswith(f"{member}-submariner-from-peers-")]
        assert len(old) + len(routed_ranges(fleet, member)) <= service_quotas.INBOUND_RULES_PER_GROUP
