"""Access entries as a function of the config alone (fleet:deployer, fleet:clusterAdmins, fleet:access).

EKS keeps one entry per principal and made the creator's itself; a second deploy identity used to
delete its own entry mid-run or ask EKS for the creator's. Now only the deployer runs a stack, and
the entries never depend on who runs it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.aws.eks_access import AccessLevel
from components.config.validation import ConfigError
from components.planning import identity
from components.planning.checks import load_fleet
from offline.harness import ACCOUNT, DEPLOYER_ROLE_ARN, Run, deployer_session, run_stack
from offline.transition import transition
from tests.config_cases import problems_after, raw_prod

CI = DEPLOYER_ROLE_ARN
STAGING_CI = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy-staging"
NEW_CI = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy-2026"
HUMAN = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"
AUDIT = f"arn:aws:iam::{ACCOUNT}:role/auditors"
TEAM = f"arn:aws:iam::{ACCOUNT}:role/payments-team"


def session(role: str) -> str:
    return deployer_session({"fleet:deployer": {"principal": role}})


def entries_of(run: Run, cluster: str = "prod-eu") -> dict[str, Any]:
    return dict(run.named(f"{cluster}-eks").inputs.get("accessEntries") or {})


# ---------------------------------------------------------------- pure


PRINCIPALS = [CI, STAGING_CI, NEW_CI, HUMAN, AUDIT, f"arn:aws:iam::{ACCOUNT}:role/ci/fleet-deploy"]


@settings(deadline=None)
@given(
    admins=st.lists(st.sampled_from(PRINCIPALS), max_size=4),
    caller=st.sampled_from(PRINCIPALS),
)
def test_only_the_deployer_may_run_and_the_entries_never_name_the_creator(admins: list[str], caller: str) -> None:
    raw = raw_prod()
    raw["clusterAdmins"] = admins
    raw["access"] = []
    spec = load_fleet(raw)
    entries = identity.access_entries(spec)
    assert not [e for e in entries if identity.same_principal(e.principal, CI)]
    assert len({identity.principal_key(e.principal) for e in entries}) == len(entries)
    problem = identity.caller_problem(spec, caller, "prod")
    assert (problem is None) == identity.same_principal(caller, CI)
    if problem:
        assert CI in problem
        assert caller in problem


def test_levels_map_to_eks_access_policies_in_their_scope() -> None:
    raw = raw_prod()
    raw["clusterAdmins"] = [STAGING_CI]
    raw["access"] = [
        {"principal": AUDIT, "level": "view"},
        {"principal": TEAM, "level": "edit", "namespaces": ["payments", "checkout"]},
        {"principal": HUMAN, "level": "admin", "namespaces": ["ops"]},
    ]
    entries = {e.principal: e for e in identity.access_entries(load_fleet(raw))}
    assert (entries[AUDIT].policy, entries[AUDIT].scope) == ("AmazonEKSViewPolicy", "cluster")
    assert (entries[TEAM].policy, entries[TEAM].namespaces) == ("AmazonEKSEditPolicy", ("checkout", "payments"))
    assert (entries[HUMAN].policy, entries[HUMAN].level) == ("AmazonEKSAdminPolicy", AccessLevel.ADMIN)


def test_one_entry_per_principal_and_none_for_the_creator_or_deployer_are_validated() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["clusterAdmins"] = [STAGING_CI]
        raw["access"] = [
            {"principal": STAGING_CI, "level": "view"},
            {"principal": AUDIT, "level": "view"},
            {"principal": AUDIT, "level": "edit"},
            {"principal": f"arn:aws:iam::{ACCOUNT}:role/ci/fleet-deploy", "level": "view"},
        ]

    problems = problems_after(edit)
    assert any(p.startswith("fleet:access[0].principal:") and "fleet:clusterAdmins[0]" in p for p in problems)
    assert any(p.startswith("fleet:access[2].principal:") and "fleet:access[1].principal" in p for p in problems)
    assert any(p.startswith("fleet:access[3].principal:") and "creator" in p for p in problems)
    assert len(problems) == 3


def test_a_stack_without_a_deployer_is_refused_with_the_path() -> None:
    problems = problems_after(lambda raw: raw.pop("deployer"))
    assert any(p.startswith("fleet:deployer") for p in problems)


# ---------------------------------------------------------------- the program under mocks


@pytest.fixture(scope="module")
def prod() -> Run:
    return run_stack("prod")


def test_the_deployer_runs_prod_and_gets_no_entry_of_ours(prod: Run) -> None:
    for cluster in ("prod-us", "prod-eu"):
        assert entries_of(prod, cluster) == {}
    (staging,) = entries_of(prod, "mgmt").values()
    assert staging["principalArn"] == STAGING_CI


def test_stagings_deployer_may_only_write_argo_cd_registrations_on_prods_hub(prod: Run) -> None:
    # The seed's isolation: a compromised staging pipeline must not own prod's clusters.
    spec = load_fleet(raw_prod())
    assert identity.access_on(spec, STAGING_CI, "prod-us") is None
    assert identity.access_on(spec, STAGING_CI, "prod-eu") is None
    on_hub = identity.access_on(spec, STAGING_CI, "mgmt")
    assert on_hub is not None
    assert (on_hub.policy, on_hub.namespaces) == ("AmazonEKSEditPolicy", ("argocd",))
    (entry,) = entries_of(prod, "mgmt").values()
    assert entry["accessPolicies"] == {
        "AmazonEKSEditPolicy": {
            "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
            "accessScope": {"type": "namespace", "namespaces": ["argocd"]},
        }
    }


def test_a_joining_stack_whose_deployer_the_hub_does_not_admit_is_refused_from_both_sides() -> None:
    from components.planning.checks import registration_access_problems, stack_fleet
    from offline.harness import stack_config

    # The hub's side: prod's preflight knows staging joins it (its stack file is in this project).
    raw = raw_prod()
    raw["access"] = []
    (problem,) = checks_problems(lambda: stack_fleet(raw, "prod"))
    assert problem.startswith(f"fleet:access: stack staging deploys as {STAGING_CI}")
    assert f"{{principal: {STAGING_CI}, level: edit, namespaces: [argocd], clusters: [mgmt]}}" in problem

    # The joiner's side: staging's preflight reads prod's config.
    staging = load_fleet({k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()})
    hub = load_fleet(raw)
    (problem,) = registration_access_problems(staging.with_joined_hub(hub), "staging")
    assert problem.startswith(f"fleet:deployer.principal: stack staging deploys as {STAGING_CI}")
    # With prod's grant (the reference config), both sides pass.
    assert registration_access_problems(staging.with_joined_hub(load_fleet(raw_prod())), "staging") == []


def checks_problems(call: Any) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        call()
    return list(refused.value.problems)


def test_another_listed_principal_is_refused_before_any_cloud_resource() -> None:
    registered: list[str] = []
    with pytest.raises(ConfigError) as refused:
        run_stack("prod", caller_arn=session(STAGING_CI), registrations_on_error=registered)
    assert CI in str(refused.value)
    assert STAGING_CI in str(refused.value)
    assert "fleet:deployer.principal" in str(refused.value)
    # Only the providers the identity lookup goes through exist; nothing AWS would create.
    assert registered
    assert all(name.startswith("aws-") for name in registered), registered


def test_even_past_the_check_the_entries_do_not_depend_on_who_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before fleet:deployer the entries were "admins minus whoever runs": a listed human running prod
    # (created by CI) dropped their own entry and asked EKS for CI's. Now they are the config's alone.
    monkeypatch.setattr(identity, "caller_problem", lambda spec, caller, stack: None)
    admins = {"fleet:clusterAdmins": [AUDIT, HUMAN]}
    as_ci = run_stack("prod", mutate=lambda c: c.update(admins))
    as_human = run_stack("prod", mutate=lambda c: c.update(admins), caller_arn=session(HUMAN), creator_arn=session(CI))
    assert entries_of(as_human) == entries_of(as_ci)
    assert sorted(e["principalArn"] for e in entries_of(as_ci).values()) == sorted([AUDIT, HUMAN])


def test_namespaced_levels_reach_pulumi_eks_as_scoped_associations() -> None:
    access = [{"principal": TEAM, "level": "edit", "namespaces": ["payments"]}, {"principal": AUDIT, "level": "view"}]
    run = run_stack("prod", mutate=lambda c: c["fleet:access"].extend(access))
    by_principal = {e["principalArn"]: e for e in entries_of(run).values()}
    team = by_principal[TEAM]["accessPolicies"]
    assert team == {
        "AmazonEKSEditPolicy": {
            "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
            "accessScope": {"type": "namespace", "namespaces": ["payments"]},
        }
    }
    assert by_principal[AUDIT]["accessPolicies"]["AmazonEKSViewPolicy"]["accessScope"] == {"type": "cluster"}


def test_changing_a_level_keeps_the_entry_and_swaps_its_policy(prod: Run) -> None:
    viewer = run_stack("prod", mutate=lambda c: c["fleet:access"].append({"principal": AUDIT, "level": "view"}))
    editor = run_stack("prod", mutate=lambda c: c["fleet:access"].append({"principal": AUDIT, "level": "edit"}))
    assert entries_of(viewer).keys() == entries_of(editor).keys()
    plan = transition(viewer, editor)
    assert not plan.violations
    cluster_changes = [c for c in plan.changes if c.name == "prod-eu-eks"]
    assert [c.action for c in cluster_changes] == ["update"]
    assert all(".accessPolicies." in path for path in cluster_changes[0].changed)


# ---------------------------------------------------------------- the rotation runbook (docs/runbooks.md)


def rotation_steps() -> list[Any]:
    def step1(config: dict[str, Any]) -> None:
        config["fleet:clusterAdmins"] = [*config["fleet:clusterAdmins"], NEW_CI]

    def step2(config: dict[str, Any]) -> None:
        step1(config)
        config["fleet:deployer"] = {"principal": NEW_CI, "creator": CI}

    return [step1, step2]


def test_rotating_the_deploy_role_is_clean_and_the_new_role_never_loses_its_entry(prod: Run) -> None:
    step1, step2 = rotation_steps()
    first = run_stack("prod", mutate=step1)  # run as the old role
    plan = transition(prod, first)
    assert not plan.violations
    assert NEW_CI in [e["principalArn"] for e in entries_of(first).values()]
    assert {c.type for c in plan.changes} == {"eks:index:Cluster"}

    # Run as the new role; the clusters' creator (and its EKS-made entry) stays the old role.
    second = run_stack("prod", mutate=step2, caller_arn=session(NEW_CI), creator_arn=session(CI))
    assert not [c for c in transition(first, second).changes if c.type == "eks:index:Cluster"]
    assert entries_of(second) == entries_of(first)


def test_switching_the_deployer_without_naming_the_creator_drops_the_new_roles_entry(prod: Run) -> None:
    # Why the runbook's step 2 names the creator: without it the new role counts as the creator, so
    # it gets no entry of ours, and EKS never made one for it. Naming the creator brings it back.
    step1, step2 = rotation_steps()

    def careless(config: dict[str, Any]) -> None:
        step1(config)
        config["fleet:deployer"] = {"principal": NEW_CI}

    run = run_stack("prod", mutate=careless, caller_arn=session(NEW_CI), creator_arn=session(CI))
    assert NEW_CI not in [e["principalArn"] for e in entries_of(run).values()]
    fixed = run_stack("prod", mutate=step2, caller_arn=session(NEW_CI), creator_arn=session(CI))
    assert NEW_CI in [e["principalArn"] for e in entries_of(fixed).values()]


def test_narrowing_stagings_admin_to_its_argo_cd_namespace_is_one_clean_deploy(prod: Run) -> None:
    def as_before(config: dict[str, Any]) -> None:
        config["fleet:clusterAdmins"] = [STAGING_CI]
        config["fleet:access"] = []

    before = run_stack("prod", mutate=as_before)
    plan = transition(before, prod)
    assert plan.violations == [], [v.message for v in plan.violations]
    assert sorted((c.name, c.action) for c in plan.changes) == [
        ("mgmt-eks", "update"),
        ("prod-eu-eks", "update"),
        ("prod-us-eks", "update"),
    ]
    # On the hub the entry stays (same key) and only its policy association is swapped.
    assert entries_of(before, "mgmt").keys() == entries_of(prod, "mgmt").keys()
