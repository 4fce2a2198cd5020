"""fleet:workloadIdentity (components/planning/workload_identity.py): EKS Pod Identity for the fleet's own
AWS-calling workloads, IRSA for fleets that still run it, and the step between."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.cluster import WorkloadIdentity
from components.config.errors import ConfigError
from components.planning import workload_identity as identity
from components.planning.iam_policies import argocd_hub_trust_policy, irsa_trust_policy
from offline.harness import Run, run_stack
from offline.transition import transition

POD = WorkloadIdentity.POD_IDENTITY
BOTH = WorkloadIdentity.BOTH
IRSA = WorkloadIdentity.IRSA
OIDC_ARN = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
OIDC_URL = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"


def _principals(policy: dict[str, Any]) -> list[Any]:
    return [s["Principal"] for s in policy["Statement"]]


def test_irsa_keeps_the_trust_a_running_fleet_has_and_pod_identity_pins_cluster_namespace_and_account() -> None:
    irsa = irsa_trust_policy(OIDC_ARN, OIDC_URL, "kube-system", "cluster-autoscaler")
    assert identity.trust_policy(IRSA, "prod-us", "kube-system", ("cluster-autoscaler",), irsa) == irsa
    pod = identity.trust_policy(POD, "prod-us", "kube-system", ("cluster-autoscaler",), None)
    (statement,) = pod["Statement"]
    # EKS user guide, pod-id-role: the service principal, AssumeRole and TagSession.
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    # pod-id-abac: the session tags EKS sets, so no other cluster, namespace or account can use the role.
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-name": "prod-us",
            "aws:RequestTag/kubernetes-namespace": "kube-system",
            "aws:RequestTag/kubernetes-service-account": "cluster-autoscaler",
        }
    }
    both = identity.trust_policy(BOTH, "prod-us", "kube-system", ("cluster-autoscaler",), irsa)
    assert _principals(both) == [{"Federated": OIDC_ARN}, {"Service": "pods.eks.amazonaws.com"}]


def test_the_hub_roles_trust_names_argo_cds_three_accounts_in_either_mode() -> None:
    accounts = ("argocd-application-controller", "argocd-applicationset-controller", "argocd-server")
    irsa = argocd_hub_trust_policy(OIDC_ARN, OIDC_URL, "argocd", accounts)
    both = identity.trust_policy(BOTH, "mgmt", "argocd", accounts, irsa)
    assert both["Statement"][0] == irsa["Statement"][0]
    assert both["Statement"][1]["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == sorted(accounts)


@pytest.mark.parametrize(
    ("running", "wanted", "refused"),
    [
        (IRSA, POD, True),
        (POD, IRSA, True),
        (IRSA, BOTH, False),
        (BOTH, POD, False),
        (POD, BOTH, False),
        # Back to IRSA: the pods would restart while the associations still exist, get Pod Identity's
        # credentials alone, and lose them when the associations go (Pulumi deletes last).
        (BOTH, IRSA, True),
        (POD, POD, False),
    ],
)
def test_a_running_cluster_moves_one_step_at_a_time(running: WorkloadIdentity, wanted: WorkloadIdentity, refused: bool) -> None:
    problems = identity.transition_problems(wanted, {"prod-us": running})
    assert bool(problems) is refused
    if refused:
        assert "fleet:workloadIdentity: prod-us runs with" in problems[0]
        assert "deploy with both first" in problems[0]


def test_a_cluster_without_the_tag_was_deployed_with_irsa() -> None:
    assert identity.running_mode(None) is IRSA
    assert identity.running_mode({"fleet-workload-identity": "podIdentity"}) is POD
    assert identity.running_mode({"fleet-workload-identity": "nonsense"}) is IRSA


def _set(mode: WorkloadIdentity) -> Any:
    return lambda config: config.__setitem__("fleet:workloadIdentity", mode.value)


@pytest.fixture(scope="module")
def pod() -> Run:
    return run_stack("mgmt")


def test_by_default_no_cluster_has_an_oidc_provider_and_every_workload_has_an_association(pod: Run) -> None:
    eks = pod.named("mgmt-eks")
    assert eks.inputs["createOidcProvider"] is False
    assert eks.inputs["clusterTags"] == {"fleet-workload-identity": "podIdentity"}
    bound = {(r.inputs["namespace"], r.inputs["serviceAccount"]) for r in pod.of_type(ASSOCIATION)}
    assert {
        ("kube-system", "cluster-autoscaler"),
        ("argocd", "argocd-application-controller"),
        ("argocd", "argocd-applicationset-controller"),
        ("argocd", "argocd-server"),
    } <= bound
    agent = next(r for r in pod.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "eks-pod-identity-agent")
    assert agent.inputs["clusterName"] == "mgmt"
    ebs = next(r for r in pod.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "aws-ebs-csi-driver")
    assert [a["serviceAccount"] for a in ebs.inputs["podIdentityAssociations"]] == ["ebs-csi-controller-sa"]
    # Kept: EKS ignores it once the agent runs, and an update that drops it sends an empty one, refused.
    assert ebs.inputs["serviceAccountRoleArn"] == ebs.inputs["podIdentityAssociations"][0]["roleArn"]
    assert agent.urn in pod.depends_on(ebs)
    # Each association waits for its cluster (it names it), well before the workloads' pods start.
    for association in pod.of_type(ASSOCIATION):
        assert pod.named("mgmt-eks").urn in pod.transitive_dependencies(association), association.name
    # Each role is the one its association names, and trusts Pod Identity only.
    roles = {r.outputs["arn"]: r for r in pod.of_type("aws:iam/role:Role")}
    for association in pod.of_type(ASSOCIATION):
        trust = json.loads(roles[association.inputs["roleArn"]].inputs["assumeRolePolicy"])
        assert _principals(trust) == [{"Service": "pods.eks.amazonaws.com"}]


@pytest.mark.parametrize(
    ("stack", "name"), [("prod", "prod-us-edge-lbc"), ("mgmt", "mgmt-addons-autoscaler"), ("mgmt", "argocd-chart")]
)
def test_the_charts_get_no_role_annotation_and_start_after_their_association(stack: str, name: str) -> None:
    run = run_stack(stack)
    release = run.named(name)
    text = json.dumps(release.inputs["values"])
    assert "eks.amazonaws.com/role-arn" not in text
    assert '"fleet/workload-identity": "podIdentity"' in text
    # EKS injects the credentials only into pods started once an association exists.
    waits = run.transitive_dependencies(release)
    assert any(run.registrations[u].type == ASSOCIATION for u in waits)


def test_irsa_mode_is_the_fleet_as_it_ran_before_the_setting() -> None:
    run = run_stack("mgmt", _set(IRSA), running_tags={"mgmt": {}}, running={"mgmt": "1.35"})
    assert run.named("mgmt-eks").inputs["createOidcProvider"] is True
    assert not run.of_type(ASSOCIATION)
    assert not [r for r in run.of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "eks-pod-identity-agent"]
    values = run.named("mgmt-addons-autoscaler").inputs["values"]
    assert set(values["rbac"]["serviceAccount"]["annotations"]) == {"eks.amazonaws.com/role-arn"}
    assert "podAnnotations" not in values


def test_a_running_irsa_cluster_is_not_moved_to_pod_identity_in_one_deploy() -> None:
    registered: list[str] = []
    with pytest.raises(ConfigError, match=r"fleet:workloadIdentity: mgmt runs with irsa .* deploy with both first"):
        run_stack("mgmt", running={"mgmt": "1.35"}, running_tags={"mgmt": {}}, registrations_on_error=registered)
    assert not [n for n in registered if not n.startswith("aws-")], registered


def test_moving_a_running_fleet_through_both_replaces_nothing_and_keeps_a_trust_for_every_running_pod() -> None:
    before = run_stack("mgmt", _set(IRSA), running_tags={"mgmt": {}}, running={"mgmt": "1.35"})
    middle = run_stack("mgmt", _set(BOTH), running_tags={"mgmt": {}}, running={"mgmt": "1.35"})
    after = run_stack("mgmt", running_tags={"mgmt": {"fleet-workload-identity": "both"}}, running={"mgmt": "1.35"})
    for old, new in ((before, middle), (middle, after)):
        plan = transition(old, new)
        actions = plan.by_action()
        assert not actions["replace"], [c.name for c in actions["replace"]]
        assert not actions["delete"], [c.name for c in actions["delete"]]
    # In the middle, each role admits both: pods still on IRSA and pods restarted onto Pod Identity.
    for role in middle.of_type("aws:iam/role:Role"):
        trust = json.loads(role.inputs["assumeRolePolicy"])
        if any("Federated" in p for p in _principals(trust)):
            assert {"Service": "pods.eks.amazonaws.com"} in _principals(trust), role.name
    # The OIDC provider survives the middle step, unprotected so the last step can delete it.
    assert middle.named("mgmt-eks").inputs["createOidcProvider"] is True
    assert after.named("mgmt-eks").inputs["createOidcProvider"] is False
    # The pods restart on each step (their annotation names the mode).
    assert middle.named("mgmt-addons-autoscaler").inputs["values"]["podAnnotations"] == {"fleet/workload-identity": "both"}


@pytest.mark.parametrize(("mode", "providers"), [(POD, 0), (BOTH, 3), (IRSA, 3)])
def test_the_preflight_counts_oidc_providers_only_while_irsa_is_in_use(mode: WorkloadIdentity, providers: int) -> None:
    from components.planning import preflight
    from components.planning.checks import load_fleet
    from offline.harness import stack_config

    raw = {key.removeprefix("fleet:"): value for key, value in stack_config("fleet").items()}
    raw["workloadIdentity"] = mode.value
    checked = preflight.run(load_fleet(raw))
    counted = sum(q.needed for q in checked.quotas if q.quota.key == "iamOidcProviders")
    assert counted == providers


@pytest.mark.parametrize(
    ("release", "kind", "account"),
    [
        ("prod-us-addons-autoscaler", "Deployment", "cluster-autoscaler"),
        ("prod-us-edge-lbc", "Deployment", "aws-load-balancer-controller"),
    ],
)
def test_the_pinned_charts_render_the_mode_on_the_pods_and_no_role_on_the_account(release: str, kind: str, account: str) -> None:
    """What the charts' templates do with the values: the pods carry the mode (a change of mode rolls them,
    and EKS injects the credentials of the new one as they start); the account carries no IRSA role."""
    from offline import charts
    from tests.charts_under_test import release_of

    run = run_stack("prod")
    objects = charts.render(release_of(run, run.named(release)))
    (workload,) = [o for o in objects if o["kind"] == kind]
    assert workload["spec"]["template"]["metadata"]["annotations"]["fleet/workload-identity"] == "podIdentity"
    assert workload["spec"]["template"]["spec"]["serviceAccountName"] == account
    (service_account,) = [o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == account]
    assert "eks.amazonaws.com/role-arn" not in (service_account["metadata"].get("annotations") or {})
