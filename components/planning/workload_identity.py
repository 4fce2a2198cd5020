"""How the fleet's own AWS-calling workloads get their IAM roles (fleet:workloadIdentity), as pure data.

The workloads: the AWS Load Balancer Controller, cluster-autoscaler, the EBS CSI driver (an EKS add-on)
and Argo CD on the hub. Why EKS Pod Identity: IRSA needs one IAM OIDC provider per cluster, and an
account holds 100 by default (EKS user guide, "IAM roles for service accounts", the comparison with
Pod Identity). A hundred clusters in one account is that limit; Pod Identity needs none, and a role's
trust names no cluster's issuer, so adding a cluster changes no shared role.

What AWS does with it (EKS user guide, "Learn how EKS Pod Identity grants pods access to AWS services",
pod-id-how-it-works, pod-id-role, pod-id-agent-setup, pod-id-association, pod-id-abac):

- The ``eks-pod-identity-agent`` add-on runs on every node and serves the credentials; it uses the
  node role, whose AmazonEKSWorkerNodePolicy grants eks-auth:AssumeRoleForPodIdentity.
- A role is trusted by the service principal ``pods.eks.amazonaws.com`` for ``sts:AssumeRole`` and
  ``sts:TagSession``. EKS tags each session (eks-cluster-name, kubernetes-namespace,
  kubernetes-service-account), so the trust pins the cluster, namespace and service account as IRSA's
  pinned sub and aud did; the cluster by its ARN (eks-cluster-arn) as well as its name.
- An association (cluster, namespace, service account -> role) may precede its service account. EKS
  injects the credentials only into pods it starts: running pods keep what they had until restarted.
  When a service account has an association, EKS's webhook injects the Pod Identity variables only,
  even if the account still carries an IRSA role annotation (aws/amazon-eks-pod-identity-webhook,
  handler.go, buildPodPatchConfig: "Container credentials method takes precedence").
- The EBS CSI add-on takes its association as the add-on's own (podIdentityAssociations; from
  v1.26.0-eksbuild.1); an add-on cannot adopt a standalone association for its account.

So a running fleet moves through ``both``: the agent, associations and a trust that admits both, the
pods rolled (their pod annotation names the mode); then ``podIdentity``, which drops the IRSA statement
and the OIDC provider. Going straight from ``irsa`` to ``podIdentity`` would drop the trust running
pods assume with before anything restarts them: refused (``transition_problems``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.cluster import WorkloadIdentity
from ..config.errors import config_path

AGENT_ADDON = "eks-pod-identity-agent"
POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
MODE_TAG = "fleet-workload-identity"
"""On every EKS cluster: the mode it runs with, read back by the next deploy (DescribeCluster's tags).
A running cluster without it was deployed before the setting existed, with IRSA."""
POD_ANNOTATION = "fleet/workload-identity"
"""On the workloads' pods: a change of mode changes their template, so they restart and EKS injects
the credentials of the new mode."""
# Moves the program makes in one deploy: one step at a time, each side admitting what runs.
# Not both -> irsa: the pods restart while the associations still exist (Pulumi deletes last), so EKS
# hands them Pod Identity credentials alone, and the associations go a moment later. ``both`` is a
# state a fleet can stay in.
ALLOWED_MOVES = {
    (WorkloadIdentity.IRSA, WorkloadIdentity.BOTH),
    (WorkloadIdentity.BOTH, WorkloadIdentity.POD_IDENTITY),
    (WorkloadIdentity.POD_IDENTITY, WorkloadIdentity.BOTH),
}


def uses_irsa(mode: WorkloadIdentity) -> bool:
    return mode is not WorkloadIdentity.POD_IDENTITY


def uses_pod_identity(mode: WorkloadIdentity) -> bool:
    return mode is not WorkloadIdentity.IRSA


def trust_policy(
    mode: WorkloadIdentity,
    cluster: str,
    namespace: str,
    service_accounts: tuple[str, ...],
    irsa: dict[str, Any] | None,
    cluster_arn: str | None = None,
) -> dict[str, Any]:
    """A workload role's trust: the named service accounts of one cluster, through IRSA (``irsa``: the
    role's IRSA policy, sub and aud pinned, kept as it always was), Pod Identity (the session tags
    pinned), or both."""
    statements: list[dict[str, Any]] = []
    if uses_irsa(mode):
        assert irsa is not None, "IRSA trusts the cluster's OIDC provider"
        statements += irsa["Statement"]
    if uses_pod_identity(mode):
        accounts = sorted(service_accounts)
        statements.append(
            {
                "Sid": "PodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        # The ARN too: a cluster of the same name in another region of the account is another.
                        **({"aws:RequestTag/eks-cluster-arn": cluster_arn} if cluster_arn else {}),
                        "aws:RequestTag/eks-cluster-name": cluster,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": accounts[0] if len(accounts) == 1 else accounts,
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def service_account_annotations(mode: WorkloadIdentity, role_arn: Any) -> dict[str, Any]:
    """The IRSA role annotation while IRSA is in use; none under Pod Identity alone."""
    return {ROLE_ARN_ANNOTATION: role_arn} if uses_irsa(mode) else {}


def pod_annotations(mode: WorkloadIdentity) -> dict[str, str]:
    """Names the mode on the pods: moving to or from IRSA changes their template, so they restart. None under
    IRSA alone, which the workloads ran with before the setting existed: their pods stay as they are."""
    return {POD_ANNOTATION: mode.value} if mode is not WorkloadIdentity.IRSA else {}


def running_mode(tags: Mapping[str, str] | None) -> WorkloadIdentity:
    """The mode a running cluster was deployed with (its tag; none: before the setting, IRSA)."""
    value = (tags or {}).get(MODE_TAG)
    try:
        return WorkloadIdentity(value) if value else WorkloadIdentity.IRSA
    except ValueError:
        return WorkloadIdentity.IRSA


def transition_problems(mode: WorkloadIdentity, running: Mapping[str, WorkloadIdentity]) -> list[str]:
    """Each running cluster whose mode cannot move to ``mode`` in one deploy."""
    problems = []
    for cluster, current in sorted(running.items()):
        if current is mode or (current, mode) in ALLOWED_MOVES:
            continue
        problems.append(
            f"{config_path(('workloadIdentity',))}: {cluster} runs with {current.value} (its {MODE_TAG} tag; none: irsa); "
            f"{mode.value} in one deploy would drop the trust its running pods use before they restart: deploy with "
            f"{WorkloadIdentity.BOTH.value} first, then {mode.value} (docs/runbooks.md, 'Move to EKS Pod Identity')"
        )
    return problems
