"""The policy pack: every guardrail passes over the prod stack and fails, with its message, on bad resources."""

from __future__ import annotations

import base64
import dataclasses
import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.config.model import CableDriver
from components.planning.submariner import gateway_ports
from offline.harness import ROOT, Run, run_stack
from offline.policy_view import as_resource
from offline.policy_view import violations as stack_violations
from policy import crossguard, guardrails
from policy.guardrails import GUARDRAILS, Context, Resource, evaluate

GUARDRAIL = {g.name: g for g in GUARDRAILS}


@pytest.fixture(scope="module")
def stack(fleet: Run) -> dict[str, Resource]:
    return {urn: as_resource(r) for urn, r in fleet.registrations.items()}


def by_name(stack: dict[str, Resource], name: str) -> Resource:
    (match,) = [r for r in stack.values() if r.name == name]
    return match


def with_props(resource: Resource, change: Callable[[dict[str, Any]], None]) -> Resource:
    props = json.loads(json.dumps(resource.props))
    change(props)
    return dataclasses.replace(resource, props=props)


def violations(name: str, resource: Resource, stack: dict[str, Resource], **config: Any) -> list[str]:
    guardrail = GUARDRAIL[name]
    return guardrail.violations(resource, Context({**stack, resource.urn: resource}, guardrail.settings(config)))


# ---------------------------------------------------------------- the prod stack


def test_prod_stack_passes_every_policy(stack: dict[str, Resource]) -> None:
    assert evaluate(stack.values()) == {g.name: [] for g in GUARDRAILS}


def test_staging_stack_passes_every_policy(fleet: Run) -> None:
    hub_outputs = {"argocdHub": fleet.exports["argocdHub"]}
    staging = run_stack("staging", stack_outputs={"organization/fleet/prod": hub_outputs})
    assert stack_violations(staging) == {g.name: [] for g in GUARDRAILS}
    # staging turns protection off on purpose; the guardrail only holds the stacks it names to it.
    assert not any(cluster.protect for cluster in staging.of_type("eks:index:Cluster"))


@pytest.mark.parametrize("guardrail", GUARDRAILS, ids=lambda g: g.name)
def test_every_policy_has_prod_resources_to_judge(guardrail: guardrails.Guardrail, stack: dict[str, Resource]) -> None:
    # "All pass" means something only if each policy read real resources of the stack.
    assert any(r.type in guardrail.resource_types for r in stack.values())


def test_no_helm_release_of_prod_carries_credentials(stack: dict[str, Resource]) -> None:
    # Submariner's token and PSK live in its own (secret) Submariner object, not in Helm's release history.
    releases = [r for r in stack.values() if r.type == "kubernetes:helm.sh/v3:Release"]
    assert releases
    assert all(list(guardrails._sensitive_paths(r.props["values"])) == [] for r in releases)
    assert sorted(guardrails._sensitive_paths({"ipsec": {"psk": "p"}, "broker": {"token": "t"}})) == ["broker.token", "ipsec.psk"]


def test_gateway_ports_match_the_program() -> None:
    udp_ports = {rule.port for rule in gateway_ports(CableDriver.LIBRESWAN) if rule.protocol == "udp"}
    assert udp_ports == guardrails.SUBMARINER_GATEWAY_UDP_PORTS


# ---------------------------------------------------------------- crafted bad resources


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.__setitem__(key, value)


