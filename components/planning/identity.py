"""Which IAM principals get EKS access entries, and at which level: a function of the config alone.

The stack's deployer (``fleet:deployer``) created its clusters, so EKS made the creator's admin
entry and a second one would fail with ``ResourceInUseException`` (components/aws/eks_access.py).
Every other principal of ``fleet:clusterAdmins`` and ``fleet:access`` gets one entry. Who runs the
program changes nothing here: the preflight refuses any identity but the deployer, so a second
listed principal can never delete its own entry mid-run or ask for the creator's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..aws.eks_access import POLICY_FOR, AccessLevel
from ..aws.iam_arns import principal_key, same_principal
from ..config.model import FleetSpec
from . import gitops

__all__ = [
    "HUB_ROLE",
    "Grant",
    "PlannedEntry",
    "access_entries",
    "access_on",
    "admins_needing_entries",
    "caller_problem",
    "creator_problems",
    "entries_on",
    "fleet_access",
    "grants_of",
    "principal_key",
    "same_principal",
]


@dataclass(frozen=True)
class PlannedEntry:
    """One access entry every cluster of the stack gets."""

    principal: str
    """The IAM principal ARN, as configured."""
    level: AccessLevel
    """admin, edit or view."""
    namespaces: tuple[str, ...] = ()
    """The namespaces it is scoped to; empty: the whole cluster."""
    clusters: tuple[str, ...] | None = None
    """The clusters it is on; None: every cluster of the stack."""

    def on(self, cluster: str) -> bool:
        return self.clusters is None or cluster in self.clusters

    def allows(self, level: AccessLevel, namespace: str) -> bool:
        """Whether this entry grants at least ``level`` in ``namespace``."""
        rank = [AccessLevel.VIEW, AccessLevel.EDIT, AccessLevel.ADMIN]
        scoped = not self.namespaces or namespace in self.namespaces
        return scoped and rank.index(self.level) >= rank.index(level)

    @property
    def scope(self) -> str:
        return "namespace" if self.namespaces else "cluster"

    @property
    def policy(self) -> str:
        """The EKS access policy the level maps to in this scope."""
        return POLICY_FOR[(self.level, self.scope)]


def admins_needing_entries(cluster_admins: Iterable[str], creator: str) -> list[str]:
    """fleet:clusterAdmins minus the cluster's creator, whose admin entry EKS already made; sorted, each once."""
    return sorted({arn for arn in cluster_admins if not same_principal(arn, creator)})


def access_entries(spec: FleetSpec) -> tuple[PlannedEntry, ...]:
    """Every entry the program creates on each cluster, by principal: the deployer (after a rotation),
    the cluster admins and fleet:access, never the creator. Validation keeps one entry per principal."""
    creator = spec.deployer.cluster_creator
    admins = [spec.deployer.principal, *spec.cluster_admins]
    names = sorted(c.name for c in spec.clusters)
    entries: dict[str, PlannedEntry] = {}
    for arn in sorted({*admins}):
        # On each cluster, every admin but the one EKS made the creator's entry for.
        on = [c for c in names if admins_needing_entries([arn], spec.deployer.creator_of(c))]
        if on:
            entries[arn] = PlannedEntry(arn, AccessLevel.ADMIN, (), None if on == names else tuple(on))
    if spec.deployer.preview is not None:
        entries[spec.deployer.preview] = PlannedEntry(spec.deployer.preview, AccessLevel.VIEW)
    for access in spec.access:
        if not same_principal(access.principal, creator):
            clusters = tuple(sorted(access.clusters)) if access.clusters is not None else None
            entries[access.principal] = PlannedEntry(access.principal, access.level, tuple(sorted(access.namespaces)), clusters)
    return tuple(entries[arn] for arn in sorted(entries))


def entries_on(spec: FleetSpec, cluster: str) -> tuple[PlannedEntry, ...]:
    """The entries the program creates on one cluster."""
    return tuple(entry for entry in access_entries(spec) if entry.on(cluster))


