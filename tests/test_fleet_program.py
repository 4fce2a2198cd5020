"""The prod stack, evaluated under mocks: what a reviewer of `pulumi preview` would check."""

from __future__ import annotations

import json
from collections.abc import Callable
from ipaddress import IPv4Network
from typing import Any

import pytest
import yaml

from components.aws.zones import EKS_UNSUPPORTED_ZONE_IDS
from components.planning import flows
from components.planning.autoscaling import NODE_GROUP_LABEL
from components.planning.checks import load_fleet
from components.planning.preflight import PreflightError
from components.resources.cluster import CONTROL_PLANE_LOG_TYPES
from offline.graph import Graph
from offline.harness import Registration, Run, run_stack, stack_config, zone_table
from offline.reachability import check
from tests.config_cases import staging_registered

CLUSTERS = {"mgmt": "us-east-1", "prod-us": "us-east-1", "prod-eu": "eu-west-1"}
BROKER = "mgmt"


def cluster_of(run: Run, registration: Registration) -> str | None:
    """The fleet cluster a registration belongs to (through its parents), if any."""
    for ancestor in [registration, *run.ancestors(registration)]:
        if ancestor.type == "fleet:index:RegionalCluster":
            return ancestor.name
        if ancestor.type == "fleet:index:RegionalEdge":
            return ancestor.name.removesuffix("-edge")
        if ancestor.type == "fleet:index:ClusterNetwork":
            return ancestor.name.removesuffix("-network")
        if ancestor.type == "fleet:index:SubmarinerMember":
            return ancestor.name.removesuffix("-submariner")
        if ancestor.type == "fleet:index:SubmarinerBroker":
            return BROKER
    if registration.type == "pulumi:providers:kubernetes":
        return registration.name.removesuffix("-k8s")
    return None


def provider_region(run: Run, reference: str) -> str:
    urn = reference.rsplit("::", 1)[0]
    return str(run.registrations[urn].inputs["region"])


# ---------------------------------------------------------------- topology and providers


def test_three_clusters_in_two_regions(fleet: Run) -> None:
    components = fleet.of_type("fleet:index:RegionalCluster")
    assert {c.name for c in components} == set(CLUSTERS)
    assert {c.name: c.inputs.get("name") for c in fleet.of_type("eks:index:Cluster")} == {
        f"{name}-eks": name for name in CLUSTERS
    }
    assert sorted(p.inputs["region"] for p in fleet.of_type("pulumi:providers:aws")) == ["eu-west-1", "us-east-1"]


def test_one_aws_provider_per_region_named_for_it(fleet: Run) -> None:
    assert {p.name: p.inputs["region"] for p in fleet.of_type("pulumi:providers:aws")} == {
        "aws-eu-west-1": "eu-west-1",
        "aws-us-east-1": "us-east-1",
    }


def test_every_aws_resource_uses_its_clusters_regional_provider(fleet: Run) -> None:
    checked = 0
    for registration in fleet.registrations.values():
        cluster = cluster_of(fleet, registration)
        if cluster is None or registration.type.startswith(("pulumi:providers:", "kubernetes:")):
            continue
        if registration.type == "fleet:index:SubmarinerBroker":
            continue  # only Kubernetes resources: tested with the other Submariner providers
        if registration.custom:
            assert registration.provider, f"{registration.name} uses the default provider"
            region = provider_region(fleet, registration.provider)
        else:
            assert "aws" in registration.providers, f"{registration.name} has no explicit aws provider"
            region = provider_region(fleet, registration.providers["aws"])
        assert region == CLUSTERS[cluster], f"{registration.name} ({registration.type}) is in {region}"
        checked += 1
    assert checked > 130


