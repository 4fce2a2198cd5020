"""Argo CD objects as pure data: cluster registrations, ApplicationSets, the root app, chart values.

Nothing here creates resources. ``generated_applications`` does what Argo CD's cluster generator
will do with the registered clusters, so a preview can show which Applications an ApplicationSet
yields before anything is deployed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..config.gitops import NAMESPACE as NAMESPACE
from ..config.model import (
    ApplicationSetSpec,
    ArgoCdSpec,
    ArgoCdSsoSpec,
    ClusterSpec,
    FleetSpec,
    GitRepoSpec,
    RootAppSpec,
    WorkloadIdentity,
)
from . import workload_identity

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
# The service accounts of the chart's components that talk to member clusters.
HUB_SERVICE_ACCOUNTS = ("argocd-application-controller", "argocd-applicationset-controller", "argocd-server")
FLEET_LABELS = ("fleet/name", "fleet/region", "fleet/role", "fleet/stack")
MANAGED_BY_LABEL = ("app.kubernetes.io/managed-by", "pulumi-fleet")

_PARAMETER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SIMPLE_PARAMETERS = ("name", "nameNormalized", "server")
_MAP_PARAMETERS = ("metadata.labels.", "metadata.annotations.")


@dataclass(frozen=True)
class RegisteredCluster:
    """What the cluster generator knows of one registered cluster."""

    name: str
    server: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)

    def parameters(self) -> dict[str, str]:
        params = {"name": self.name, "nameNormalized": _normalized(self.name), "server": self.server}
        params |= {f"metadata.labels.{k}": v for k, v in self.labels.items()}
        params |= {f"metadata.annotations.{k}": v for k, v in self.annotations.items()}
        return params


@dataclass(frozen=True)
class GeneratedApplication:
    name: str
    cluster: str
    path: str
    namespace: str


def _normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9-.]", "-", name.lower())


def template_parameters(text: str) -> list[str]:
    """The ``{{...}}`` parameters a template string uses, in order."""
    return _PARAMETER.findall(text)


def unknown_parameters(text: str) -> list[str]:
    """Parameters the cluster generator does not provide (name, nameNormalized, server, metadata.labels/annotations.<key>)."""
    return [
        p
        for p in template_parameters(text)
        if p not in _SIMPLE_PARAMETERS and not any(p.startswith(prefix) and len(p) > len(prefix) for prefix in _MAP_PARAMETERS)
    ]


def render(text: str, parameters: Mapping[str, str]) -> str:
    """Fill a template the way Argo CD's default (fasttemplate) mode does; unknown parameters stay as written."""
    return _PARAMETER.sub(lambda m: parameters.get(m.group(1), m.group(0)), text)


def cluster_labels(cluster: ClusterSpec, stack: str) -> dict[str, str]:
    """Labels of a cluster's registration Secret: its config labels plus the fleet's own."""
    return {
        **cluster.labels,
        "fleet/name": cluster.name,
        "fleet/region": cluster.region,
        "fleet/role": cluster.role,
        "fleet/stack": stack,
    }


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def generated_applications(application_set: ApplicationSetSpec, clusters: list[RegisteredCluster]) -> list[GeneratedApplication]:
    """The Applications the set's cluster generator yields for these clusters, sorted by name."""
    apps = []
    for cluster in clusters:
        if not selects(application_set.selector, cluster.labels):
            continue
        params = cluster.parameters()
        apps.append(
            GeneratedApplication(
                name=render(application_name_template(application_set), params),
                cluster=cluster.name,
                path=render(application_set.path, params),
                namespace=render(application_set.namespace, params),
            )
        )
    return sorted(apps, key=lambda a: a.name)


def application_name_template(application_set: ApplicationSetSpec) -> str:
    return f"{application_set.name}-{{{{name}}}}"


def cluster_secret_config(eks_name: str, ca_data: str) -> str:
    """The ``config`` of an EKS cluster Secret: IAM authentication and the cluster's CA, never a bearer token.

    No ``roleARN``: argocd-k8s-auth then signs its token request with the pod's own IRSA
    credentials (the hub role), which is the principal of each member's access entry. With a
    roleARN it would first call sts:AssumeRole on it, which a role may not do on itself
    unless its trust and identity policies both allow it.
    """
    return json.dumps(
        {
            "awsAuthConfig": {"clusterName": eks_name},
            "tlsClientConfig": {"insecure": False, "caData": ca_data},
        },
        sort_keys=True,
    )


# What a member stack (fleet:hub) exports for the hub stack to register its clusters: per cluster,
# {"server", "caData", "arn"}, under "clusters". The hub reads it by StackReference (read access to the
# member's state, no AWS or Kubernetes rights), its names and labels from the member's stack file.
REGISTRATION_OUTPUT = "argocdRegistration"
# Moving a member from writing its own Secret to the hub pulling it: pulumi-kubernetes >= 4.29 (pinned
# 4.34.2) creates objects with a client-side create, so the hub's create of a cluster-<name> Secret the
# member still owns fails with AlreadyExists (pulumi-kubernetes#2926, "Use client-side create for new
# resources"). The member deploys first and deletes its Secret; until it has, it exports no
# registration and the hub stops at its preview (pulled_cluster).


