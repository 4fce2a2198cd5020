"""What Argo CD's argocd-k8s-auth does with a cluster Secret, and what IAM and EKS answer.

For a Secret whose config has ``awsAuthConfig`` Argo CD runs ``argocd-k8s-auth aws --cluster-name
<clusterName> [--role-arn <roleARN>]`` in the application controller's pod. Without a role ARN it
presigns sts:GetCallerIdentity with the pod's own credentials (its ServiceAccount's Pod Identity
association, or IRSA's annotated role); with one it first calls sts:AssumeRole on it, which IAM allows only when the
role's trust policy admits the caller and, where the trust names the account root, the caller's
identity policy allows the call too. EKS then maps the presented role to an access entry.
"""

from __future__ import annotations

import json
from typing import Any

from offline.harness import Run

CONTROLLER_SERVICE_ACCOUNT = "controller"


def pod_role(run: Run) -> str:
    """The role the application controller's pod runs as: its ServiceAccount's Pod Identity association
    (EKS's webhook prefers it to an IRSA annotation), else the IRSA annotation."""
    for association in run.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation"):
        if (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("argocd", "argocd-application-controller"):
            return str(association.inputs["roleArn"])
    values = run.named("argocd-chart").inputs["values"]
    return str(values[CONTROLLER_SERVICE_ACCOUNT]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"])


def _role_by_arn(run: Run, arn: str) -> Any:
    return next((r for r in run.of_type("aws:iam/role:Role") if r.outputs.get("arn") == arn), None)


def _may_assume(run: Run, caller: str, target: str) -> str | None:
    role = _role_by_arn(run, target)
    if role is None:
        return f"no role {target}"
    account_root = target.split(":role/")[0] + ":root"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    delegates_to_identity_policy = False
    for statement in trust["Statement"]:
        if statement["Effect"] != "Allow" or "sts:AssumeRole" not in statement["Action"]:
            continue
        principal = statement.get("Principal", {}).get("AWS")
        if principal == caller:
            return None
        if principal == account_root:
            delegates_to_identity_policy = True
    if not delegates_to_identity_policy:
        return f"AccessDenied: the trust policy of {target} does not name {caller}"
    caller_role = _role_by_arn(run, caller)
    allowed = [
        statement
        for policy in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if caller_role is not None and policy.inputs["role"] in (caller_role.id, caller_role.outputs.get("name"))
        for statement in json.loads(policy.inputs["policy"])["Statement"]
        if "sts:AssumeRole" in statement["Action"] and target in (statement["Resource"], "*")
    ]
    return None if allowed else f"AccessDenied: no identity policy of {caller} allows sts:AssumeRole on {target}"


def presented_principal(run: Run, secret_config: str) -> tuple[str | None, str]:
    """(the IAM role EKS sees, or None; why not)."""
    config = json.loads(secret_config)
    aws_auth = config.get("awsAuthConfig")
    if aws_auth is None:
        return None, "no awsAuthConfig: Argo CD would need a bearer token"
    caller = pod_role(run)
    target = aws_auth.get("roleARN")
    if not target:
        return caller, ""
    if problem := _may_assume(run, caller, target):
        return None, problem
    return target, ""


def eks_admits(run: Run, cluster: str, principal: str) -> bool:
    """Whether ``cluster`` has an access entry for ``principal`` with a cluster-wide policy association."""
    entries = [
        r
        for r in run.of_type("aws:eks/accessEntry:AccessEntry")
        if r.inputs["clusterName"] == cluster and r.inputs["principalArn"] == principal
    ]
    associations = [
        r
        for r in run.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if r.inputs["clusterName"] == cluster and r.inputs["principalArn"] == principal
    ]
    return bool(entries and associations)