def test_subnets_are_placed_by_zone_id_in_zones_eks_accepts(fleet: Run) -> None:
    for name, region in CLUSTERS.items():
        subnets = [r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{name}-network-")]
        assert all("availabilityZone" not in r.inputs for r in subnets), "names map to different zones per account"
        zone_ids = sorted({r.inputs["availabilityZoneId"] for r in subnets})
        # The first three usable IDs of the region, whatever names the account gives them.
        usable = sorted(z for _, z in zone_table(region) if z not in EKS_UNSUPPORTED_ZONE_IDS)
        assert zone_ids == usable[:3]
        assert not set(zone_ids) & set(EKS_UNSUPPORTED_ZONE_IDS)


def test_a_zone_eks_refuses_is_never_chosen_though_the_account_names_it_first() -> None:
    # The mocked account calls use1-az3 "us-east-1a" and its EKS refuses clusters there, as AWS does.
    assert sorted(zone_table("us-east-1"))[0] == ("us-east-1a", "use1-az3")
    # The prod stack (two us-east-1 clusters) deploys: no subnet of a cluster is in a refused zone.
    run = run_stack("fleet")
    chosen = {r.inputs["availabilityZoneId"] for r in run.of_type("aws:ec2/subnet:Subnet") if r.name.startswith("prod-us-")}
    assert chosen == {"use1-az1", "use1-az2", "use1-az4"}


def test_kubernetes_provider_per_cluster_from_its_own_kubeconfig(fleet: Run) -> None:
    providers = {p.name: p for p in fleet.of_type("pulumi:providers:kubernetes")}
    assert set(providers) == {f"{name}-k8s" for name in CLUSTERS}
    for name, region in CLUSTERS.items():
        provider = providers[f"{name}-k8s"]
        assert "kubeconfig" in provider.secret_inputs
        document = yaml.safe_load(provider.inputs["kubeconfig"])
        assert [c["name"] for c in document["contexts"]] == [name]
        assert provider.inputs["context"] == name
        endpoint = json.loads(fleet.named(f"{name}-eks").outputs["kubeconfigJson"])["clusters"][0]["cluster"]["server"]
        assert document["clusters"][0]["cluster"]["server"] == endpoint
        args = document["users"][0]["user"]["exec"]["args"]
        assert args[:6] == ["--region", region, "eks", "get-token", "--cluster-name", name]


def test_kubernetes_objects_wait_for_their_clusters_nodes(fleet: Run) -> None:
    # Helm releases wait for ready pods; without nodes they would race the node groups against Helm's timeout.
    for name in CLUSTERS:
        provider = fleet.named(f"{name}-k8s")
        node_groups = {r.urn for r in fleet.of_type("eks:index:ManagedNodeGroup") if r.name.startswith(f"{name}-")}
        node_groups -= {fleet.named(f"{name}-submariner-gateway").urn}
        assert node_groups
        assert node_groups <= set(provider.dependencies)
    for release in fleet.of_type("kubernetes:helm.sh/v3:Release"):
        assert any(
            fleet.registrations[urn].type == "eks:index:ManagedNodeGroup" for urn in fleet.transitive_dependencies(release)
        )


# ---------------------------------------------------------------- networks


def test_each_cluster_has_its_own_vpc_with_its_cidr(fleet: Run) -> None:
    vpcs = {r.name: r.inputs for r in fleet.of_type("aws:ec2/vpc:Vpc")}
    assert {name: vpc["cidrBlock"] for name, vpc in vpcs.items()} == {
        "mgmt-network-vpc": "10.10.0.0/16",
        "prod-us-network-vpc": "10.20.0.0/16",
        "prod-eu-network-vpc": "10.30.0.0/16",
    }
    assert all(vpc["enableDnsHostnames"] and vpc["enableDnsSupport"] for vpc in vpcs.values())


@pytest.mark.parametrize("name", list(CLUSTERS))
def test_subnets_tagged_for_load_balancer_discovery(fleet: Run, name: str) -> None:
    subnets = [r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{name}-network-")]
    vpc = IPv4Network(fleet.named(f"{name}-network-vpc").inputs["cidrBlock"])
    public = [s for s in subnets if "-public-" in s.name]
    private = [s for s in subnets if "-private-" in s.name]
    assert len(public) == len(private) == 3
    for subnet in subnets:
        assert IPv4Network(subnet.inputs["cidrBlock"]).subnet_of(vpc)
        assert subnet.inputs["tags"][f"kubernetes.io/cluster/{name}"] == "shared"
    assert all(s.inputs["tags"]["kubernetes.io/role/elb"] == "1" for s in public)
    assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
    # Public subnets hand out addresses only to Submariner gateways (tests/test_submariner.py).
    assert all(not s.inputs.get("mapPublicIpOnLaunch") for s in private)


@pytest.mark.parametrize("name", list(CLUSTERS))
def test_private_egress_through_a_nat_per_zone(fleet: Run, name: str) -> None:
    nats = [r for r in fleet.of_type("aws:ec2/natGateway:NatGateway") if r.name.startswith(f"{name}-network-")]
    public_ids = {r.id for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{name}-network-public-")}
    assert len(nats) == 3
    assert {n.inputs["subnetId"] for n in nats} == public_ids
    routes = {r.name: r.inputs for r in fleet.of_type("aws:ec2/route:Route") if r.name.startswith(f"{name}-network-")}
    private_defaults = [r for n, r in routes.items() if "-private-" in n]
    assert len(private_defaults) == 3
    assert all(r["destinationCidrBlock"] == "0.0.0.0/0" for r in private_defaults)
    assert {r["natGatewayId"] for r in private_defaults} == {n.id for n in nats}
    public_default = routes[f"{name}-network-public-default"]
    assert public_default["gatewayId"] == fleet.named(f"{name}-network-igw").id
    assert "natGatewayId" not in public_default


def test_single_nat_gateway_when_asked() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][2].update(natGateways="Single"))
    nats = [r for r in run.of_type("aws:ec2/natGateway:NatGateway") if r.name.startswith("prod-eu-")]
    assert [n.name for n in nats] == ["prod-eu-network-nat-euw1-az1"]
    routes = [
        r.inputs["natGatewayId"] for r in run.of_type("aws:ec2/route:Route") if r.name.startswith("prod-eu-network-private-")
    ]
    assert len(routes) == 3
    assert len(set(routes)) == 1


def test_default_security_group_has_no_rules(fleet: Run) -> None:
    for group in fleet.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        assert not group.inputs.get("ingress")
        assert not group.inputs.get("egress")


# ---------------------------------------------------------------- EKS control planes


@pytest.mark.parametrize("name", list(CLUSTERS))
def test_control_plane_security_settings(fleet: Run, name: str) -> None:
    eks = fleet.named(f"{name}-eks").inputs
    assert eks["name"] == name
    assert eks["authenticationMode"] == "API"
    assert eks["endpointPrivateAccess"] is True
    assert eks["endpointPublicAccess"] is True
    # Besides the operators' CIDRs, each endpoint admits the egress of every flow that reaches it
    # (tests/test_flows_reachability.py): the broker the members', each member the hub's.
    assert eks["publicAccessCidrs"][:1] == ["203.0.113.0/24"]
    assert eks["upgradePolicy"] == {"supportType": "STANDARD"}
    assert eks["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
    assert set(eks["enabledClusterLogTypes"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    # No IAM OIDC provider (100 per account): the workloads use EKS Pod Identity (fleet:workloadIdentity).
    assert eks["createOidcProvider"] is False
    assert eks["skipDefaultNodeGroup"] is True
    assert eks["deletionProtection"] is True
    assert "roleMappings" not in eks, "no aws-auth ConfigMap entries"
    assert "userMappings" not in eks, "no aws-auth ConfigMap entries"


@pytest.mark.parametrize("name", list(CLUSTERS))
def test_secrets_encrypted_with_a_rotating_key_of_its_own(fleet: Run, name: str) -> None:
    key = fleet.named(f"{name}-secrets")
    assert key.type == "aws:kms/key:Key"
    assert key.inputs["enableKeyRotation"] is True
    assert fleet.named(f"{name}-eks").inputs["encryptionConfigKeyArn"] == key.outputs["arn"]


def test_version_and_service_range_per_cluster(fleet: Run) -> None:
    assert {name: fleet.named(f"{name}-eks").inputs["version"] for name in CLUSTERS} == dict.fromkeys(CLUSTERS, "1.35")
    assert {name: fleet.named(f"{name}-eks").inputs["kubernetesServiceIpAddressRange"] for name in CLUSTERS} == {
        "mgmt": "172.20.0.0/16",
        "prod-us": "172.21.0.0/16",
        "prod-eu": "172.22.0.0/16",
    }


def test_cluster_uses_its_own_network(fleet: Run) -> None:
    for name in CLUSTERS:
        eks = fleet.named(f"{name}-eks").inputs
        own_subnets = {r.name: r for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{name}-network-")}
        assert eks["vpcId"] == fleet.named(f"{name}-network-vpc").id
        assert sorted(eks["privateSubnetIds"]) == sorted(s.id for n, s in own_subnets.items() if "-private-" in n)
        assert sorted(eks["publicSubnetIds"]) == sorted(s.id for n, s in own_subnets.items() if "-public-" in n)


def test_private_endpoints_are_reached_over_the_peering_without_resolvers() -> None:
    def private(config: dict[str, Any]) -> None:
        config.update({"fleet:apiAccessCidrs": [], "fleet:interconnect": {"mode": "peering"}})

    run = run_stack("fleet", mutate=private)
    eks = run.named("prod-eu-eks").inputs
    assert eks["endpointPublicAccess"] is False
    assert eks["endpointPrivateAccess"] is True
    assert "publicAccessCidrs" not in eks
    # With the public endpoint off EKS publishes the private addresses in public DNS: nothing to forward.
    assert not run.of_type("aws:route53/resolverEndpoint:ResolverEndpoint")

    # A member stack (fleet:members) that keeps its public endpoint still resolves publicly from the
    # hub's VPC: mgmt forwards its name, through its one outbound endpoint.
    def private_hub(config: dict[str, Any]) -> None:
        private(config)
        staging_registered(config)

    hub = run_stack("mgmt", mutate=private_hub)
    assert [r.name for r in hub.of_type("aws:route53/resolverEndpoint:ResolverEndpoint")] == ["mgmt-interconnect-dns-out"]
    (forward,) = hub.of_type("aws:route53/resolverRule:ResolverRule")
    assert forward.name == "staging-us-interconnect-hub-resolves"
    from components.planning import checks, preflight

    private_raw = {**{k.removeprefix("fleet:"): v for k, v in stack_config("mgmt").items()}, "apiAccessCidrs": []}
    private_raw["interconnect"] = {"mode": "peering"}
    staging_registered(private_raw)
    needs = {(key, region): n for key, region, n in preflight.quota_needs(checks.stack_fleet(private_raw, "mgmt"))}
    assert needs[("resolverEndpoints", "us-east-1")] == 1
    raw = {k.removeprefix("fleet:"): v for k, v in stack_config("fleet").items()}
    private(raw)
    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in raw.items()})
    api = [f for f in flows.fleet_flows(spec) if f.to_api]
    assert api
    assert all(f.route is flows.Route.PEERING for f in api)
    graph = Graph(run)
    assert [check(graph, f).problem for f in api] == [""] * len(api)


def test_private_endpoints_without_a_private_path_fail_preflight_naming_each_flow() -> None:
    with pytest.raises(PreflightError) as refused:
        run_stack("fleet", mutate=lambda c: c.update({"fleet:apiAccessCidrs": [], "fleet:interconnect": {"mode": "none"}}))
    message = str(refused.value)
    for flow in ("argocd-api: mgmt -> prod-us", "argocd-api: mgmt -> prod-eu", "broker-api: prod-us -> mgmt"):
        assert f"{flow}: no path: " in message


def test_cluster_admins_get_access_entries_with_the_admin_policy() -> None:
    arn = "arn:aws:iam::123456789012:role/platform-admins"
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:clusterAdmins": [arn]}))
    for name in CLUSTERS:
        entries = [e for e in run.named(f"{name}-eks").inputs["accessEntries"].values() if e["principalArn"] == arn]
        assert len(entries) == 1
        policy = entries[0]["accessPolicies"]["cluster-admin"]
        assert policy["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        assert policy["accessScope"] == {"type": "cluster"}


# ---------------------------------------------------------------- node groups


def node_groups(run: Run, cluster: str) -> dict[str, dict[str, Any]]:
    """The cluster's configured node groups (Submariner's gateway group is tested on its own); a
    per-zone group's registrations as one, its zone groups' subnets together."""
    component = run.named(cluster)
    found: dict[str, dict[str, Any]] = {}
    for r in run.of_type("eks:index:ManagedNodeGroup"):
        if r.parent != component.urn:
            continue
        name = r.inputs["labels"][NODE_GROUP_LABEL]
        if name in found:
            found[name] = {
                **found[name],
                "subnetIds": found[name]["subnetIds"] + r.inputs["subnetIds"],
                "zones": found[name]["zones"] + 1,
            }
        else:
            found[name] = {**r.inputs, "zones": 1}
    return found


def test_node_groups_per_cluster(fleet: Run) -> None:
    assert set(node_groups(fleet, "mgmt")) == {"system"}
    assert set(node_groups(fleet, "prod-us")) == {"general", "arm", "gpu"}
    assert set(node_groups(fleet, "prod-eu")) == {"general", "arm"}


def test_image_type_follows_architecture_and_accelerator(fleet: Run) -> None:
    assert node_groups(fleet, "mgmt")["system"]["amiType"] == "AL2023_ARM_64_STANDARD"
    us = node_groups(fleet, "prod-us")
    assert us["general"]["amiType"] == "AL2023_x86_64_STANDARD"
    assert us["arm"]["amiType"] == "AL2023_ARM_64_STANDARD"
    assert us["gpu"]["amiType"] == "AL2023_x86_64_NVIDIA"
    assert us["gpu"]["instanceTypes"] == ["g6.xlarge", "g5.xlarge"]


def test_gpu_nodes_are_tainted(fleet: Run) -> None:
    gpu = node_groups(fleet, "prod-us")["gpu"]
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]


def test_gpu_taint_is_added_when_the_config_forgets_it() -> None:
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1]["nodeGroups"][2].update(taints=[]))
    assert node_groups(run, "prod-us")["gpu"]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]


