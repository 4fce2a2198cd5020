"""The validated shape of a fleet stack's ``fleet:*`` config: ``FleetSpec`` and the sections it holds.

Each section lives in its own module (types, cluster, dns, submariner, gitops, interconnect,
quotas, upgrades); they are re-exported here so a caller imports the config from one place.
Per-field rules are pydantic validators; rules that span clusters live in ``validation``, and
rules that need a plan in ``components.planning.checks``. Models are frozen: components receive
these values and never raw dicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Self, TypeVar, cast

from pydantic import AfterValidator, Field, PrivateAttr

from ..aws import eks_versions
from ..aws.eks_access import AccessLevel
from ..aws.iam_arns import principal_key
from .access import AccessEntrySpec, AccountSpec, DeployerSpec
from .cluster import (
    GPU_TAINT,
    AddonPin,
    AddonVersionsSpec,
    CapacityType,
    ClusterAddonsSpec,
    ClusterSpec,
    EdgeSpec,
    FlowLogDestination,
    FlowLogsSpec,
    IngressTarget,
    LoadBalancerControllerSpec,
    NatGateways,
    NodeGroupSpec,
    SupportType,
    Taint,
    TaintEffect,
    WorkloadIdentity,
    pinned_version,
)
from .dns import (
    ROUTING_FIELDS,
    ROUTING_POLICIES,
    DemandSpec,
    DnsAccountSpec,
    DnsSpec,
    FailoverRecord,
    GeolocationRecord,
    HealthCheckSpec,
    LatencyRecord,
    RecordSpec,
    RecordTarget,
    Route53Policy,
    RoutingPolicy,
    WeightedRecord,
)
from .gitops import ApplicationSetSpec, ArgoCdAdminSpec, ArgoCdSpec, ArgoCdSsoSpec, GitRepoSpec, RootAppSpec
from .interconnect import SMALL_FLEET, InterconnectMode, InterconnectSpec
from .quotas import AccountQuotasSpec, QuotasSpec, RegionQuotasSpec
from .submariner import GLOBALNET_DEFAULT_RANGE, MIN_PSK_LENGTH, CableDriver, GatewayPeers, SubmarinerSpec
from .types import IamPrincipalArn, KubernetesVersion, Model, Network, not_everywhere
from .upgrades import UpgradesSpec, WaveSpec

__all__ = [
    "GLOBALNET_DEFAULT_RANGE",
    "GPU_TAINT",
    "MIN_PSK_LENGTH",
    "ROUTING_FIELDS",
    "ROUTING_POLICIES",
    "SMALL_FLEET",
    "AccessEntrySpec",
    "AccessLevel",
    "AccountQuotasSpec",
    "AccountSpec",
    "AddonPin",
    "AddonVersionsSpec",
    "ApplicationSetSpec",
    "ArgoCdAdminSpec",
    "ArgoCdSpec",
    "ArgoCdSsoSpec",
    "CableDriver",
    "CapacityType",
    "ClusterAddonsSpec",
    "ClusterSpec",
    "DemandSpec",
    "DeployerSpec",
    "DnsAccountSpec",
    "DnsSpec",
    "EdgeSpec",
    "FailoverRecord",
    "FleetSpec",
    "FlowLogDestination",
    "FlowLogsSpec",
    "GatewayPeers",
    "GeolocationRecord",
    "GitRepoSpec",
    "HealthCheckSpec",
    "HubReferenceSpec",
    "IngressTarget",
    "InterconnectMode",
    "InterconnectSpec",
    "KubeconfigAuth",
    "LatencyRecord",
    "LoadBalancerControllerSpec",
    "NatGateways",
    "NodeGroupSpec",
    "QuotasSpec",
    "RecordSpec",
    "RecordTarget",
    "RegionQuotasSpec",
    "RootAppSpec",
    "Route53Policy",
    "RoutingPolicy",
    "SubmarinerSpec",
    "SupportType",
    "Taint",
    "TaintEffect",
    "UpgradesSpec",
    "WaveSpec",
    "WeightedRecord",
    "WorkloadIdentity",
    "pinned_version",
]

_T = TypeVar("_T")
_STACK_NAME = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")


def _stack_name(value: str) -> str:
    if not _STACK_NAME.match(value):
        raise ValueError(f"{value!r} is not a fully qualified stack name (organization/project/stack)")
    return value


class HubReferenceSpec(Model):
    stack: Annotated[str, AfterValidator(_stack_name)]
    """The stack (organization/project/stack) whose hub this stack's clusters register into."""
    account: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    """The hub's AWS account: its Argo CD role must be a role there. Unset: the account of the hub's stack
    file in this project (its fleet:account, else its deployer's); required when the hub is external."""
    external: bool = False
    """The hub lives in another project or organization on purpose (no stack file here): its outputs are
    then checked against account alone, and the plan says so."""