class RegistrationError(Exception):
    """A member stack's registration output is missing or lacks a cluster the hub expects."""


@dataclass(frozen=True)
class PulledCluster:
    """One cluster of a member stack, as its registration output describes it."""

    server: str
    ca_data: str
    arn: str


@dataclass(frozen=True)
class PulledLinkEnd:
    """A member cluster's end of its peering with the hub, as its registration output describes it."""

    server: str
    peering_connection_id: str
    resolver_ips: tuple[str, ...]
    """Its inbound resolver endpoint's addresses (empty when names are not forwarded)."""


def registration_export(clusters: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The member stack's registration output, from each cluster's server, caData and arn, and, when
    it peers with the hub, its ``interconnect`` end (peeringConnectionId, resolverIps)."""
    return {"clusters": {name: dict(clusters[name]) for name in sorted(clusters)}}


def pulled_link(exported: Any, member_stack: str, cluster: str) -> PulledLinkEnd:
    """``cluster``'s peering end in the registration ``member_stack`` exports; RegistrationError when absent."""
    server = pulled_cluster(exported, member_stack, cluster).server
    link = exported["clusters"][cluster].get("interconnect")
    if not isinstance(link, Mapping) or not isinstance(link.get("peeringConnectionId"), str):
        raise RegistrationError(
            f"stack {member_stack} exports no peering for cluster {cluster} in {REGISTRATION_OUTPUT}: deploy "
            f"{member_stack} first (its deploy also removes the hub-side routes and DNS rules it used to create), "
            "then this stack (python -m deploy.order)"
        )
    ips = link.get("resolverIps") or []
    return PulledLinkEnd(server, str(link["peeringConnectionId"]), tuple(sorted(str(ip) for ip in ips)))


def pulled_cluster(exported: Any, member_stack: str, cluster: str) -> PulledCluster:
    """``cluster`` of the registration ``member_stack`` exports; RegistrationError saying what to deploy when absent."""
    clusters = exported.get("clusters") if isinstance(exported, Mapping) else None
    entry = clusters.get(cluster) if isinstance(clusters, Mapping) else None
    if not isinstance(entry, Mapping) or not all(isinstance(entry.get(k), str) for k in ("server", "caData", "arn")):
        raise RegistrationError(
            f"stack {member_stack} exports no {REGISTRATION_OUTPUT} for cluster {cluster}: deploy {member_stack} first "
            "(its deploy also removes a cluster Secret it used to write on the hub), then this stack "
            "(python -m deploy.order)"
        )
    return PulledCluster(str(entry["server"]), str(entry["caData"]), str(entry["arn"]))


def unlisted_members(spec: FleetSpec) -> list[str]:
    """Stacks of this project joining this hub that fleet:members does not list: not registered in Argo CD."""
    if spec.gitops is None or spec.hub is None:
        return []
    listed = {reference.rsplit("/", 1)[-1] for reference in spec.members}
    return sorted(name for name in spec.joining_stacks if name not in listed)


IN_CLUSTER_CONFIG = json.dumps({"tlsClientConfig": {"insecure": False}}, sort_keys=True)


def application_set_manifest(application_set: ApplicationSetSpec, repo: GitRepoSpec) -> dict[str, Any]:
    """An ApplicationSet with a cluster generator: one Application per selected cluster."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {
            "name": application_set.name,
            "namespace": NAMESPACE,
            "labels": {MANAGED_BY_LABEL[0]: MANAGED_BY_LABEL[1]},
        },
        "spec": {
            "generators": [{"clusters": {"selector": {"matchLabels": dict(sorted(application_set.selector.items()))}}}],
            "template": {
                "metadata": {
                    "name": application_name_template(application_set),
                    "labels": {"fleet/application-set": application_set.name},
                },
                "spec": {
                    "project": application_set.project,
                    "source": {
                        "repoURL": repo.url,
                        "targetRevision": application_set.revision or repo.revision,
                        "path": application_set.path,
                    },
                    "destination": {"server": "{{server}}", "namespace": application_set.namespace},
                    "syncPolicy": {
                        "automated": {"prune": application_set.prune, "selfHeal": application_set.self_heal},
                        "syncOptions": ["CreateNamespace=true"],
                    },
                },
            },
            # Deleting the set (or a cluster's registration) removes its Applications but leaves
            # the workloads running: an accidental removal must not become an outage.
            "syncPolicy": {"preserveResourcesOnDeletion": True},
        },
    }


def application_manifest(application_set: ApplicationSetSpec, repo: GitRepoSpec, cluster: RegisteredCluster) -> dict[str, Any]:
    """The Application the set's controller generates for ``cluster``: its template with the cluster
    generator's parameters filled in (fasttemplate mode renders every string field)."""
    template = application_set_manifest(application_set, repo)["spec"]["template"]

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            return render(value, cluster.parameters())
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        if isinstance(value, list):
            return [filled(v) for v in value]
        return value

    rendered = filled(template)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {**rendered["metadata"], "namespace": NAMESPACE},
        "spec": rendered["spec"],
    }