def test_configured_taints_labels_sizes_and_capacity(fleet: Run) -> None:
    arm = node_groups(fleet, "prod-us")["arm"]
    assert arm["capacityType"] == "SPOT"
    assert arm["scalingConfig"] == {"minSize": 0, "maxSize": 12, "desiredSize": 2}
    assert arm["labels"] == {"workload": "arm", NODE_GROUP_LABEL: "arm"}
    assert arm["taints"] == []
    general = node_groups(fleet, "prod-eu")["general"]
    assert general["capacityType"] == "ON_DEMAND"
    # Per zone (on-demand, non-GPU): each of the three zones' groups gets a third of 3/21/3.
    assert general["zones"] == 3
    assert general["scalingConfig"] == {"minSize": 1, "maxSize": 7, "desiredSize": 1}
    assert node_groups(fleet, "prod-us")["gpu"]["zones"] == 1
    assert node_groups(fleet, "prod-us")["arm"]["zones"] == 1


def test_taint_effects_use_the_eks_api_spelling() -> None:
    taint = {"key": "dedicated", "value": "batch", "effect": "PreferNoSchedule"}
    run = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][2]["nodeGroups"][1].update(taints=[taint]))
    assert node_groups(run, "prod-eu")["arm"]["taints"] == [
        {"key": "dedicated", "value": "batch", "effect": "PREFER_NO_SCHEDULE"}
    ]


