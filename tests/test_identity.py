"""Who may do what: the deploying principal's EKS entry, and how Argo CD authenticates to members."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.planning import identity
from offline.gitops_auth import eks_admits, presented_principal
from offline.harness import ACCOUNT, DEPLOYER_ROLE_ARN, DEPLOYER_SESSION_ARN, ResourceInUseError, Run, run_stack

HUMAN = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"


def test_principals_compare_without_paths_and_sessions() -> None:
    assert identity.same_principal(f"arn:aws:iam::{ACCOUNT}:role/ci/fleet-deploy", DEPLOYER_ROLE_ARN)
    assert identity.same_principal(DEPLOYER_SESSION_ARN, DEPLOYER_ROLE_ARN)
    assert not identity.same_principal(f"arn:aws:iam::{ACCOUNT}:user/fleet-deploy", DEPLOYER_ROLE_ARN)
    assert not identity.same_principal("arn:aws:iam::210987654321:role/fleet-deploy", DEPLOYER_ROLE_ARN)


@given(st.lists(st.sampled_from([HUMAN, DEPLOYER_ROLE_ARN, f"arn:aws:iam::{ACCOUNT}:role/ci/fleet-deploy"]), max_size=5))
def test_the_creator_never_gets_a_second_entry(admins: list[str]) -> None:
    entries = identity.admins_needing_entries(admins, DEPLOYER_ROLE_ARN)
    assert not [arn for arn in entries if identity.same_principal(arn, DEPLOYER_ROLE_ARN)]
    assert entries == sorted(set(a for a in admins if a == HUMAN))


def _admins(*arns: str):  # type: ignore[no-untyped-def]
    return lambda c: c.update({"fleet:clusterAdmins": list(arns)})


def test_the_deploying_role_in_cluster_admins_gets_no_entry_of_ours() -> None:
    # docs/deploy.md tells CI users to list the deploy role here; EKS already made its entry.
    run = run_stack("fleet", mutate=_admins(DEPLOYER_ROLE_ARN, HUMAN))
    for cluster in run.of_type("eks:index:Cluster"):
        entries = (cluster.inputs.get("accessEntries") or {}).values()
        admins = [e["principalArn"] for e in entries if "cluster-admin" in e["accessPolicies"]]
        assert admins == [HUMAN]


def test_without_the_filter_the_mocked_eks_refuses_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    # What EKS does (pulumi/pulumi-eks#2373); the harness refuses it too, or the test above proves nothing.
    monkeypatch.setattr(identity, "admins_needing_entries", lambda admins, creator: sorted(set(admins)))
    with pytest.raises(ResourceInUseError, match="ResourceInUseException"):
        run_stack("fleet", mutate=_admins(DEPLOYER_ROLE_ARN, HUMAN))


# ---------------------------------------------------------------- Argo CD's view of its cluster Secrets


@pytest.mark.parametrize("member", ["prod-us", "prod-eu"])
def test_argocd_authenticates_to_each_member_as_a_principal_eks_admits(fleet: Run, member: str) -> None:
    secret = fleet.named(f"{member}-argocd-cluster")
    principal, problem = presented_principal(fleet, secret.inputs["stringData"]["config"])
    assert principal is not None, problem
    assert principal == fleet.named("argocd-role").outputs["arn"]
    assert eks_admits(fleet, member, principal)


def test_a_self_assumed_role_arn_without_an_identity_policy_is_denied(fleet: Run) -> None:
    # What the Secret said before: roleARN = the hub role itself, trusted by the account root only.
    fleet = copy.deepcopy(fleet)
    config = json.loads(fleet.named("prod-us-argocd-cluster").inputs["stringData"]["config"])
    role = fleet.named("argocd-role")
    config["awsAuthConfig"]["roleARN"] = role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    trust["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    )
    role.inputs["assumeRolePolicy"] = json.dumps(trust)
    principal, problem = presented_principal(fleet, json.dumps(config))
    assert principal is None
    assert "no identity policy" in problem