def root_application_manifest(root: RootAppSpec, repo: GitRepoSpec) -> dict[str, Any]:
    """The app-of-apps: the hub syncs its own Argo CD manifests from ``root.path``."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": root.name, "namespace": NAMESPACE, "labels": {MANAGED_BY_LABEL[0]: MANAGED_BY_LABEL[1]}},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo.url, "targetRevision": repo.revision, "path": root.path},
            "destination": {"server": IN_CLUSTER_SERVER, "namespace": NAMESPACE},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def repository_secret_data(repo: GitRepoSpec) -> dict[str, str]:
    """stringData of the repository Secret (credentials included: the caller keeps it secret)."""
    data = {"type": "git", "url": repo.url}
    if repo.credentials is not None:
        secret = repo.credentials.get_secret_value()
        if repo.is_ssh:
            data["sshPrivateKey"] = secret
        else:
            # Git hosts accept a token as the password of any non-empty user name.
            data |= {"username": "git", "password": secret.strip()}
    return data


OIDC_SCOPES = ("openid", "profile", "email", "groups")


def oidc_config(sso: ArgoCdSsoSpec) -> str:
    """argocd-cm ``oidc.config``: Argo CD talks to the provider itself (no Dex); the secret stays in argocd-secret."""
    return json.dumps(
        {
            "name": "SSO",
            "issuer": sso.issuer,
            "clientID": sso.client_id,
            "clientSecret": "$oidc.clientSecret",
            "requestedScopes": list(OIDC_SCOPES),
        },
        sort_keys=True,
    )


def rbac_policy_csv(sso: ArgoCdSsoSpec | None) -> str:
    """Admin groups of the identity provider get role:admin; everyone else keeps policy.default (read-only)."""
    groups = sorted(set(sso.admin_groups)) if sso is not None else []
    return "".join(f"g, {group}, role:admin\n" for group in groups)


def argocd_values(
    config: ArgoCdSpec, role_arn: Any, admin_password_hash: Any | None, mode: WorkloadIdentity = WorkloadIdentity.IRSA
) -> dict[str, Any]:
    """argo-cd chart values: HA when asked, no internet exposure, admin off (or a hashed password), read-only by default.

    Dex is off (SSO, when configured, is Argo CD's own OIDC client) and so is the notifications
    controller unless asked for: with neither admin nor SSO, people reach Argo CD through their
    kubeconfig (``argocd --core``), and nothing runs that nobody can use.
    """
    # The hub role: IRSA's annotation, or Pod Identity's associations (planning/workload_identity.py);
    # a change of mode restarts the pods, which get the new mode's credentials as they start.
    account = {"annotations": workload_identity.service_account_annotations(mode, role_arn)}
    pods = {"podAnnotations": annotations} if (annotations := workload_identity.pod_annotations(mode)) else {}
    replicas = 2 if config.ha else 1
    cm: dict[str, Any] = {"admin.enabled": config.admin.enabled, "exec.enabled": False}
    rbac: dict[str, Any] = {"policy.default": "role:readonly"}
    secret: dict[str, Any] = {}
    domain: dict[str, Any] = {}
    if config.sso is not None:
        # argocd-cm passes every configs.cm key through; its url comes from global.domain.
        cm["oidc.config"] = oidc_config(config.sso)
        domain = {"global": {"domain": urlsplit(config.url or "").netloc}}
        rbac["policy.csv"] = rbac_policy_csv(config.sso)
        rbac["scopes"] = "[groups]"
        secret["extra"] = {"oidc.clientSecret": config.sso.client_secret.get_secret_value()}
    values: dict[str, Any] = {
        "configs": {"cm": cm, "rbac": rbac},
        **domain,
        "dex": {"enabled": False},
        "notifications": {"enabled": config.notifications},
        # More than one controller replica shards the registered clusters between them.
        "controller": {"replicas": replicas, "serviceAccount": account, **pods},
        "server": {
            "replicas": replicas,
            "serviceAccount": account,
            **pods,
            "service": {"type": "LoadBalancer" if config.expose_server else "ClusterIP"},
        },
        "repoServer": {"replicas": replicas},
        "applicationSet": {"replicas": replicas, "serviceAccount": account, **pods},
        # With redis-ha on, the chart ignores redis.enabled (its template checks both): set it only without.
        "redis-ha": {"enabled": config.ha},
        **({} if config.ha else {"redis": {"enabled": True}}),
    }
    if admin_password_hash is not None:
        secret["argocdServerAdminPassword"] = admin_password_hash
    if secret:
        values["configs"]["secret"] = secret
    return values


def values_carry_credentials(config: ArgoCdSpec) -> bool:
    """Whether the chart values hold something secret (the admin password hash, the OIDC client secret)."""
    return config.admin.enabled or config.sso is not None