def test_nodes_in_private_subnets_of_their_cluster(fleet: Run) -> None:
    for cluster in CLUSTERS:
        private = [r.id for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{cluster}-network-private-")]
        public = [r.id for r in fleet.of_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"{cluster}-network-public-")]
        for group in node_groups(fleet, cluster).values():
            assert sorted(group["subnetIds"]) == sorted(private)
            assert not set(group["subnetIds"]) & set(public)


def test_nodes_require_imdsv2_and_encrypt_their_disks(fleet: Run) -> None:
    templates = {r.id: r.inputs for r in fleet.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    for cluster in CLUSTERS:
        for name, group in node_groups(fleet, cluster).items():
            template = templates[group["launchTemplate"]["id"]]
            assert template["metadataOptions"]["httpTokens"] == "required", f"{cluster}/{name}"
            assert template["metadataOptions"]["httpPutResponseHopLimit"] == 1
            assert template["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"


def test_node_role_and_its_managed_policies(fleet: Run) -> None:
    for cluster in CLUSTERS:
        role = fleet.named(f"{cluster}-node")
        assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
        policies = sorted(
            r.inputs["policyArn"]
            for r in fleet.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if r.name.startswith(f"{cluster}-node-")
        )
        assert policies == sorted(
            f"arn:aws:iam::aws:policy/{p}"
            for p in (
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonSSMManagedInstanceCore",
            )
        )
        for group in node_groups(fleet, cluster).values():
            assert group["nodeRoleArn"] == role.outputs["arn"]


# ---------------------------------------------------------------- protect


PROTECTED_TYPES = {
    "eks:index:Cluster",
    "aws:kms/key:Key",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/internetGateway:InternetGateway",
}


def test_clusters_keys_and_networks_are_protected(fleet: Run) -> None:
    for registration in fleet.registrations.values():
        if registration.type in PROTECTED_TYPES:
            assert registration.protect, f"{registration.name} is not protected"
    unprotected = {r.type for r in fleet.registrations.values() if not r.protect}
    assert "eks:index:ManagedNodeGroup" in unprotected, "node groups stay replaceable"


def test_nothing_is_protected_when_protect_is_off() -> None:
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:protect": False}))
    assert [r.name for r in run.registrations.values() if r.protect] == []
    assert run.named("prod-eu-eks").inputs["deletionProtection"] is False


# ---------------------------------------------------------------- outputs


def test_kubeconfig_output_is_secret_with_a_context_per_cluster(fleet: Run) -> None:
    assert "kubeconfig" in fleet.secret_exports
    document = yaml.safe_load(fleet.exports["kubeconfig"])
    assert sorted(c["name"] for c in document["contexts"]) == sorted(CLUSTERS)
    assert document["current-context"] == "mgmt"
    users = {u["name"]: u["user"]["exec"]["args"] for u in document["users"]}
    for name, region in CLUSTERS.items():
        assert users[name] == ["--region", region, "eks", "get-token", "--cluster-name", name, "--output", "json"]


def test_kubeconfig_profile_when_the_stack_asks() -> None:
    run = run_stack("fleet", mutate=lambda c: c.update({"fleet:kubeconfig": {"profile": "fleet-admin"}}))
    document = yaml.safe_load(run.exports["kubeconfig"])
    assert all(u["user"]["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "fleet-admin"}] for u in document["users"])
    assert run.named("prod-eu-eks").inputs["providerCredentialOpts"] == {"profileName": "fleet-admin"}


def test_clusters_output(fleet: Run) -> None:
    clusters = fleet.exports["clusters"]
    assert set(clusters) == set(CLUSTERS)
    eu = clusters["prod-eu"]
    assert eu["region"] == "eu-west-1"
    assert eu["role"] == "member"
    assert clusters["mgmt"]["role"] == "hub"
    assert eu["version"] == "1.35"
    assert eu["vpcCidr"] == "10.30.0.0/16"
    assert eu["serviceCidr"] == "172.22.0.0/16"
    assert eu["endpoint"].startswith("https://")
    assert eu["endpoint"].endswith(".eu-west-1.eks.amazonaws.com")
    assert eu["vpcId"] == fleet.named("prod-eu-network-vpc").id
    assert eu["labels"] == {"environment": "production", "overlay": "production-eu"}


# ---------------------------------------------------------------- determinism and independence


def fingerprint(run: Run) -> dict[str, Any]:
    return {urn: (r.inputs, sorted(r.secret_inputs), r.protect, r.provider, r.providers) for urn, r in run.registrations.items()}


def test_reordering_clusters_changes_nothing(fleet: Run) -> None:
    reordered = run_stack("fleet", mutate=lambda c: c["fleet:clusters"].reverse())
    assert fingerprint(reordered) == fingerprint(fleet)
    assert reordered.exports == fleet.exports


def test_reordering_node_groups_changes_nothing(fleet: Run) -> None:
    reordered = run_stack("fleet", mutate=lambda c: c["fleet:clusters"][1]["nodeGroups"].reverse())
    assert fingerprint(reordered) == fingerprint(fleet)


def changed_resources(before: Run, after: Run) -> set[str]:
    a, b = fingerprint(before), fingerprint(after)
    return {urn.rsplit("::", 1)[-1] for urn in set(a) | set(b) if a.get(urn) != b.get(urn)}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["fleet:clusters"][2]["nodeGroups"][0].update(maxSize=30),
            {"prod-eu-general-euw1-az1", "prod-eu-general-euw1-az2", "prod-eu-general-euw1-az3"},
        ),
        (lambda c: c["fleet:clusters"][1]["nodeGroups"][1].update(labels={"workload": "batch"}), {"prod-us-arm"}),
        # The autoscaler's image follows the cluster's minor version; the EKS add-ons' (the Pod Identity agent's
        # too) default versions are
        # looked up for it too (and held by ignoreChanges until fleet:addons pins new ones).
        # Its node groups (and Submariner gateways) follow the control plane.
        (
            lambda c: c["fleet:clusters"][0].update(kubernetesVersion="1.34", supportType="EXTENDED"),
            {
                "mgmt-eks",
                "mgmt-addons-autoscaler",
                "mgmt-addons-ebs-csi",
                "mgmt-addons-metrics-server",
                "mgmt-addons-pod-identity-agent",
                "mgmt-system-use1-az1",
                "mgmt-system-use1-az2",
                "mgmt-system-use1-az4",
                "mgmt-submariner-gateway",
            },
        ),
    ],
    ids=["node-group-size", "node-group-labels", "one-clusters-version"],
)
def test_one_setting_changes_only_what_it_must(fleet: Run, change: Callable[[dict[str, Any]], None], expected: set[str]) -> None:
    assert changed_resources(fleet, run_stack("fleet", mutate=change)) == expected


def test_clusters_never_wait_on_each_other(fleet: Run) -> None:
    """Regions deploy in parallel. Two waits are by design, both for Submariner: allow lists
    take other members' Elastic IPs (the broker's API, the peers' gateway ports: addresses,
    created in seconds, not clusters), and each member's join waits for the broker's release
    and its own token there."""
    for registration in fleet.registrations.values():
        own = cluster_of(fleet, registration)
        if own is None:
            continue
        for urn in fleet.transitive_dependencies(registration):
            dependency = fleet.registrations[urn]
            other = cluster_of(fleet, dependency)
            if other in (None, own):
                continue
            if dependency.type == "aws:ec2/eip:Eip" and not fleet.transitive_dependencies(dependency) - {dependency.provider_urn}:
                continue
            if other == BROKER and any(a.type == "fleet:index:SubmarinerMember" for a in fleet.ancestors(registration)):
                continue
            raise AssertionError(f"{registration.name} ({own}) waits on {dependency.name} ({other})")


def test_same_config_same_resources(fleet: Run) -> None:
    assert fingerprint(run_stack("fleet")) == fingerprint(fleet)


def test_the_mocks_refuse_a_urn_registered_twice_as_the_engine_does() -> None:
    # The engine stops a deploy that registers one URN twice; the stock mock monitor does not, so a
    # program that named two resources alike (e.g. two interconnect links per cluster) passed offline.
    import pulumi_aws as aws

    from offline.harness import run_program
    from offline.recording import DuplicateUrnError

    def twice() -> None:
        for _ in range(2):
            aws.ec2.Vpc("same", aws.ec2.VpcArgs(cidr_block="10.0.0.0/16"))

    with pytest.raises(DuplicateUrnError, match="Duplicate resource URN"):
        run_program({}, entry=twice)


@pytest.mark.parametrize("stack", ["prod", "mgmt", "staging", "fleet"])
def test_the_iam_roles_counted_are_the_roles_the_program_registers(stack: str) -> None:
    # Issue 37: IAM allows 1,000 roles per account by default; the preflight counts this stack's.
    from components.planning import preflight

    spec = load_fleet({k.removeprefix("fleet:"): v for k, v in stack_config(stack).items()})
    needs = {(key, region): n for key, region, n in preflight.quota_needs(spec)}
    run = run_stack(stack)
    # The roles the program registers, and the service role pulumi-eks makes inside each eks.Cluster,
    # which a mock of that remote component cannot show (its registration names no serviceRole).
    clusters = run.of_type("eks:index:Cluster")
    assert all(not c.inputs.get("serviceRole") for c in clusters)
    hidden = preflight.PULUMI_EKS_ROLES_PER_CLUSTER * len(clusters)
    assert needs[("iamRoles", None)] == len(run.of_type("aws:iam/role:Role")) + hidden