def access_on(spec: FleetSpec, principal: str, cluster: str) -> PlannedEntry | None:
    """What ``principal`` may do on ``cluster`` of the stack ``spec`` configures: the creator's EKS-made
    admin entry, an entry of the program's, or nothing."""
    if same_principal(principal, spec.deployer.creator_of(cluster)):
        return PlannedEntry(principal, AccessLevel.ADMIN)
    return next((e for e in entries_on(spec, cluster) if same_principal(e.principal, principal)), None)


def caller_problem(spec: FleetSpec, caller: str, stack: str, preview: bool = False) -> str | None:
    """Why ``caller`` (the running identity, for an assumed role its role) may not deploy, if it may not.

    The preview role may run ``pulumi preview`` (``preview``): it reads state and diffs the program's
    inputs, which pulumi-kubernetes computes without writing (previews are input diffs), and its
    entries are view only, so the pull request's code it runs can change nothing.
    """
    if same_principal(caller, spec.deployer.principal):
        return None
    if spec.deployer.preview is not None and same_principal(caller, spec.deployer.preview):
        if preview:
            return None
        return (
            f"fleet:deployer.preview: {caller} is stack {stack}'s read-only preview role; it may run "
            f"`pulumi preview`, never `pulumi up` (deploy as {spec.deployer.principal})"
        )
    return (
        f"fleet:deployer.principal: stack {stack} deploys as {spec.deployer.principal}, but this run is {caller}. "
        "Run as the deployer (every access entry is planned for it, and EKS gave the clusters' creator its own), "
        "or change deployers with the 'Rotate the deploy role' runbook (docs/runbooks.md)"
    )


# ---------------------------------------------------------------- who can do what, across the project's stacks

HUB_ROLE = "argocd-hub-role"
"""Stands for a hub stack's Argo CD role (its ARN exists only after the hub's deploy)."""


@dataclass(frozen=True)
class Grant:
    """What one identity may do on one cluster, and why."""

    identity: str
    """Who: "<stack> deployer", "<stack> preview", "<stack> Argo CD", or a fleet:access principal."""
    principal: str
    """The IAM principal ARN (for a hub role: HUB_ROLE@<stack>)."""
    stack: str
    """The stack that owns the cluster."""
    account: str | None
    """The account the cluster is in (the stack's fleet:account), None: the account its deploy credentials are in."""
    cluster: str
    level: AccessLevel
    namespaces: tuple[str, ...]
    """Empty: the whole cluster."""
    via: str
    """The config (or EKS) that grants it."""

    @property
    def writes(self) -> bool:
        return self.level is not AccessLevel.VIEW


def fleet_access(stacks: dict[str, FleetSpec]) -> list[Grant]:
    """Every grant on every cluster of the project's stacks, from their configs alone: the creators'
    EKS-made entries, each stack's entries (identity.access_entries) and the Argo CD hub role's
    entries, which every other cluster of the hub's stack and of every stack joining it grants."""
    labels: dict[tuple[str, str, str, str], str] = {}
    for name, spec in stacks.items():
        labels.setdefault(principal_key(spec.deployer.principal), f"{name} deployer")
        if spec.deployer.preview is not None:
            labels.setdefault(principal_key(spec.deployer.preview), f"{name} preview")
    grants: list[Grant] = []
    for name, spec in sorted(stacks.items()):
        hub_stack = _hub_stack_of(name, spec)
        for cluster in sorted(spec.clusters, key=lambda c: c.name):
            creator = spec.deployer.creator_of(cluster.name)
            account = spec.account.id if spec.account is not None else None
            grants.append(
                Grant(
                    labels.get(principal_key(creator), creator),
                    creator,
                    name,
                    account,
                    cluster.name,
                    AccessLevel.ADMIN,
                    (),
                    "EKS creator entry",
                )
            )
            for entry in entries_on(spec, cluster.name):
                via = "fleet:deployer.preview" if entry.principal == spec.deployer.preview else "fleet:access"
                label = labels.get(principal_key(entry.principal), entry.principal)
                grants.append(Grant(label, entry.principal, name, account, cluster.name, entry.level, entry.namespaces, via))
            if hub_stack is not None and not (hub_stack == name and spec.hub is not None and spec.hub.name == cluster.name):
                grants.append(
                    Grant(
                        f"{hub_stack} Argo CD",
                        f"{HUB_ROLE}@{hub_stack}",
                        name,
                        account,
                        cluster.name,
                        AccessLevel.ADMIN,
                        (),
                        "fleet:argocd (the hub's own stack)" if hub_stack == name else "fleet:hub (granted by the member stack)",
                    )
                )
    return grants