BAD_PROPS = [
    ("eks-secrets-encryption", "prod-us-eks", _drop("encryptionConfigKeyArn"), "must be envelope-encrypted"),
    (
        "eks-control-plane-logs",
        "prod-us-eks",
        _set("enabledClusterLogTypes", ["api", "scheduler"]),
        "audit, authenticator, controllerManager",
    ),
    ("eks-endpoint-not-open", "mgmt-eks", _set("publicAccessCidrs", ["10.0.0.0/8", "0.0.0.0/0"]), "open to 0.0.0.0/0"),
    ("eks-endpoint-not-open", "mgmt-eks", _set("publicAccessCidrs", []), "EKS opens to 0.0.0.0/0"),
    # The forged hub egress of the trust review: two halves of the internet, no /0 among them.
    ("eks-endpoint-not-open", "mgmt-eks", _set("publicAccessCidrs", ["0.0.0.0/1", "128.0.0.0/1"]), "more than a /8"),
    ("eks-endpoint-not-open", "mgmt-eks", _set("publicAccessCidrs", [f"{i}.0.0.0/8" for i in (11, 12)]), "more than a /8"),
    ("eks-access-entries-only", "prod-eu-eks", _set("authenticationMode", "API_AND_CONFIG_MAP"), "only access entries"),
    ("eks-access-entries-only", "prod-eu-eks", _set("roleMappings", [{"roleArn": "arn:aws:iam::1:role/x"}]), "aws-auth"),
    ("nodes-imdsv2", "prod-us-general-lt", lambda p: p["metadataOptions"].update(httpTokens="optional"), "IMDSv2"),
    ("nodes-imdsv2", "prod-us-general-use1-az1", _drop("launchTemplate"), "needs a launch template"),
    ("kms-key-rotation", "prod-eu-secrets", _set("enableKeyRotation", False), "enableKeyRotation must be true"),
    ("no-open-ingress", "prod-us-submariner-from-peers", _set("cidrIpv4", "0.0.0.0/0"), "is open to 0.0.0.0/0"),
    (
        "no-open-ingress",
        "prod-us-submariner-gateway-sg-from-peers",
        lambda p: p.update(cidrIpv6="::/0", ipProtocol="tcp", fromPort=22, toPort=22),
        "open to ::/0",
    ),
    (
        "dns-routing-health-checks",
        "traffic-api.example.com-prod-eu",
        _drop("healthCheckId"),
        "a weighted record needs a healthCheckId",
    ),
]


@pytest.mark.parametrize(("policy", "resource_name", "change", "message"), BAD_PROPS, ids=[f"{p}-{n}" for p, n, *_ in BAD_PROPS])
def test_bad_resource_fails_its_policy(
    policy: str, resource_name: str, change: Callable[[dict[str, Any]], None], message: str, stack: dict[str, Resource]
) -> None:
    original = by_name(stack, resource_name)
    assert violations(policy, original, stack) == []
    problems = violations(policy, with_props(original, change), stack)
    assert len(problems) == 1
    assert message in problems[0]
    assert resource_name in problems[0]


def test_open_submariner_gateway_ports_are_the_allowed_exception(stack: dict[str, Resource]) -> None:
    gateway = by_name(stack, "prod-us-submariner-gateway-sg-from-peers")
    rule = with_props(gateway, lambda p: p.update(cidrIpv4="0.0.0.0/0", ipProtocol="udp", fromPort=4500, toPort=4500))
    assert violations("no-open-ingress", rule, stack) == []
    # Every protocol from anywhere is not a gateway port.
    assert violations("no-open-ingress", with_props(gateway, _set("cidrIpv4", "0.0.0.0/0")), stack)
    # The same exception does not stretch to a non-gateway rule on the same port.
    routed = with_props(
        by_name(stack, "prod-us-submariner-from-peers"),
        lambda p: p.update(cidrIpv4="0.0.0.0/0", ipProtocol="udp", fromPort=4500, toPort=4500),
    )
    assert violations("no-open-ingress", routed, stack)


