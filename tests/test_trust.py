"""Hostile input across stack boundaries: every value one stack reads from another, forged, and
refused before any resource is registered (planning/trust.py, resources/stack_reads.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config.errors import ConfigError
from components.planning import trust
from offline.harness import placeholder_hub, placeholder_registration, run_stack
from offline.mock_aws import PEERINGS, peering_description
from tests.config_cases import MGMT, members_registered

HUB_ROLE = placeholder_hub(MGMT)["argocdHub"]["roleArn"]


def hub_outputs(**changes: Any) -> dict[str, Any]:
    outputs = copy.deepcopy(placeholder_hub(MGMT))
    outputs["argocdHub"].update(changes)
    return outputs


def refused(stack: str, outputs: dict[str, dict[str, Any]], mutate: Any = None) -> tuple[str, list[str]]:
    """The program's refusal and what it had registered by then (only the identity check's provider)."""
    registered: list[str] = []
    with pytest.raises(ConfigError) as raised:
        run_stack(stack, mutate=mutate, stack_outputs=outputs, registrations_on_error=registered)
    return str(raised.value), registered


def nothing_but_providers(registered: list[str]) -> bool:
    return all(name.startswith("aws-") for name in registered)


# ---------------------------------------------------------------- a joining stack reads its hub


def test_the_genuine_hub_outputs_are_accepted() -> None:
    run = run_stack("prod", stack_outputs={MGMT: hub_outputs()})
    entries = [r for r in run.of_type("aws:eks/accessEntry:AccessEntry") if "argocd" in r.name]
    assert {e.inputs["principalArn"] for e in entries} == {HUB_ROLE}


def test_a_hub_role_in_another_account_is_refused_before_anything_is_registered() -> None:
    forged = HUB_ROLE.replace("123456789012", "999999999999")
    message, registered = refused("prod", {MGMT: hub_outputs(roleArn=forged)})
    assert f"stack {MGMT} output argocdHub.roleArn: {forged} is a role of account 999999999999" in message
    assert "not the hub's account 123456789012" in message
    assert nothing_but_providers(registered)


@pytest.mark.parametrize(
    "forged",
    [
        "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole",
        "arn:aws:iam::123456789012:role/admins/fleet-mgmt-argocd-hub-20261207000000000000000001",
        "arn:aws:iam::123456789012:user/fleet-mgmt-argocd-hub-x",
        "arn:aws:iam::123456789012:role/fleet-staging-argocd-hub-20261207000000000000000001",
        "*",
    ],
    ids=["another-role", "a-path", "a-user", "another-stacks-hub", "wildcard"],
)
def test_a_role_that_is_not_the_hubs_argo_cd_role_is_refused(forged: str) -> None:
    message, registered = refused("staging", {MGMT: hub_outputs(roleArn=forged)})
    assert f"argocdHub.roleArn: {forged!r} is not the Argo CD role {MGMT} creates" in message
    assert nothing_but_providers(registered)


def test_egress_that_opens_the_api_to_the_internet_is_refused() -> None:
    message, registered = refused("prod", {MGMT: hub_outputs(egressIps=["0.0.0.0/1", "128.0.0.0/1"])})
    assert "argocdHub.egressIps: '0.0.0.0/1': a /1 (2147483648 addresses)" in message
    assert "'128.0.0.0/1'" in message
    assert nothing_but_providers(registered)


@pytest.mark.parametrize(
    ("egress", "finding"),
    [
        (["203.0.113.0/24"], "a /24"),
        (["10.1.2.3"], "not a public address"),
        (["not-an-ip"], "not an IPv4 address"),
        ([f"198.51.100.{i}" for i in range(7)], "7 entries, more than the hub's 3 NAT gateways"),
    ],
    ids=["wide-prefix", "private", "garbage", "too-many"],
)
def test_hub_egress_must_be_its_own_nat_addresses(egress: list[str], finding: str) -> None:
    message, _ = refused("staging", {MGMT: hub_outputs(egressIps=egress)})
    assert finding in message


def test_a_small_prefix_of_the_hub_is_accepted() -> None:
    run = run_stack("staging", stack_outputs={MGMT: hub_outputs(egressIps=["198.51.100.16/28"])})
    assert "198.51.100.16/28" in run.named("staging-us-eks").inputs["publicAccessCidrs"]


def test_a_hub_stack_without_a_hub_is_named_not_a_key_error() -> None:
    message, registered = refused("staging", {MGMT: {"clusters": {}}})
    assert f"stack {MGMT} output argocdHub: missing: {MGMT} runs no Argo CD hub" in message
    assert nothing_but_providers(registered)


# ---------------------------------------------------------------- references: organization and project


@pytest.mark.parametrize(
    ("hub", "finding"),
    [
        ({"stack": "evilorg/fleet/mgmt"}, "is in organization 'evilorg', not this stack's ('organization')"),
        ({"stack": "organization/fleet/mgmt-typo"}, "is not a stack of this project (no Pulumi.mgmt-typo.yaml"),
        ({"stack": "organization/other/mgmt", "external": True}, "fleet:hub.account: required with fleet:hub.external"),
    ],
    ids=["another-organization", "unknown-stack", "external-without-account"],
)
def test_fleet_hub_must_name_a_hub_this_stack_can_check(hub: dict[str, Any], finding: str) -> None:
    outputs = {hub["stack"]: placeholder_hub(hub["stack"], "123456789012")}
    message, registered = refused("staging", outputs, mutate=lambda c: c.update({"fleet:hub": hub}))
    assert finding in message
    assert nothing_but_providers(registered)


def test_an_external_hub_is_checked_against_its_declared_account() -> None:
    reference = "organization/platform/hub"
    hub = {"stack": reference, "external": True, "account": "210987654321"}
    ok = run_stack(
        "staging",
        mutate=lambda c: c.update({"fleet:hub": hub}),
        stack_outputs={reference: placeholder_hub(reference, "210987654321")},
    )
    assert (
        ok.named("staging-us-argocd-access")
        .inputs["principalArn"]
        .startswith("arn:aws:iam::210987654321:role/platform-hub-argocd-hub-")
    )
    message, _ = refused(
        "staging", {reference: placeholder_hub(reference, "123456789012")}, mutate=lambda c: c.update({"fleet:hub": hub})
    )
    assert "not the hub's account 210987654321" in message


def test_members_of_another_organization_are_refused() -> None:
    def evil(config: dict[str, Any]) -> None:
        members_registered(config)
        config["fleet:members"] = ["evilorg/fleet/prod"]

    message, _ = refused("mgmt", {}, mutate=evil)
    assert "fleet:members[0]: evilorg/fleet/prod is in organization 'evilorg'" in message


# ---------------------------------------------------------------- the hub reads its members


def registrations() -> dict[str, dict[str, Any]]:
    return {m: placeholder_registration(m) for m in ("organization/fleet/prod", "organization/fleet/staging")}


def forged(member: str, cluster: str, **changes: Any) -> dict[str, dict[str, Any]]:
    outputs = registrations()
    outputs[f"organization/fleet/{member}"]["argocdRegistration"]["clusters"][cluster].update(changes)
    return outputs


def test_the_genuine_registrations_are_accepted() -> None:
    run = run_stack("mgmt", mutate=members_registered, stack_outputs=registrations())
    assert set(run.exports["argocd"]["registeredClusters"]) == {"mgmt", "prod-eu", "prod-us", "staging-us"}


def test_staging_exporting_prods_server_is_refused() -> None:
    prod_us = registrations()["organization/fleet/prod"]["argocdRegistration"]["clusters"]["prod-us"]["server"]
    message, registered = refused("mgmt", forged("staging", "staging-us", server=prod_us), mutate=members_registered)
    assert f"argocdRegistration.clusters.staging-us.server: {prod_us!r} is not an EKS API endpoint in us-west-2" in message
    assert nothing_but_providers(registered)


def test_a_server_registered_twice_is_refused() -> None:
    # Same region: the format holds, the duplicate does not (Argo CD keys clusters by server).
    member = trust_member("prod")
    exported = registrations()["organization/fleet/prod"]["argocdRegistration"]
    claimed = {exported["clusters"]["prod-us"]["server"]: "staging/staging-us"}
    problems = trust.registration_problems("organization/fleet/prod", member, exported, claimed, peered=False)
    server = exported["clusters"]["prod-us"]["server"]
    assert problems == [
        f"stack organization/fleet/prod output argocdRegistration.clusters.prod-us.server: {server} is already "
        "registered as staging/staging-us: refused (Argo CD keys clusters by server, so one cluster would be "
        "registered twice and get another's applications)"
    ]


@pytest.mark.parametrize(
    ("changes", "finding"),
    [
        ({"server": "https://github.com"}, "'https://github.com' is not an EKS API endpoint in us-west-2"),
        (
            {"arn": "arn:aws:eks:us-west-2:999999999999:cluster/staging-us"},
            "but organization/fleet/staging's stack file makes it",
        ),
        ({"caData": "bm90IGEgY2VydA=="}, "caData: not a base64-encoded PEM certificate"),
    ],
    ids=["foreign-domain", "foreign-account", "not-a-ca"],
)
def test_a_forged_registration_is_refused(changes: dict[str, Any], finding: str) -> None:
    message, registered = refused("mgmt", forged("staging", "staging-us", **changes), mutate=members_registered)
    assert finding in message
    assert nothing_but_providers(registered)


def test_a_member_exporting_a_cluster_it_does_not_declare_is_refused() -> None:
    outputs = registrations()
    clusters = outputs["organization/fleet/staging"]["argocdRegistration"]["clusters"]
    clusters["prod-us"] = registrations()["organization/fleet/prod"]["argocdRegistration"]["clusters"]["prod-us"]
    message, _ = refused("mgmt", outputs, mutate=members_registered)
    assert "clusters.prod-us: organization/fleet/staging's stack file declares no cluster 'prod-us': refused" in message


def trust_member(stack: str) -> Any:
    from components.config import hub_stack

    return hub_stack.project_stacks()[stack]


# ---------------------------------------------------------------- a peered hub reads its members' peering ends


def peered(config: dict[str, Any]) -> None:
    members_registered(config)
    config["fleet:interconnect"] = {"mode": "peering"}
    config["fleet:members"] = ["organization/fleet/staging"]


def peered_outputs(mgmt_config: dict[str, Any], **link: Any) -> dict[str, dict[str, Any]]:
    outputs = {"organization/fleet/staging": placeholder_registration("organization/fleet/staging", mgmt_config)}
    outputs["organization/fleet/staging"]["argocdRegistration"]["clusters"]["staging-us"]["interconnect"].update(link)
    return outputs


@pytest.mark.parametrize(
    ("owner", "cidr", "peer_cidr", "findings"),
    [
        (
            "999999999999",
            "10.40.0.0/16",
            "10.10.0.0/16",
            ["is not a request from staging-us's VPC to this hub", "ownerId '999999999999' (expected '123456789012')"],
        ),
        ("123456789012", "10.99.0.0/16", "10.10.0.0/16", ["cidrBlock '10.99.0.0/16' (expected '10.40.0.0/16')"]),
        ("123456789012", "10.40.0.0/16", "10.20.0.0/16", ["peerCidrBlock '10.20.0.0/16' (expected '10.10.0.0/16')"]),
    ],
    ids=["another-account", "another-member-vpc", "not-the-hubs-vpc"],
)
def test_a_foreign_peering_request_is_not_accepted(
    peered_project: Any, owner: str, cidr: str, peer_cidr: str, findings: list[str]
) -> None:
    foreign = f"pcx-0badc0ffee{abs(hash((owner, cidr, peer_cidr))) % 10**7:07d}"
    PEERINGS[foreign] = peering_description(
        foreign, owner, cidr, "us-west-2", "123456789012", "us-east-1", "vpc-0a0a0a0a", peer_cidr
    )
    message, registered = refused("mgmt", peered_outputs(peered_project, peeringConnectionId=foreign), mutate=peered)
    assert f"interconnect.peeringConnectionId: {foreign!r}" in message
    assert all(finding in message for finding in findings), message
    assert nothing_but_providers(registered)


def test_resolver_addresses_outside_the_members_vpc_are_refused(peered_project: Any) -> None:
    message, registered = refused("mgmt", peered_outputs(peered_project, resolverIps=["8.8.8.8"]), mutate=peered)
    assert "resolverIps: '8.8.8.8' is not in the member cluster's VPC (10.40.0.0/16): refused" in message
    assert nothing_but_providers(registered)


@pytest.fixture
def peered_project() -> dict[str, Any]:
    from offline.harness import stack_config

    config = stack_config("mgmt")
    peered(config)
    return config


# ---------------------------------------------------------------- runbooks: admin password, a recreated deploy role


def test_the_admin_password_is_read_from_the_hubs_state_not_its_outputs() -> None:
    import json

    from deploy.admin_password import admin_password

    def admin_on(config: dict[str, Any]) -> None:
        config["fleet:argocd"] = {**config["fleet:argocd"], "admin": {"enabled": True}}

    run = run_stack("mgmt", mutate=admin_on)
    (urn,) = [u for u, r in run.registrations.items() if r.type == "random:index/randomPassword:RandomPassword"]
    generated = run.registrations[urn].outputs["result"]
    assert generated not in json.dumps(run.exports)
    # `pulumi stack export --show-secrets` writes a secret as its signature and its plaintext JSON.
    shown = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": json.dumps(generated)}

    def export(result: dict[str, str]) -> dict[str, Any]:
        return {"deployment": {"resources": [{"urn": urn, "type": run.registrations[urn].type, "outputs": {"result": result}}]}}

    assert admin_password(export(shown)) == generated
    # Without --show-secrets the value is ciphertext: nothing to print.
    hidden = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    assert admin_password(export(hidden)) is None


def test_the_recovery_commands_are_eks_operations_with_their_parameters() -> None:
    # botocore's EKS service model is the oracle: each command is an operation, each flag a member of its input.
    import re as regex
    import shlex

    import botocore.session

    from offline.harness import ROOT

    model = botocore.session.get_session().get_service_model("eks")
    text = (ROOT / "docs" / "runbooks.md").read_text()
    section = text.split("## Recover a deploy role that was deleted and recreated", 1)[1].split("\n## ", 1)[0]
    commands = [line for line in section.splitlines() if line.startswith("aws eks ")]
    assert len(commands) == 4
    for command in commands:
        words = shlex.split(command.replace("<", "").replace(">", ""))
        operation = "".join(part.capitalize() for part in words[2].split("-"))
        shape = model.operation_model(operation).input_shape
        flags = [w[2:] for w in words if w.startswith("--")]
        members = {regex.sub(r"(?<!^)(?=[A-Z])", "-", name).lower(): name for name in shape.members}
        assert all(flag in members for flag in flags), (command, sorted(members))
        assert set(shape.required_members) <= {members[f] for f in flags}, command


# ---------------------------------------------------------------- one environment's identity on another's clusters


def test_another_environments_deploy_role_granted_on_prod_is_named() -> None:
    from offline.harness import stack_config

    staging_deployer = stack_config("staging")["fleet:deployer"]["principal"]

    def grant(config: dict[str, Any]) -> None:
        config["fleet:access"] = [{"principal": staging_deployer, "level": "edit"}]

    run = run_stack("prod", mutate=grant)
    assert any(
        f"fleet:access: {staging_deployer} is stack staging's deploy role, granted edit on this stack's clusters" in w
        for w in run.warnings
    ), run.warnings
    assert not [w for w in run_stack("prod").warnings if "stack staging's" in w]


def test_stack_files_sharing_a_kms_key_are_named(tmp_path: Any) -> None:
    from plan.__main__ import shared_secrets_providers

    key = "awskms://alias/fleet?region=us-east-1"
    for stack, provider in (("mgmt", key), ("prod", key), ("staging", "awskms://alias/fleet-staging?region=us-east-1")):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(f"secretsprovider: {provider}\nconfig: {{}}\n")
    assert shared_secrets_providers(tmp_path) == [
        f"Pulumi.mgmt.yaml, Pulumi.prod.yaml share the secrets provider {key}: give each stack its own key "
        "(docs/ci.md, 'The trust boundary')"
    ]


@pytest.mark.parametrize(
    "value", ["pcx-0a1b2c3d4e5f60718\n", "https://" + "A" * 32 + ".gr7.us-west-2.eks.amazonaws.com\n"], ids=["peering", "server"]
)
def test_a_trailing_newline_does_not_pass_for_an_identifier(value: str) -> None:
    # Found by the hostile review: `$` matches before a final newline, which would slip past the duplicate check.
    from components.aws import identifiers

    assert not identifiers.PEERING_ID.match(value)
    assert not identifiers.eks_endpoint_pattern("us-west-2").match(value)


# ---------------------------------------------------------------- the hub asks EKS, not the member


def test_a_real_eks_endpoint_that_is_not_the_members_cluster_is_refused() -> None:
    # The review's attack: an endpoint of the right shape and region (say, a cluster named like staging's in
    # the attacker's account). EKS describes staging-us in staging's account with another endpoint.
    from offline.mock_aws import eks_endpoint

    elsewhere = eks_endpoint("attackers-staging-us", "us-west-2")
    message, registered = refused("mgmt", forged("staging", "staging-us", server=elsewhere), mutate=members_registered)
    assert f"clusters.staging-us.server: {elsewhere!r}, but EKS describes staging-us in account 123456789012 with" in message
    assert nothing_but_providers(registered)


def test_a_member_whose_cluster_eks_does_not_know_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from offline import mock_aws, stacks

    # EKS forgets staging-us (never deployed, or deleted); the placeholders still export it.
    world = {key: value for key, value in mock_aws.EKS_CLUSTERS.items() if key[2] != "staging-us"}
    monkeypatch.setattr(mock_aws, "EKS_CLUSTERS", world)
    monkeypatch.setattr(stacks, "EKS_CLUSTERS", {})
    message, _ = refused("mgmt", registrations(), mutate=members_registered)
    assert "clusters.staging-us: EKS has no cluster staging-us in account 123456789012, us-west-2: refused" in message


def member_in_its_own_account(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, preview: bool) -> None:
    """This project with staging in account 210987654321 (fleet:account), with or without its preview role."""
    import shutil

    import yaml

    from components.config import hub_stack
    from offline import stacks
    from offline.harness import ROOT

    for name in ("Pulumi.yaml", "Pulumi.mgmt.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    document = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())
    role = "arn:aws:iam::210987654321:role/fleet-deploy-staging"
    document["config"]["fleet:account"] = {"id": "210987654321", "roleArn": role}
    document["config"]["fleet:deployer"] = {"principal": role}
    if preview:
        document["config"]["fleet:deployer"]["preview"] = "arn:aws:iam::210987654321:role/fleet-preview-staging"
    (tmp_path / "Pulumi.staging.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)


def staging_listed(config: dict[str, Any]) -> None:
    config["fleet:members"] = ["organization/fleet/staging"]


def test_a_member_in_another_account_is_described_as_its_preview_role(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    member_in_its_own_account(tmp_path, monkeypatch, preview=True)
    run = run_stack("mgmt", mutate=staging_listed)
    reader = run.named("read-staging")
    assert reader.type == "pulumi:providers:aws"
    assert "210987654321" in str(reader.inputs["allowedAccountIds"])
    assert "fleet-preview-staging" in str(reader.inputs["assumeRoles"])
    secret = run.named("staging-us-argocd-cluster")
    assert "arn:aws:eks:us-west-2:210987654321:cluster/staging-us" in str(secret.inputs)
    # The same registration read in the hub's own account finds no such cluster there: the account is EKS's answer.
    forged = registrations()
    forged["organization/fleet/staging"]["argocdRegistration"]["clusters"]["staging-us"]["arn"] = (
        "arn:aws:eks:us-west-2:123456789012:cluster/staging-us"
    )
    message, _ = refused("mgmt", forged, mutate=staging_listed)
    assert "stack file makes it arn:aws:eks:us-west-2:210987654321:cluster/staging-us" in message


def test_a_member_in_another_account_without_a_preview_role_is_refused(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    member_in_its_own_account(tmp_path, monkeypatch, preview=False)
    message, registered = refused("mgmt", {}, mutate=staging_listed)
    assert "organization/fleet/staging deploys into account 210987654321: this hub describes its clusters" in message
    assert nothing_but_providers(registered)


def test_a_peering_ec2_does_not_know_is_refused(peered_project: Any) -> None:
    message, registered = refused(
        "mgmt", peered_outputs(peered_project, peeringConnectionId="pcx-00000000000000000"), mutate=peered
    )
    assert "'pcx-00000000000000000': EC2 knows no such peering connection in us-east-1: refused" in message
    assert nothing_but_providers(registered)


def test_a_declared_hub_account_that_contradicts_the_hubs_file_is_refused() -> None:
    def declared(config: dict[str, Any]) -> None:
        config["fleet:hub"] = {"stack": MGMT, "account": "210987654321"}

    message, registered = refused("staging", {MGMT: hub_outputs()}, mutate=declared)
    assert "fleet:hub.account: 210987654321, but the hub's stack file deploys into account 123456789012" in message
    assert nothing_but_providers(registered)