def _hub_stack_of(name: str, spec: FleetSpec) -> str | None:
    """The stack whose Argo CD registers this stack's clusters (its own when it runs the hub)."""
    if spec.gitops is not None and spec.hub is not None:
        return name
    if spec.hub_stack is not None:
        return spec.hub_stack.stack.rsplit("/", 1)[-1]
    return None


def grants_of(grants: list[Grant], identity: str) -> list[Grant]:
    return [g for g in grants if g.identity == identity]


@dataclass(frozen=True)
class Reach:
    """What an identity can do beyond the access entries the program grants, and why."""

    identity: str
    principal: str
    can: str
    via: str


def indirect_reach(stacks: dict[str, FleetSpec]) -> list[Reach]:
    """Paths to clusters that no access entry lists (``plan --access``'s second part):

    - A deploy role writes IAM in its account (it creates the stack's roles) and calls
      eks:CreateAccessEntry on its clusters; IAM cannot tell one stack's resources from another's in
      one account unless every policy is scoped by name, so in a shared account each deploy role can
      grant itself an entry on the other stacks' clusters (docs/ci.md, "Multi-account").
    - The hub's Argo CD role is cluster-admin on every member, and anyone who can run a pod as Argo
      CD's service accounts holds it (Kubernetes RBAC, "edit": "running Pods as any ServiceAccount in
      the namespace"; EKS Pod Identity and IRSA hand a pod its service account's role): whoever is
      admin on the hub cluster (its deployer, fleet:access admin), edit or admin in ``argocd``, and
      whoever writes the root Application's folder in the GitOps repository, which Argo CD applies on
      the hub as itself.
    """
    reach: list[Reach] = []
    accounts: dict[str, list[str]] = {}
    for name, spec in sorted(stacks.items()):
        accounts.setdefault(spec.account_id, []).append(name)
    for name, spec in sorted(stacks.items()):
        deployer = spec.deployer.principal
        others = [o for o in accounts[spec.account_id] if o != name]
        reach.append(
            Reach(
                f"{name} deployer",
                deployer,
                f"IAM writes in account {spec.account_id}: any role or policy it is not denied (set a permissions boundary)",
                "the stack's own IAM roles (creating them needs iam:CreateRole and iam:PutRolePolicy)",
            )
        )
        for other in others:
            reach.append(
                Reach(
                    f"{name} deployer",
                    deployer,
                    f"admin on every cluster of {other} (eks:CreateAccessEntry in the shared account {spec.account_id})",
                    "one account for both stacks: give each its own (fleet:account)",
                )
            )
        if spec.gitops is None or spec.hub is None:
            continue
        members = sorted(
            f"{stack}/{cluster.name}"
            for stack, other in stacks.items()
            for cluster in other.clusters
            if (other.hub_stack is not None and other.hub_stack.stack.rsplit("/", 1)[-1] == name)
            or (stack == name and cluster.name != spec.hub.name)
        )
        if not members:
            continue
        admin_on = f"cluster-admin on {', '.join(members)} (as the hub's Argo CD role)"
        hub = spec.hub.name
        holders = [(f"{name} deployer", spec.deployer.creator_of(hub), f"admin on {hub} (EKS creator entry)")]
        for entry in entries_on(spec, hub):
            if entry.allows(AccessLevel.EDIT, gitops.NAMESPACE):
                holders.append((entry.principal, entry.principal, f"{entry.level.value} in {gitops.NAMESPACE} on {hub}"))
        if spec.gitops.root_app is not None:
            where = f"{spec.gitops.repo.url} {spec.gitops.root_app.path}"
            holders.append((f"writers of {where}", where, "the root Application applies that folder on the hub"))
        for identity, principal, via in holders:
            reach.append(Reach(identity, principal, admin_on, f"runs pods as Argo CD's service accounts: {via}"))
    return reach


