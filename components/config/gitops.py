"""The GitOps hub (fleet:argocd): Argo CD's chart, access, repository, root app and ApplicationSets."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from .types import (
    DnsLabel,
    LabelMap,
    Model,
)

# The namespace the hub's Argo CD runs in (its chart's), where edit reaches every member cluster.
NAMESPACE = "argocd"

_GIT_HTTPS = re.compile(r"^https://[a-z0-9.-]+(:\d+)?(/[\w.~-]+)+/?$", re.IGNORECASE)
_GIT_SSH = re.compile(r"^(ssh://[\w.-]+@[a-z0-9.-]+(:\d+)?/|[\w.-]+@[a-z0-9.-]+:)[\w.~/-]+$", re.IGNORECASE)
_REPO_PATH = re.compile(r"^[\w.{}-]+(/[\w.{}-]+)*$")
_REVISION = re.compile(r"^[\w./-]+$")


def _git_url(value: str) -> str:
    if not (_GIT_HTTPS.match(value) or _GIT_SSH.match(value)):
        raise ValueError(f"{value!r} is not a git URL (https://host/org/repo or git@host:org/repo)")
    return value


def _repo_path(value: str) -> str:
    parts = value.split("/")
    if not _REPO_PATH.match(value) or ".." in parts or "." in parts:
        raise ValueError(f"{value!r} is not a relative path inside the repository (e.g. apps/myapp/overlays/prod)")
    return value


def _revision(value: str) -> str:
    if not _REVISION.match(value) or ".." in value:
        raise ValueError(f"{value!r} is not a git branch, tag or commit")
    return value


GitUrl = Annotated[str, AfterValidator(_git_url)]
RepoPath = Annotated[str, AfterValidator(_repo_path)]


class GitRepoSpec(Model):
    url: GitUrl
    """The GitOps repository every Application syncs from."""
    revision: Annotated[str, AfterValidator(_revision)] = "main"
    """Branch, tag or commit to track."""
    credentials: SecretStr | None = None
    """A token (https URL) or an SSH private key (ssh URL) for a private repository (a Pulumi secret)."""

    @property
    def is_ssh(self) -> bool:
        return not self.url.lower().startswith("https://")

    @model_validator(mode="after")
    def _credentials_fit_url(self) -> GitRepoSpec:
        if self.credentials is None:
            return self
        text = self.credentials.get_secret_value()
        is_key = text.lstrip().startswith("-----BEGIN")
        if self.is_ssh and not is_key:
            raise ValueError("credentials for an ssh URL must be an SSH private key (-----BEGIN ... PRIVATE KEY-----)")
        if not self.is_ssh and (is_key or not text.strip() or any(c.isspace() for c in text.strip())):
            raise ValueError("credentials for an https URL must be an access token (one word, no key file)")
        return self


class RootAppSpec(Model):
    name: DnsLabel = "root"
    """Name of the app-of-apps Application on the hub."""
    path: RepoPath
    """Folder of Argo CD manifests the hub applies to itself."""


class ApplicationSetSpec(Model):
    name: DnsLabel
    """ApplicationSet name; Applications are named <name>-<cluster>."""
    selector: LabelMap = Field(default_factory=dict)
    """Cluster labels to match (all of them); {} selects every registered cluster."""
    path: RepoPath
    """Repository path, may use {{name}}, {{metadata.labels.<key>}} and other cluster parameters."""
    namespace: Annotated[str, Field(min_length=1)]
    """Destination namespace (created by the sync), may use cluster parameters."""
    project: DnsLabel = "default"
    """Argo CD project of the generated Applications."""
    revision: Annotated[str, AfterValidator(_revision)] | None = None
    """Overrides the repository revision for this set."""
    prune: bool = True
    """Delete resources removed from git."""
    self_heal: bool = True
    """Revert changes made outside git."""


class ArgoCdAdminSpec(Model):
    enabled: bool = False
    """The built-in admin account; off by default (use SSO or `argocd --core` with the kubeconfig)."""


class ArgoCdSsoSpec(Model):
    issuer: Annotated[str, Field(pattern=r"^https://[^\s]+$")]
    """The OIDC issuer URL (Okta, Entra ID, Google, Cognito, ...); Argo CD talks to it directly, no Dex."""
    client_id: Annotated[str, Field(min_length=1)]
    """The OIDC client id registered for Argo CD."""
    client_secret: SecretStr
    """Its client secret (a Pulumi secret); stored in argocd-secret, referenced from argocd-cm."""
    admin_groups: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Groups (the token's groups claim) given role:admin; everyone else who signs in is read-only."""


class ArgoCdSpec(Model):
    enabled: bool = True
    """False: no Argo CD (the rest of the section is still validated)."""
    chart_version: str = "10.1.1"
    """argo-cd chart (argo-helm), pinned; Argo CD v3.4.4."""
    chart_repository: str = "https://argoproj.github.io/argo-helm"
    """Helm repository of the chart."""
    ha: bool = False
    """Replicated controller, repo server, server and applicationset controller, and redis-ha."""
    expose_server: bool = False
    """True gives the API server an internet-facing LoadBalancer; by default it is reachable only in-cluster."""
    admin: ArgoCdAdminSpec = Field(default_factory=ArgoCdAdminSpec)
    """The local admin account (off, or on with a generated password)."""
    sso: ArgoCdSsoSpec | None = None
    """Single sign-on through an OIDC provider; without it (and without admin) people use `argocd --core`."""
    url: Annotated[str, Field(pattern=r"^https://[a-z0-9.-]+(:\d+)?/?$")] | None = None
    """The external URL people open Argo CD at (the OIDC redirect goes there); required with sso."""
    notifications: bool = False
    """The notifications controller; off unless you configure notification services for it."""
    repo: GitRepoSpec
    """The GitOps repository Argo CD reads."""
    root_app: RootAppSpec | None = None
    """Optional app-of-apps on the hub."""
    application_sets: list[ApplicationSetSpec] = Field(default_factory=list)
    """ApplicationSets, each deploying one path to the clusters its label selector matches."""

    @model_validator(mode="after")
    def _sso_needs_url(self) -> ArgoCdSpec:
        if self.sso is not None and self.url is None:
            raise ValueError("sso needs url: the OIDC provider redirects people back to it")
        return self