def test_legacy_rules_and_inline_ingress_are_checked(stack: dict[str, Resource]) -> None:
    urn = "urn:pulumi:prod::fleet::aws:ec2/securityGroupRule:SecurityGroupRule::ssh"
    legacy = Resource(
        urn,
        guardrails.LEGACY_SG_RULE,
        "ssh",
        {"type": "ingress", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
    )
    egress = dataclasses.replace(legacy, props={**legacy.props, "type": "egress"})
    group = Resource(
        urn.replace("securityGroupRule:SecurityGroupRule", "securityGroup:SecurityGroup"),
        guardrails.SECURITY_GROUP,
        "wide",
        {"ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]},
    )
    assert violations("no-open-ingress", legacy, stack) == [guardrails._open_ingress_message("ssh", ["0.0.0.0/0"])]
    assert violations("no-open-ingress", egress, stack) == []
    assert "wide.ingress[0] is open to 0.0.0.0/0" in violations("no-open-ingress", group, stack)[0]


def test_node_groups_must_be_in_private_subnets(stack: dict[str, Resource]) -> None:
    general = by_name(stack, "prod-us-general-use1-az1")
    gateway = by_name(stack, "prod-us-submariner-gateway")
    swapped_general = dataclasses.replace(
        general, property_dependencies={"subnetIds": gateway.property_dependencies["subnetIds"]}
    )
    swapped_gateway = dataclasses.replace(
        gateway, property_dependencies={"subnetIds": general.property_dependencies["subnetIds"]}
    )
    assert (
        "nodes must run in private subnets; prod-us-network-public-"
        in violations("nodes-in-private-subnets", swapped_general, stack)[0]
    )
    assert "Submariner gateways need public subnets" in violations("nodes-in-private-subnets", swapped_gateway, stack)[0]
    # A subnet marked public only by mapPublicIpOnLaunch counts as public too.
    private_urn = general.property_dependencies["subnetIds"][0]
    opened = with_props(stack[private_urn], _set("mapPublicIpOnLaunch", True))
    assert violations("nodes-in-private-subnets", general, {**stack, private_urn: opened})


def test_provider_created_node_groups_are_matched_by_subnet_id(stack: dict[str, Resource]) -> None:
    general = by_name(stack, "prod-us-general-use1-az1")
    subnets = {
        urn: with_props(stack[urn], _set("id", f"subnet-{i}")) for i, urn in enumerate(general.property_dependencies["subnetIds"])
    }
    child = Resource(
        general.urn.replace("eks:index:ManagedNodeGroup::", "eks:index:ManagedNodeGroup$aws:eks/nodeGroup:NodeGroup::"),
        "aws:eks/nodeGroup:NodeGroup",
        "prod-us-general-nodeGroup",
        {"subnetIds": [s.props["id"] for s in subnets.values()], "labels": {}},
        parent=general.urn,
    )
    assert violations("nodes-in-private-subnets", child, {**stack, **subnets}) == []
    public = {urn: with_props(s, _set("mapPublicIpOnLaunch", True)) for urn, s in subnets.items()}
    assert "are public" in violations("nodes-in-private-subnets", child, {**stack, **public})[0]
    # With neither dependencies nor matching ids, its component carries the check; an orphan fails.
    unknown_ids = with_props(child, _set("subnetIds", ["subnet-elsewhere"]))
    assert violations("nodes-in-private-subnets", unknown_ids, stack) == []
    orphan = dataclasses.replace(unknown_ids, parent="")
    assert "cannot be checked" in violations("nodes-in-private-subnets", orphan, stack)[0]


def test_argocd_cluster_secret_may_not_carry_a_bearer_token(stack: dict[str, Resource]) -> None:
    secret = by_name(stack, "prod-eu-argocd-cluster")
    config = json.loads(secret.props["stringData"]["config"])
    assert "awsAuthConfig" in config
    assert "bearerToken" not in config

    def with_token(props: dict[str, Any]) -> None:
        props["stringData"]["config"] = json.dumps({**config, "bearerToken": "eyJ..."})

    assert (
        "carries a bearerToken" in violations("argocd-cluster-secret-no-bearer-token", with_props(secret, with_token), stack)[0]
    )

    def as_data(props: dict[str, Any]) -> None:
        document = json.dumps({"bearerToken": "x", "tlsClientConfig": {"insecure": True}}).encode()
        props.pop("stringData")
        props["data"] = {"config": base64.b64encode(document).decode()}

    problems = violations("argocd-cluster-secret-no-bearer-token", with_props(secret, as_data), stack)
    assert len(problems) == 2
    assert "insecure" in problems[1]
    # Repository Secrets are not cluster Secrets.
    assert violations("argocd-cluster-secret-no-bearer-token", by_name(stack, "argocd-repo"), stack) == []


def test_helm_values_with_credentials_must_be_secret(stack: dict[str, Resource]) -> None:
    release = with_props(
        dataclasses.replace(by_name(stack, "mgmt-submariner-operator"), additional_secret_outputs=()),
        lambda p: p["values"].update(broker={"token": "eyJ.x.y"}, ipsec={"psk": "k" * 40}),
    )
    (problem,) = violations("helm-values-no-plaintext-secrets", release, stack)
    assert "values carry credentials (broker.token, ipsec.psk) but are not secret" in problem
    # References to secrets held elsewhere, and booleans, are not credentials.
    argocd = with_props(
        by_name(stack, "argocd-chart"),
        lambda p: p["values"].update(
            configs={"secret": {"createSecret": True, "existingSecret": "argocd-secret"}}, tokenFile="/x"
        ),
    )
    assert violations("helm-values-no-plaintext-secrets", argocd, stack) == []
    pem = with_props(argocd, lambda p: p["values"].update(extra=["-----BEGIN RSA PRIVATE KEY-----\nMII..."]))
    assert "extra[0]" in violations("helm-values-no-plaintext-secrets", pem, stack)[0]


@pytest.mark.parametrize(
    ("argument", "block"),
    [
        ("failoverRoutingPolicies", {"type": "PRIMARY"}),
        ("latencyRoutingPolicies", {"region": "eu-west-1"}),
        ("geolocationRoutingPolicies", {"continent": "EU"}),
    ],
)
def test_every_routing_policy_needs_a_health_check(stack: dict[str, Resource], argument: str, block: dict[str, str]) -> None:
    def routed(props: dict[str, Any]) -> None:
        del props["weightedRoutingPolicies"], props["healthCheckId"]
        props[argument] = [block]

    record = with_props(by_name(stack, "traffic-api.example.com-prod-eu"), routed)
    kind = argument.removesuffix("RoutingPolicies")
    assert f"a {kind} record needs a healthCheckId" in violations("dns-routing-health-checks", record, stack)[0]


def test_the_guardrail_knows_every_routing_argument_the_program_registers() -> None:
    from pydantic.alias_generators import to_camel

    from components.resources.dns import ROUTING_POLICY_ARGS
    from policy.guardrails import ROUTING_ARGUMENTS

    assert sorted(ROUTING_ARGUMENTS) == sorted(to_camel(argument) for argument in ROUTING_POLICY_ARGS)


def test_prod_clusters_must_be_protected(stack: dict[str, Resource]) -> None:
    fleet = dataclasses.replace(by_name(stack, "mgmt-eks"), protect=False)
    for protected in ("mgmt", "prod"):
        cluster = dataclasses.replace(fleet, urn=fleet.urn.replace("urn:pulumi:fleet::", f"urn:pulumi:{protected}::"))
        assert "requires protect: true" in violations("prod-clusters-protected", cluster, stack)[0]
    staging = dataclasses.replace(fleet, urn=fleet.urn.replace("urn:pulumi:fleet::", "urn:pulumi:staging::"))
    assert violations("prod-clusters-protected", staging, stack) == []
    assert violations("prod-clusters-protected", staging, stack, stacks=["prod", "staging"])


AWS_EKS_CLUSTER = {
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/k"}},
    "enabledClusterLogTypes": list(guardrails.CONTROL_PLANE_LOG_TYPES),
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "accessConfig": {"authenticationMode": "API"},
}


@pytest.mark.parametrize(
    ("policy", "change", "message"),
    [
        ("eks-secrets-encryption", lambda p: p["encryptionConfig"].update(resources=[]), "must cover 'secrets'"),
        ("eks-control-plane-logs", lambda p: p["enabledClusterLogTypes"].remove("audit"), "audit are not enabled"),
        ("eks-endpoint-not-open", lambda p: p["vpcConfig"].update(publicAccessCidrs=["::/0"]), "open to ::/0"),
        ("eks-access-entries-only", lambda p: p["accessConfig"].update(authenticationMode="CONFIG_MAP"), "CONFIG_MAP"),
    ],
)
def test_clusters_the_eks_provider_creates_are_checked_too(
    policy: str, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    # pulumi-eks registers aws:eks/cluster:Cluster under its component: the engine shows policies both.
    urn = "urn:pulumi:prod::fleet::eks:index:Cluster$aws:eks/cluster:Cluster::prod-us-eks-eksCluster"
    good = Resource(urn, "aws:eks/cluster:Cluster", "prod-us-eks-eksCluster", AWS_EKS_CLUSTER, protect=True)
    assert violations(policy, good, {}) == []
    assert message in violations(policy, with_props(good, change), {})[0]


# ---------------------------------------------------------------- through the policy SDK


def _options(resource: Resource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(resource.additional_secret_outputs)
    )


def test_resource_policies_report_through_the_sdk(stack: dict[str, Resource]) -> None:
    policy = {p.name: p for p in crossguard.policies()}["kms-key-rotation"]
    key = with_props(by_name(stack, "mgmt-secrets"), _set("enableKeyRotation", False))
    reported: list[tuple[str, str | None]] = []
    args = ResourceValidationArgs(key.type, key.props, key.urn, key.name, _options(key), None)
    policy.validate(args, lambda message, urn: reported.append((message, urn)))  # type: ignore[attr-defined]
    assert reported == [("KMS key mgmt-secrets: enableKeyRotation must be true.", None)]
    assert policy.enforcement_level is EnforcementLevel.MANDATORY


def test_policy_config_reaches_the_validator(stack: dict[str, Resource]) -> None:
    policy = {p.name: p for p in crossguard.policies()}["prod-clusters-protected"]
    fleet = by_name(stack, "mgmt-eks")
    cluster = dataclasses.replace(fleet, protect=False, urn=fleet.urn.replace("urn:pulumi:fleet::", "urn:pulumi:prod::"))
    reported: list[str] = []
    for config, expected in (({}, 1), ({"stacks": ["staging"]}, 0)):
        reported.clear()
        args = ResourceValidationArgs(cluster.type, cluster.props, cluster.urn, cluster.name, _options(cluster), None, config)
        policy.validate(args, lambda message, urn: reported.append(message))  # type: ignore[attr-defined]
        assert len(reported) == expected


def test_stack_policy_follows_property_dependencies(stack: dict[str, Resource]) -> None:
    (policy,) = [p for p in crossguard.policies() if p.name == "nodes-in-private-subnets"]
    assert isinstance(policy, StackValidationPolicy)
    policy_resources = {
        r.urn: PolicyResource(r.type, r.props, r.urn, r.name, _options(r), None, None, [], {}) for r in stack.values()
    }
    general = by_name(stack, "prod-us-general-use1-az1")
    gateway = by_name(stack, "prod-us-submariner-gateway")
    swapped = {general.urn: gateway.property_dependencies, gateway.urn: general.property_dependencies}
    for resource in stack.values():
        dependencies = swapped.get(resource.urn, resource.property_dependencies)
        policy_resources[resource.urn].property_dependencies = {
            key: [policy_resources[urn] for urn in urns if urn in policy_resources] for key, urns in dependencies.items()
        }
    reported: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(list(policy_resources.values())), lambda message, urn: reported.append((message, urn)))
    assert sorted(urn or "" for _, urn in reported) == sorted([general.urn, gateway.urn])


def test_pack_entry_point_registers_every_guardrail_as_mandatory(monkeypatch: pytest.MonkeyPatch) -> None:
    packs: list[dict[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: packs.append(kwargs))
    runpy.run_path(str(ROOT / "policy" / "__main__.py"), run_name="__main__")
    (pack,) = packs
    assert pack["name"] == "fleet-guardrails"
    assert pack["enforcement_level"] is EnforcementLevel.MANDATORY
    assert [p.name for p in pack["policies"]] == [g.name for g in GUARDRAILS]


def test_pack_project_files() -> None:
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert pack["runtime"]["name"] == "python"
    pins = {line.split("==")[0]: line for line in (ROOT / "policy" / "requirements.txt").read_text().splitlines() if "==" in line}
    program_pins = set(Path(ROOT / "requirements.txt").read_text().splitlines())
    assert set(pins) == {"pulumi", "pulumi-policy"}
    assert set(pins.values()) <= program_pins


def test_a_cluster_without_an_explicit_upgrade_policy_fails(stack: dict[str, Resource]) -> None:
    cluster = with_props(by_name(stack, "prod-us-eks"), lambda p: p.pop("upgradePolicy"))
    (problem,) = violations("eks-upgrade-policy-explicit", cluster, stack)
    assert "billed EXTENDED" in problem


def test_a_vpc_without_a_flow_log_fails(stack: dict[str, Resource]) -> None:
    vpc = by_name(stack, "prod-eu-network-vpc")
    assert violations("vpc-flow-logs", vpc, stack) == []
    without = {
        urn: r
        for urn, r in stack.items()
        if not (r.type == guardrails.FLOW_LOG and vpc.urn in r.property_dependencies.get("vpcId", ()))
    }
    assert violations("vpc-flow-logs", vpc, without) == [f"VPC {vpc.name}: no flow log records its traffic."]


def test_a_rule_without_a_description_fails(stack: dict[str, Resource]) -> None:
    rule = with_props(by_name(stack, "prod-us-edge-pods-from-nlb"), lambda p: p.pop("description"))
    (problem,) = violations("security-group-rules-described", rule, stack)
    assert "must say why it exists" in problem


def test_a_gpu_group_without_its_taint_fails(stack: dict[str, Resource]) -> None:
    group = by_name(stack, "prod-us-gpu")
    assert violations("gpu-node-groups-tainted", group, stack) == []
    (problem,) = violations("gpu-node-groups-tainted", with_props(group, lambda p: p.update(taints=[])), stack)
    assert "nvidia.com/gpu:NoSchedule" in problem


def test_an_autoscaler_policy_over_every_group_fails(stack: dict[str, Resource]) -> None:
    policy = by_name(stack, "prod-us-addons-autoscaler-policy")
    assert violations("autoscaler-iam-scoped", policy, stack) == []

    def unscoped(props: dict[str, Any]) -> None:
        document = json.loads(props["policy"])
        for statement in document["Statement"]:
            statement.pop("Condition", None)
        props["policy"] = json.dumps(document)

    (problem,) = violations("autoscaler-iam-scoped", with_props(policy, unscoped), stack)
    assert "cluster's own" in problem
