"""Access entries as a function of the config alone (fleet:deployer, fleet:clusterAdmins, fleet:access).

EKS keeps one entry per principal and made the creator's itself; a second deploy identity used to
delete its own entry mid-run or ask EKS for the creator's. Now only the deployer runs a stack, and
the entries never depend on who runs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.aws.eks_access import AccessLevel
from components.config import hub_stack
from components.config.access import AccessEntrySpec
from components.config.errors import ConfigError
from components.planning import identity
from components.planning.checks import load_fleet
from offline.harness import ACCOUNT, DEPLOYER_ROLE_ARN, ROOT, Run, deployer_session, run_stack, stack_config
from offline.transition import transition
from tests.config_cases import members_registered, problems_after, raw_mgmt, raw_prod, staging_registered
from tests.reference_stacks import reference_project

CI = DEPLOYER_ROLE_ARN
STAGING_CI = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy-staging"
NEW_CI = f"arn:aws:iam::{ACCOUNT}:role/fleet-deploy-2026"
HUMAN = f"arn:aws:iam::{ACCOUNT}:role/platform-admins"
AUDIT = f"arn:aws:iam::{ACCOUNT}:role/auditors"
TEAM = f"arn:aws:iam::{ACCOUNT}:role/payments-team"
PREVIEW = f"arn:aws:iam::{ACCOUNT}:role/fleet-preview-prod"
MGMT_PREVIEW = f"arn:aws:iam::{ACCOUNT}:role/fleet-preview-mgmt"


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


def test_an_entry_scoped_to_a_cluster_the_stack_lacks_is_refused() -> None:
    problems = problems_after(
        lambda raw: raw.update(access=[{"principal": AUDIT, "level": "view", "clusters": ["prod-us", "qa"]}])
    )
    assert problems == ["fleet:access[0].clusters[1]: no cluster named 'qa' in fleet:clusters"]


def test_a_stack_without_a_deployer_is_refused_with_the_path() -> None:
    problems = problems_after(lambda raw: raw.pop("deployer"))
    assert any(p.startswith("fleet:deployer") for p in problems)


# ---------------------------------------------------------------- the program under mocks


@pytest.fixture(scope="module")
def prod() -> Run:
    return run_stack("prod")


def test_the_deployer_runs_prod_and_only_the_preview_role_gets_an_entry_of_ours(prod: Run) -> None:
    mgmt = run_stack("mgmt")
    for run, cluster, preview in ((mgmt, "mgmt", MGMT_PREVIEW), (prod, "prod-us", PREVIEW), (prod, "prod-eu", PREVIEW)):
        (entry,) = entries_of(run, cluster).values()
        assert entry["principalArn"] == preview
        assert entry["accessPolicies"] == {
            "AmazonEKSViewPolicy": {
                "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                "accessScope": {"type": "cluster"},
            }
        }


def test_stagings_deployer_can_do_nothing_on_prods_clusters() -> None:
    # The seed's isolation: a compromised staging pipeline must not reach prod. The hub pulls
    # staging's registration (fleet:members), so staging's role needs nothing there.
    spec = load_fleet(raw_prod())
    for cluster in ("mgmt", "prod-us", "prod-eu"):
        assert identity.access_on(spec, STAGING_CI, cluster) is None


def test_fleet_members_must_be_stacks_of_this_project_joining_this_hub() -> None:
    from components.planning.checks import stack_fleet

    raw = raw_mgmt()
    raw["members"] = ["organization/fleet/staging", "organization/fleet/staging", "organization/fleet/dev", "acme/other/prod"]
    problems = checks_problems(lambda: stack_fleet(raw, "mgmt"))
    assert problems == [
        "fleet:members[1]: organization/fleet/staging is listed twice",
        "fleet:members[2]: organization/fleet/dev is not a stack of this project (no Pulumi.dev.yaml beside "
        "Pulumi.yaml); the hub reads its clusters' names and labels from its stack file",
        "fleet:members[3]: acme/other/prod is not a stack of this project (no Pulumi.prod.yaml beside "
        "Pulumi.yaml); the hub reads its clusters' names and labels from its stack file",
    ]


def test_a_member_that_does_not_join_or_clashes_by_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from components.config import hub_stack
    from components.planning.checks import stack_fleet

    project = tmp_path
    for name in ("Pulumi.yaml", "Pulumi.mgmt.yaml"):
        shutil.copy(ROOT / name, project / name)
    staging = (ROOT / "Pulumi.staging.yaml").read_text()
    # A staging cluster named like the hub's: Argo CD knows each cluster by cluster-<name>.
    (project / "Pulumi.staging.yaml").write_text(staging.replace("name: staging-us", "name: mgmt"))
    (project / "Pulumi.qa.yaml").write_text(staging.replace("  fleet:hub:\n    stack: organization/fleet/mgmt\n", ""))
    raw = raw_mgmt()
    raw["members"] = ["organization/fleet/staging", "organization/fleet/qa"]
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", project)
    problems = checks_problems(lambda: stack_fleet(raw, "mgmt"))
    assert problems == [
        "fleet:members[0]: stack staging's cluster mgmt has the name of a cluster of stack mgmt; "
        "Argo CD knows each cluster by one Secret, cluster-<name>",
        "fleet:members[1]: Pulumi.qa.yaml does not join this hub (its fleet:hub.stack must name stack mgmt) "
        "or does not read, so it grants the hub's Argo CD role nothing",
    ]


def test_members_need_an_argo_cd_hub_and_an_unlisted_joiner_is_named() -> None:
    from components.planning import preflight
    from components.planning.checks import stack_fleet

    raw = raw_mgmt()
    members_registered(raw)
    raw.pop("argocd")
    assert checks_problems(lambda: stack_fleet(raw, "mgmt")) == [
        "fleet:members: this stack runs no Argo CD hub to register members into (fleet:argocd and a cluster with role: hub)"
    ]
    # The reference mgmt lists no member yet (prod and staging must have deployed first): the preflight says so.
    warnings = preflight.run(stack_fleet(raw_mgmt(), "mgmt")).warnings
    for stack in ("prod", "staging"):
        unlisted = (
            f"fleet:members: stack {stack} joins this hub but is not listed, so its clusters are not registered in Argo CD "
            "(nor their peerings accepted)"
        )
        assert unlisted in warnings
    raw = raw_mgmt()
    members_registered(raw)
    assert not [w for w in preflight.run(stack_fleet(raw, "mgmt")).warnings if w.startswith("fleet:members")]


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
    monkeypatch.setattr(identity, "caller_problem", lambda spec, caller, stack, preview=False: None)
    admins = {"fleet:clusterAdmins": [AUDIT, HUMAN]}
    as_ci = run_stack("prod", mutate=lambda c: c.update(admins))
    as_human = run_stack("prod", mutate=lambda c: c.update(admins), caller_arn=session(HUMAN), creator_arn=session(CI))
    assert entries_of(as_human) == entries_of(as_ci)
    assert sorted(e["principalArn"] for e in entries_of(as_ci).values()) == sorted([AUDIT, HUMAN, PREVIEW])


def test_namespaced_levels_reach_pulumi_eks_as_scoped_associations() -> None:
    access = [{"principal": TEAM, "level": "edit", "namespaces": ["payments"]}, {"principal": AUDIT, "level": "view"}]
    run = run_stack("prod", mutate=lambda c: c.setdefault("fleet:access", []).extend(access))
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
    viewer = run_stack("prod", mutate=lambda c: c.setdefault("fleet:access", []).append({"principal": AUDIT, "level": "view"}))
    editor = run_stack("prod", mutate=lambda c: c.setdefault("fleet:access", []).append({"principal": AUDIT, "level": "edit"}))
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
        config["fleet:deployer"] = {**config["fleet:deployer"], "principal": NEW_CI, "creator": CI}

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
        config["fleet:deployer"] = {**config["fleet:deployer"], "principal": NEW_CI}

    run = run_stack("prod", mutate=careless, caller_arn=session(NEW_CI), creator_arn=session(CI))
    assert NEW_CI not in [e["principalArn"] for e in entries_of(run).values()]
    fixed = run_stack("prod", mutate=step2, caller_arn=session(NEW_CI), creator_arn=session(CI))
    assert NEW_CI in [e["principalArn"] for e in entries_of(fixed).values()]


# ---------------------------------------------------------------- the read-only preview role


def test_the_preview_role_may_preview_and_is_refused_an_up() -> None:
    previewed = run_stack("prod", caller_arn=session(PREVIEW), creator_arn=session(CI), preview=True)
    assert entries_of(previewed) == entries_of(run_stack("prod"))
    registered: list[str] = []
    with pytest.raises(ConfigError, match=r"fleet:deployer\.preview: .*may run `pulumi preview`, never `pulumi up`"):
        run_stack("prod", caller_arn=session(PREVIEW), creator_arn=session(CI), registrations_on_error=registered)
    assert all(name.startswith("aws-") for name in registered), registered


def test_a_preview_role_that_is_also_the_deployer_or_listed_is_refused() -> None:
    def edit(raw: dict[str, Any]) -> None:
        raw["deployer"] = {**raw["deployer"], "preview": CI}

    assert any(p.startswith("fleet:deployer") and "preview must be another role" in p for p in problems_after(edit))

    def listed(raw: dict[str, Any]) -> None:
        raw["access"] = [{"principal": PREVIEW, "level": "admin"}]

    (problem,) = problems_after(listed)
    assert problem.startswith("fleet:access[0].principal:")
    assert "fleet:deployer.preview" in problem


# ---------------------------------------------------------------- moving to pulled registration


def test_moving_to_pulled_registration_keeps_stagings_entry_and_moves_only_the_secret(prod: Run) -> None:
    # The graphs as the push design built them (tests/graph/pushed-registration), against today's.
    from offline.graph_lock import LOCK_DIR, differences, fingerprint

    # The hub then lived in prod's stack (pushed-registration/prod.json); it is mgmt's now.
    hub = run_stack("mgmt")
    staging = run_stack("staging", stack_outputs={"organization/fleet/mgmt": {"argocdHub": hub.exports["argocdHub"]}})
    # Step 2 of the runbook: the hub lists staging (placeholders stand in for staging's real endpoint).
    hub = run_stack("mgmt", mutate=staging_registered)
    before = {s: json.loads((LOCK_DIR / "pushed-registration" / f"{s}.json").read_text()) for s in ("prod", "staging")}
    staging_diff = differences(before["staging"], fingerprint(staging))
    # Staging's deploy (first: it still may write on the hub) deletes the Secret it wrote and the
    # provider it wrote it with; the hub role's entry on its cluster is untouched (no replace: EKS
    # refuses a second entry for one principal).
    assert [d.rsplit("::", 1)[-1] for d in staging_diff if d.startswith("removed resource")] == [
        "staging-us-argocd-cluster",
        "hub-k8s",
    ]
    # The hub role's entry is neither removed nor added here; its principal is mgmt's role now, since the
    # hub moved stacks (the mocks name roles as AWS does, prefix and suffix), which is a replacement
    # of that entry alone (test_transition.py::test_staging_moves_to_mgmts_hub_replacing_only_the_hub_roles_entry).
    moved = [d for d in staging_diff if "argocd-access" in d or "argocd-admin" in d]
    assert all(d.startswith("changed resource") for d in moved), moved
    # The hub's deploy then writes the Secret as itself and drops staging's grant on mgmt.
    hub_diff = differences(before["prod"], fingerprint(hub))
    assert [
        d.split("::fleet::", 1)[-1] for d in hub_diff if d.startswith("added resource") and "ArgoCd" in d and "staging" in d
    ] == [
        "fleet:index:ArgoCdPulledMember$kubernetes:core/v1:Secret::staging-us-argocd-cluster",
        "pulumi:pulumi:Stack$fleet:index:ArgoCdPulledMember::staging-us-argocd",
    ]
    assert not [d for d in hub_diff if d.startswith("removed resource") and "argocd" in d.lower() and "staging" in d]
    assert STAGING_CI not in json.dumps(entries_of(hub, "mgmt"))


# ---------------------------------------------------------------- the access evaluator (pure, every stack of the project)


def test_the_evaluator_isolates_staging_keeps_previews_read_only_and_lets_the_hub_reach_every_member() -> None:
    from components.config.hub_stack import project_stacks

    stacks = project_stacks(reference_project())
    grants = identity.fleet_access(stacks)
    clusters = {(name, c.name) for name, spec in stacks.items() for c in spec.clusters}
    # Staging's deploy role: only staging's own clusters.
    assert {(g.stack, g.cluster) for g in identity.grants_of(grants, "staging deployer")} == {("staging", "staging-us")}
    # Each preview role: view on its own stack's clusters, nothing that writes.
    # Prod's deploy role: only prod's own clusters, nothing on the hub.
    assert {(g.stack, g.cluster) for g in identity.grants_of(grants, "prod deployer")} == {
        ("prod", "prod-eu"),
        ("prod", "prod-us"),
    }
    for stack in ("mgmt", "prod", "staging"):
        previews = identity.grants_of(grants, f"{stack} preview")
        assert previews
        assert {g.stack for g in previews} == {stack}
        assert not [g for g in previews if g.writes]
    # The hub's Argo CD role: admin on every cluster but the hub (in-cluster there), staging's too.
    hub = identity.grants_of(grants, "mgmt Argo CD")
    assert {(g.stack, g.cluster) for g in hub} == clusters - {("mgmt", "mgmt")}
    assert all(g.level is AccessLevel.ADMIN for g in hub)


def test_the_evaluator_sees_a_grant_that_breaks_isolation() -> None:
    # What the program granted before pulled registration: staging's role editing argocd on mgmt.
    from components.config.hub_stack import project_stacks

    stacks = project_stacks(reference_project())
    mgmt = stacks["mgmt"].model_copy(
        update={
            "access": [AccessEntrySpec(principal=STAGING_CI, level=AccessLevel.EDIT, namespaces=["argocd"], clusters=["mgmt"])]
        }
    )
    grants = identity.grants_of(identity.fleet_access({**stacks, "mgmt": mgmt}), "staging deployer")
    assert [(g.cluster, g.level, g.namespaces) for g in grants if g.stack == "mgmt"] == [("mgmt", AccessLevel.EDIT, ("argocd",))]


def test_the_plan_prints_the_access_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    from plan.__main__ import main

    assert main(["prod", "--access"]) == 0
    text = capsys.readouterr().out
    assert "  staging deployer (arn:aws:iam::123456789012:role/fleet-deploy-staging)\n    staging/staging-us: admin" in text
    assert main(["prod", "--access", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["access"]
    assert {(r["stack"], r["cluster"]) for r in rows if r["identity"] == "staging deployer"} == {("staging", "staging-us")}
    assert {r["level"] for r in rows if r["identity"].endswith(" preview")} == {"view"}


# ---------------------------------------------------------------- fleet:account (a stack in its own account)

PROD_ACCOUNT = "210987654321"
PROD_ROLE = f"arn:aws:iam::{PROD_ACCOUNT}:role/fleet-deploy"
PROD_PREVIEW = f"arn:aws:iam::{PROD_ACCOUNT}:role/fleet-preview"


def in_own_account(config: dict[str, Any]) -> None:
    config["fleet:account"] = {"id": PROD_ACCOUNT, "roleArn": PROD_ROLE}
    config["fleet:deployer"] = {"principal": PROD_ROLE, "preview": PROD_PREVIEW}


def test_a_stack_in_its_own_account_assumes_its_role_and_refuses_any_other_account() -> None:
    run = run_stack("prod", mutate=in_own_account)
    providers = run.of_type("pulumi:providers:aws")
    assert providers
    for provider in providers:
        # Provider inputs reach the engine JSON-encoded.
        assert json.loads(provider.inputs["allowedAccountIds"]) == [PROD_ACCOUNT]
        assert [r["roleArn"] for r in json.loads(provider.inputs["assumeRoles"])] == [PROD_ROLE]
    # The Kubernetes providers get their tokens as that role (the clusters' creator).
    kubeconfig = run.named("prod-eu-k8s").inputs["kubeconfig"]
    assert PROD_ROLE in kubeconfig
    # A preview assumes the read-only role instead, the Kubernetes providers too.
    previewed = run_stack(
        "prod", mutate=in_own_account, caller_arn=session(PROD_PREVIEW), creator_arn=session(PROD_ROLE), preview=True
    )
    for provider in previewed.of_type("pulumi:providers:aws"):
        assert [r["roleArn"] for r in json.loads(provider.inputs["assumeRoles"])] == [PROD_PREVIEW]
    assert PROD_PREVIEW in previewed.named("prod-eu-k8s").inputs["kubeconfig"]


def test_an_account_role_elsewhere_or_a_deployer_other_than_it_is_refused() -> None:
    def elsewhere(raw: dict[str, Any]) -> None:
        raw["account"] = {"id": PROD_ACCOUNT, "roleArn": CI}

    assert any(p.startswith("fleet:account") and f"a role of account {PROD_ACCOUNT}" in p for p in problems_after(elsewhere))

    def other_deployer(raw: dict[str, Any]) -> None:
        raw["account"] = {"id": PROD_ACCOUNT, "roleArn": PROD_ROLE}
        raw["deployer"] = {"principal": CI}

    (problem,) = problems_after(other_deployer)
    assert problem.startswith("fleet:deployer.principal: the program acts in account 210987654321 as")


def test_a_joining_stack_in_another_account_names_the_hubs_owner_on_its_peering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from components.config import hub_stack
    from components.planning import interconnect
    from components.planning.checks import stack_fleet

    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")
    document = yaml.safe_load((ROOT / "Pulumi.mgmt.yaml").read_text())
    in_own_account(document["config"])
    document["config"]["fleet:interconnect"] = {"mode": "peering"}
    (tmp_path / "Pulumi.mgmt.yaml").write_text(yaml.safe_dump(document))
    monkeypatch.setattr(hub_stack, "PROJECT_DIR", tmp_path)
    staging = {k.removeprefix("fleet:"): v for k, v in stack_config("staging").items()}
    # Without its own account, staging cannot say whether the hub is elsewhere: refused.
    problems = checks_problems(lambda: stack_fleet(staging, "staging"))
    assert problems == [
        "fleet:account: the hub stack deploys into account 210987654321 (its fleet:account); declare this stack's "
        "account too, so its peering requests name the hub's owner when it is another account"
    ]
    staging["account"] = {"id": ACCOUNT, "roleArn": STAGING_CI}
    spec = stack_fleet(staging, "staging")
    assert interconnect.hub_owner(spec) == PROD_ACCOUNT
    hub_outputs = {
        # The hub's role in the hub's account (its fleet:account): what staging's checks accept.
        "argocdHub": {
            "cluster": "mgmt",
            "namespace": "argocd",
            "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/fleet-mgmt-argocd-hub-20261207000000000000000001",
            "egressIps": ["192.0.2.1"],
        },
        "interconnectHub": {"region": "us-east-1", "vpcId": "vpc-0a1b2c3d4e5f60718", "vpcCidr": "10.10.0.0/16"},
    }
    run = run_stack(
        "staging",
        mutate=lambda c: c.update({"fleet:account": staging["account"]}),
        stack_outputs={"organization/fleet/mgmt": hub_outputs},
    )
    assert run.named("staging-us-interconnect-peering").inputs["peerOwnerId"] == PROD_ACCOUNT
    staging["account"] = {"id": PROD_ACCOUNT, "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/fleet-deploy-staging"}
    staging["deployer"] = {"principal": staging["account"]["roleArn"]}
    assert interconnect.hub_owner(stack_fleet(staging, "staging")) is None  # the same account: no PeerOwnerId (ForceNew)


# ---------------------------------------------------------------- these settings edited on a running stack


def test_adding_a_preview_role_to_a_running_stack_only_adds_its_entries(prod: Run) -> None:
    def without_preview(config: dict[str, Any]) -> None:
        config["fleet:deployer"] = {"principal": CI}

    plan_ = transition(run_stack("prod", mutate=without_preview), prod)
    assert plan_.violations == [], [v.message for v in plan_.violations]
    assert sorted((c.action, c.name) for c in plan_.changes) == [
        ("update", "prod-eu-eks"),
        ("update", "prod-us-eks"),
    ]
    assert all(path.startswith("accessEntries.") for c in plan_.changes for path in c.changed)


def test_declaring_the_account_a_running_stack_is_in_replaces_nothing(prod: Run) -> None:
    # The same account, now explicit: the providers update (assume its role, refuse any other
    # account), the clusters' kubeconfig options update; no resource is replaced or deleted.
    def explicit(config: dict[str, Any]) -> None:
        config["fleet:account"] = {"id": ACCOUNT, "roleArn": CI}

    plan_ = transition(prod, run_stack("prod", mutate=explicit))
    assert plan_.violations == [], [v.message for v in plan_.violations]
    assert {(c.action, c.type) for c in plan_.changes} == {
        ("update", "pulumi:providers:aws"),
        ("update", "pulumi:providers:kubernetes"),
        ("update", "eks:index:Cluster"),
    }


# ---------------------------------------------------------------- beyond the program's entries


def test_access_shows_what_deploy_roles_reach_in_a_shared_account_and_who_holds_the_hub_role() -> None:
    from components.config.access import AccountSpec

    stacks = hub_stack.project_stacks(ROOT)
    reach = identity.indirect_reach(stacks)
    shared = {(r.identity, r.can) for r in reach if "shared account" in r.can}
    # The shipped stacks share one account: each deploy role can grant itself admin on the others.
    assert (
        "staging deployer",
        "admin on every cluster of prod (eks:CreateAccessEntry in the shared account 123456789012)",
    ) in shared
    assert (
        "prod deployer",
        "admin on every cluster of mgmt (eks:CreateAccessEntry in the shared account 123456789012)",
    ) in shared
    holders = {r.identity for r in reach if "as the hub's Argo CD role" in r.can}
    assert holders == {"mgmt deployer", "writers of https://github.com/myorg/gitops clusters/mgmt"}
    # An edit grant in argocd on the hub is a path to every member too.
    editor = "arn:aws:iam::123456789012:role/argocd-operators"
    mgmt = stacks["mgmt"].model_copy(
        update={"access": [AccessEntrySpec(principal=editor, level=AccessLevel.EDIT, namespaces=["argocd"])]}
    )
    holders = {r.identity for r in identity.indirect_reach({**stacks, "mgmt": mgmt}) if "Argo CD role" in r.can}
    assert editor in holders
    # The recommended layout: one account per stack. No deploy role reaches another stack's clusters.
    accounts = {"mgmt": "111111111111", "prod": "222222222222", "staging": "333333333333"}
    separated = {
        name: spec.model_copy(
            update={"account": AccountSpec(id=accounts[name], role_arn=f"arn:aws:iam::{accounts[name]}:role/fleet-deploy-{name}")}
        )
        for name, spec in stacks.items()
    }
    assert not [r for r in identity.indirect_reach(separated) if "shared account" in r.can]