def cross_account_warnings(spec: FleetSpec) -> list[str]:
    """Edit or view for a principal of another account (admin there is refused, unless the account is
    trusted): legitimate for an auditor's or a partner's role, but worth a line on every deploy."""
    return [
        f"fleet:access: {entry.principal} is in account {principal_key(entry.principal)[1]}, not this stack's "
        f"({spec.account_id}), and gets {entry.level.value}{' in ' + ', '.join(entry.namespaces) if entry.namespaces else ''} "
        f"on {', '.join(entry.clusters) if entry.clusters is not None else 'every cluster'}; declare the account in "
        "fleet:trustedAccounts to say it is meant"
        for entry in access_entries(spec)
        if not spec.trusts(entry.principal)
    ]


def creator_problems(before: FleetSpec, after: FleetSpec) -> list[tuple[str, str]]:
    """(problem, fix) for a change of config that misnames who created a cluster. EKS gave its creator
    entry to whoever created each cluster and that never changes; the program plans entries from
    ``creator_of``, so a config that names another creator leaves the real one's successor without an
    entry of ours (``access_on``), or plans a second entry for a principal EKS already gave one
    (ResourceInUseException). A new cluster is created by the changed config's deployer."""
    existing = {c.name for c in before.clusters}
    real = {
        c.name: before.deployer.creator_of(c.name) if c.name in existing else after.deployer.principal for c in after.clusters
    }
    wrong = sorted(c for c, arn in real.items() if not same_principal(arn, after.deployer.creator_of(c)))
    if not wrong:
        return []
    # The one way to say it: the creator of every cluster the deployer did not create, by name.
    named = {c: arn for c, arn in sorted(real.items()) if not same_principal(arn, after.deployer.principal)}
    fix = (
        "name each cluster's creator: fleet:deployer.creators: {"
        + ", ".join(f"{c}: {arn}" for c, arn in named.items())
        + "} (and no fleet:deployer.creator; docs/runbooks.md, 'Rotate the deploy role')"
    )
    problems = []
    for cluster in wrong:
        said = after.deployer.creator_of(cluster)
        if cluster in existing:
            problems.append((f"{cluster} was created by {real[cluster]}, but the changed config says {said}", fix))
        else:
            problems.append(
                (
                    f"{cluster} is new: {after.deployer.principal} creates it and EKS gives it the creator's entry, but the "
                    f"changed config says {said} created it, so the program would plan a second entry for "
                    f"{after.deployer.principal} (ResourceInUseException)",
                    fix,
                )
            )
    return problems


def foreign_grant_warnings(stack: str, spec: FleetSpec, stacks: dict[str, FleetSpec]) -> list[str]:
    """Entries on this stack's clusters for another stack's deploy or preview role: one environment's
    identity reaching another's clusters, which isolation by stack exists to prevent."""
    owners: dict[tuple[str, str, str, str], str] = {}
    for name, other in sorted(stacks.items()):
        if name == stack:
            continue
        owners.setdefault(principal_key(other.deployer.principal), f"stack {name}'s deploy role")
        if other.deployer.preview is not None:
            owners.setdefault(principal_key(other.deployer.preview), f"stack {name}'s preview role")
    warnings: list[str] = []
    for entry in access_entries(spec):
        owner = owners.get(principal_key(entry.principal))
        own = [spec.deployer.principal, spec.deployer.cluster_creator, spec.deployer.preview or spec.deployer.principal]
        if owner is not None and not any(same_principal(entry.principal, mine) for mine in own):
            warnings.append(
                f"fleet:access: {entry.principal} is {owner}, granted {entry.level.value} on this stack's clusters: one "
                "environment's identity reaching another's; give this stack its own role"
            )
    return warnings