class KubeconfigAuth(Model):
    profile: str | None = None
    """AWS profile written into every context's get-token call (only when set)."""
    role_arn: IamPrincipalArn | None = None
    """Role assumed by get-token (only when set)."""
    context_prefix: Annotated[str, Field(pattern=r"^([a-z0-9][-a-z0-9_.]{0,39})?$")] = ""
    """Put before every context, cluster and user name of the merged fleet kubeconfig (e.g. "prod-")."""


class FleetSpec(Model):
    # The hub stack's own config when fleet:hub names a stack of this project (components/config/hub_stack.py).
    _joined_hub: FleetSpec | None = PrivateAttr(default=None)
    # The configs of the other stacks of this project joining this stack's hub (or the hub it joins).
    _joining: dict[str, FleetSpec] = PrivateAttr(default_factory=dict)
    _joining_unread: list[str] = PrivateAttr(default_factory=list)
    # Plans derived from this spec, each computed once: the preflight asks for the same plan per flow.
    _plans: dict[str, Any] = PrivateAttr(default_factory=dict)

    workload_identity: WorkloadIdentity = WorkloadIdentity.POD_IDENTITY
    """How the fleet's AWS-calling workloads get their roles: EKS Pod Identity (no OIDC provider per cluster),
    IRSA, or both while a running fleet moves from one to the other (docs/runbooks.md)."""
    cells: bool = False
    """Deploy as one stack per cluster, ``<stack>.<cluster>``, each run with this file (planning/cells.py, docs/cells.md)."""
    protect: bool = True
    """Pulumi protect on every cluster, its KMS key, network and NLB, and EKS and NLB deletion protection."""
    api_access_cidrs: list[Annotated[Network, AfterValidator(not_everywhere)]]
    """Who may reach the public API endpoints; [] makes the endpoints private-only."""
    kubernetes_version: KubernetesVersion = eks_versions.NEWEST
    """EKS minor version (quoted, e.g. "1.35") for clusters that do not set their own."""
    support_type: SupportType = SupportType.STANDARD
    """EKS upgrade policy of every cluster; EXTENDED keeps a version past standard support, billed per hour."""
    flow_logs: FlowLogsSpec = Field(default_factory=FlowLogsSpec)
    """VPC flow logs of every cluster's VPC (always on)."""
    deployer: DeployerSpec
    """The identity that deploys this stack (and, unless said otherwise, created its clusters)."""
    account: AccountSpec | None = None
    """Deploy into this AWS account by assuming its role; unset: the account of the credentials the program runs with."""
    cluster_admins: list[IamPrincipalArn] = Field(default_factory=list)
    """IAM principals given cluster-admin access entries on every cluster (shorthand for fleet:access level admin)."""
    access: list[AccessEntrySpec] = Field(default_factory=list)
    """Access entries on every cluster, each at a level and optionally namespace-scoped."""
    trusted_accounts: list[Annotated[str, Field(pattern=r"^\d{12}$")]] = Field(default_factory=list)
    """Other AWS accounts (in the deployer's partition) whose principals fleet:clusterAdmins and fleet:access
    may grant admin or cluster-wide edit: whoever controls such an account controls every cluster. Other
    accounts' principals get at most namespaced edit, or view (a warning on every deploy)."""
    kubeconfig: KubeconfigAuth = Field(default_factory=KubeconfigAuth)
    """How the merged kubeconfig's contexts authenticate and are named."""
    clusters: Annotated[list[ClusterSpec], Field(min_length=1)]
    """The fleet's clusters, at least one; each gets its own VPC, EKS control plane and node groups."""
    dns: DnsSpec | None = None
    """Route53 records in front of the clusters' edges; none when absent."""
    load_balancer_controller: LoadBalancerControllerSpec = Field(default_factory=LoadBalancerControllerSpec)
    """The aws-load-balancer-controller chart that binds each owned edge NLB to its ingress Service."""
    addons: AddonVersionsSpec = Field(default_factory=AddonVersionsSpec)
    """Versions and settings of the in-cluster add-ons (each cluster switches them in its own addons)."""
    submariner: SubmarinerSpec | None = None
    """Cross-cluster networking; none when absent."""
    argocd: ArgoCdSpec | None = None
    """Argo CD on this stack's hub; none when absent."""
    hub_stack: HubReferenceSpec | None = Field(default=None, alias="hub")
    """fleet:hub: join another stack's hub; that stack registers this stack's clusters from its outputs."""
    members: list[Annotated[str, AfterValidator(_stack_name)]] = Field(default_factory=list)
    """Stacks (organization/project/stack) joining this hub whose clusters it registers in Argo CD from their outputs."""
    interconnect: InterconnectSpec = Field(default_factory=InterconnectSpec)
    """How cross-cluster API calls travel: over the internet to allow lists, or privately over VPC peering or transit gateways."""
    upgrades: UpgradesSpec = Field(default_factory=UpgradesSpec)
    """How a Kubernetes upgrade moves through the fleet (python -m plan STACK --upgrade-to V)."""
    quotas: QuotasSpec = Field(default_factory=QuotasSpec)
    """Quotas this account has raised above AWS's defaults; the preflight checks what the stack needs against them."""

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy that plans afresh: it may differ (``update``) or learn more (its hub, its joiners)."""
        copied = super().model_copy(update=update, deep=deep)
        copied._plans = {}
        return copied

    def planned(self, key: str, compute: Callable[[], _T]) -> _T:
        """``compute()`` for this spec, computed once. The spec is frozen, and every copy that learns
        more (its hub, its joining stacks) starts with no plans, so a plan never goes stale."""
        if key not in self._plans:
            self._plans[key] = compute()
        return cast(_T, self._plans[key])

    @property
    def joined_hub(self) -> FleetSpec | None:
        """The config of the stack fleet:hub names, when it was read (hub_stack.read_hub_spec)."""
        return self._joined_hub

    def with_joined_hub(self, hub: FleetSpec | None) -> FleetSpec:
        """This spec, knowing the hub stack's config."""
        joined = self.model_copy()
        joined._joined_hub = hub
        return joined

    @property
    def joining_stacks(self) -> dict[str, FleetSpec]:
        """Per stack name, the config of each stack of this project that joins this one's hub (hub_stack.joining_stacks)."""
        return self._joining

    @property
    def member_specs(self) -> dict[str, FleetSpec]:
        """Per fleet:members stack (fully qualified, sorted), its config when it was read and joins this hub
        (checks.membership_problems refuses any other)."""
        joining = {reference: self._joining.get(reference.rsplit("/", 1)[-1]) for reference in sorted(self.members)}
        return {reference: member for reference, member in joining.items() if member is not None}

    @property
    def joining_unread(self) -> list[str]:
        """Why stack files of this project that might join the hub could not be read."""
        return self._joining_unread

    def with_joining(self, joiners: dict[str, FleetSpec], unread: list[str] | None = None) -> FleetSpec:
        """This spec, knowing the stacks that join its hub (and the stack files that did not read)."""
        joined = self.model_copy()
        joined._joining = dict(joiners)
        joined._joining_unread = list(unread or [])
        return joined

    def trusts(self, arn: str) -> bool:
        """Whether ``arn`` is a principal of this stack's account, or of an account it declares trusted,
        in the deployer's partition (an aws-us-gov account of the same number is another account)."""
        partition, account = principal_key(arn)[:2]
        return partition == principal_key(self.deployer.principal)[0] and account in {self.account_id, *self.trusted_accounts}

    @property
    def account_id(self) -> str:
        """The account this stack deploys into: fleet:account, else its deployer's (validation ties the two)."""
        return self.account.id if self.account is not None else principal_key(self.deployer.principal)[1]

    def version_of(self, cluster: ClusterSpec) -> str:
        return cluster.kubernetes_version or self.kubernetes_version

    def support_of(self, cluster: ClusterSpec) -> SupportType:
        return cluster.support_type or self.support_type

    def acting_role(self, preview: bool) -> str | None:
        """The role the program assumes in fleet:account: its roleArn, or for a preview the read-only
        fleet:deployer.preview (so a pull request's preview never holds the deploy role); None without an account."""
        if self.account is None:
            return None
        if preview and self.deployer.preview is not None:
            return self.deployer.preview
        return self.account.role_arn

    def provider_kubeconfig(self, preview: bool) -> KubeconfigAuth:
        """How the program's own Kubernetes providers get tokens: as fleet:kubeconfig says, and with
        fleet:account as the role the program acts as there (acting_role), unless fleet:kubeconfig names one."""
        role = self.acting_role(preview)
        if role is None or self.kubeconfig.role_arn is not None:
            return self.kubeconfig
        return self.kubeconfig.model_copy(update={"role_arn": role})

    def protects(self, cluster: ClusterSpec) -> bool:
        """Whether the cluster's resources are protected: fleet:protect, unless it is being retired."""
        return self.protect and not cluster.retiring

    @property
    def hub(self) -> ClusterSpec | None:
        return next((c for c in self.clusters if c.role == "hub"), None)

    @property
    def gitops(self) -> ArgoCdSpec | None:
        """The Argo CD section when it is enabled."""
        return self.argocd if self.argocd is not None and self.argocd.enabled else None

    @property
    def clusterset(self) -> SubmarinerSpec | None:
        """The Submariner section when it is enabled."""
        return self.submariner if self.submariner is not None and self.submariner.enabled else None

    def clusterset_members(self) -> list[str]:
        """Names of the clusters joined to the clusterset, sorted; empty without Submariner."""
        if self.clusterset is None:
            return []
        if self.clusterset.clusters is None:
            return sorted(c.name for c in self.clusters)
        return sorted(set(self.clusterset.clusters))

    def broker_cluster(self) -> str | None:
        """The cluster hosting the Submariner broker (configured, else the hub)."""
        if self.clusterset is None:
            return None
        if self.clusterset.broker is not None:
            return self.clusterset.broker
        return self.hub.name if self.hub else None

    @property
    def interconnect_mode(self) -> InterconnectMode:
        """The configured mode, else the default for the fleet's size.

        Up to three clusters every allow list stays far below EKS's 40 entries and a private path
        would cost more (peering routes, Route 53 Resolver endpoints) than it saves; from four on,
        the broker's allow list grows by nine addresses per member and the hub's peering keeps it flat.
        """
        if self.interconnect.mode is not None:
            return self.interconnect.mode
        center = self.hub is not None or self.broker_cluster() is not None
        return InterconnectMode.PEERING if center and len(self.clusters) > SMALL_FLEET else InterconnectMode.NONE

    @property
    def drained_clusters(self) -> set[str]:
        """Clusters drained fleet-wide (clusters[].drained)."""
        return {c.name for c in self.clusters if c.drained}

    def serving_targets(self, record: RecordSpec) -> list[RecordTarget]:
        """The record sets registered for ``record``: drained clusters (the record's or the fleet's) left out."""
        return record.serving_targets(self.drained_clusters)

    def served_clusters(self) -> set[str]:
        """Clusters that some DNS record sends traffic to."""
        if self.dns is None:
            return set()
        return {cluster for record in self.dns.records for _, cluster in record.referenced_clusters()}
