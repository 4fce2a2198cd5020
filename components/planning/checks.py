"""Config rules that need a plan, run on every parse beside the fleet-wide rules.

``components.config`` checks shapes against AWS and Kubernetes facts; these rules ask the
planners (the interconnect's center, the gateway pool, the cluster generator's parameters), so
they live a layer up. ``load_fleet`` is the one way in: shape errors first, then every
fleet-wide and planned problem together, so an operator fixes the config in one round.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..aws import cidr, labels
from ..config import hub_stack
from ..config.errors import ConfigError, config_path
from ..config.model import FleetSpec, InterconnectMode
from ..config.stack_rules import fleet_problems
from ..config.validation import parse_model
from . import cells, gitops, interconnect, submariner


def load_fleet(raw: Mapping[str, object]) -> FleetSpec:
    """The ``fleet:*`` config (keys without the namespace) validated into a FleetSpec, or
    ConfigError listing every problem: shapes, fleet-wide rules and the rules below."""
    spec = parse_model(raw)
    if problems := fleet_problems(spec) + plan_problems(spec):
        raise ConfigError(problems)
    return spec


def stack_fleet(raw: Mapping[str, object], stack: str) -> FleetSpec:
    """A stack's fleet, with the hub stack it joins (or the stacks joining it) read from this project.
    A cell (``<env>.<cluster>``) runs with its environment's config and is that environment to its hub."""
    loaded = load_fleet(raw)
    if problems := cells.scope_problems(loaded, stack):
        raise ConfigError(problems)
    environment = cells.environment_of(stack)
    spec = hub_stack.with_hub_stack(loaded, stack=environment)
    if problems := membership_problems(spec, environment):
        raise ConfigError(problems)
    return spec


def environment_fleet(raw: Mapping[str, object], environment: str) -> FleetSpec:
    """A celled environment's fleet as a whole (for the offline tools that plan every cell; the program
    itself runs only as a cell, stack_fleet)."""
    spec = hub_stack.with_hub_stack(load_fleet(raw), stack=environment)
    if problems := membership_problems(spec, environment):
        raise ConfigError(problems)
    return spec


def membership_problems(spec: FleetSpec, stack: str) -> list[str]:
    """What only the other stacks' files can say: a joining stack's account and interconnect against
    its hub's, and, for a hub, its fleet:members. The hub registers each member's clusters as itself,
    names and labels from that stack's file and servers from its outputs, so each must be a stack of
    this project joining this hub (it grants the hub's role its entries), and no two clusters may
    share an Argo CD name."""
    problems: list[str] = []
    if spec.members and (spec.gitops is None or spec.hub is None):
        problems.append(
            f"{config_path(('members',))}: this stack runs no Argo CD hub to register members into "
            "(fleet:argocd and a cluster with role: hub)"
        )
    hub = spec.joined_hub
    if hub is not None and hub.account is not None and spec.account is None and interconnect.plan_joined(spec) is not None:
        problems.append(
            f"{config_path(('account',))}: the hub stack deploys into account {hub.account.id} (its fleet:account); "
            "declare this stack's account too, so its peering requests name the hub's owner when it is another account"
        )
    if interconnect.plan_joined(spec) is not None and interconnect.plan_interconnect(spec) is not None:
        # Both would build a link per cluster under one name (<cluster>-interconnect), which Pulumi
        # refuses as a duplicate URN; from four clusters on, peering is the default mode.
        problems.append(
            f"{config_path(('interconnect', 'mode'))}: {spec.interconnect_mode.value}: this stack joins "
            f"{spec.hub_stack.stack if spec.hub_stack else 'a hub'}, which peers its members, so its clusters already "
            "peer with the hub's VPC; it cannot peer them with each other too. Set it to none: calls between its own "
            "clusters (the Submariner broker's API) take their public endpoints (fleet:apiAccessCidrs)"
        )
    taken = {c.name: f"stack {stack}" for c in spec.clusters}
    listed: set[str] = set()
    for i, reference in enumerate(spec.members):
        path = config_path(("members", i))
        member = reference.rsplit("/", 1)[-1]
        if reference in listed:
            problems.append(f"{path}: {reference} is listed twice")
            continue
        listed.add(reference)
        if hub_stack.stack_file_of(reference) is None:
            problems.append(
                f"{path}: {reference} is not a stack of this project (no Pulumi.{member}.yaml beside Pulumi.yaml); "
                "the hub reads its clusters' names and labels from its stack file"
            )
            continue
        joiner = spec.joining_stacks.get(member)
        unread = next((why for why in spec.joining_unread if f"Pulumi.{member}.yaml:" in why), None)
        if joiner is None and unread is not None:
            problems.append(f"{path}: {reference}'s stack file does not read: {unread}")
            continue
        if joiner is None:
            problems.append(
                f"{path}: Pulumi.{member}.yaml does not join this hub (its fleet:hub.stack must name stack {stack}) "
                "or does not read, so it grants the hub's Argo CD role nothing"
            )
            continue
        for cluster in sorted(joiner.clusters, key=lambda c: c.name):
            if cluster.name in taken:
                problems.append(
                    f"{path}: stack {member}'s cluster {cluster.name} has the name of a cluster of {taken[cluster.name]}; "
                    "Argo CD knows each cluster by one Secret, cluster-<name>"
                )
            taken.setdefault(cluster.name, f"stack {member}")
    return problems


def plan_problems(spec: FleetSpec) -> list[str]:
    return _gateway_pool_problems(spec) + _gitops_problems(spec) + _interconnect_problems(spec) + cells.cell_config_problems(spec)


def _gateway_pool_problems(spec: FleetSpec) -> list[str]:
    """keepGatewayAddresses drains a pool larger than the one the gateways now use."""
    config = spec.submariner
    if config is None or not config.enabled:
        return []
    problems: list[str] = []
    pool = submariner.gateway_pool_size(config.gateways_per_cluster)
    if config.keep_gateway_addresses is not None and config.keep_gateway_addresses <= pool:
        problems.append(
            f"{config_path(('submariner', 'keepGatewayAddresses'))}: {config.keep_gateway_addresses} keeps no address: "
            f"{config.gateways_per_cluster} gateways already use a pool of {pool}; set the old pool size "
            "(3 x the old gatewaysPerCluster) only in the deploy that lowers gatewaysPerCluster"
        )
    return problems


def _interconnect_problems(spec: FleetSpec) -> list[str]:
    """Peering needs a center every API call starts or ends at, and ranges the hub can route to one by one."""
    plan = interconnect.plan_interconnect(spec)
    where = config_path(("interconnect", "mode"))
    problems: list[str] = []
    if plan is None:
        if spec.interconnect.mode is InterconnectMode.PEERING:
            problems.append(
                f"{where}: peering joins each cluster to the hub's VPC, but the fleet has no hub (role: hub) or broker"
            )
        if spec.interconnect.keep_internet_path:
            problems.append(
                f"{config_path(('interconnect', 'keepInternetPath'))}: only for the deploy that adds a private path "
                f"({where} peering or transitGateway); with none every API call already takes the internet"
            )
        return problems
    broker = spec.broker_cluster()
    if broker is not None and broker != plan.hub:
        problems.append(
            f"{config_path(('submariner', 'broker'))}: with {where} peering the broker must be the hub ({plan.hub}): "
            "members reach it over the hub's peering connections"
        )
    index = {c.name: i for i, c in enumerate(spec.clusters)}
    joined = [(plan.hub, plan.hub_cidr)] + [(s.name, s.vpc_cidr) for s in plan.spokes]
    for a, b in cidr.overlapping_pairs([network for _, network in joined]):
        # Name the later entry, as every other range problem does: that is usually the one just added.
        (name_a, net_a), (name_b, net_b) = sorted((joined[a], joined[b]), key=lambda pair: index[pair[0]])
        if {name_a, name_b} & {plan.hub}:
            why = "AWS refuses to peer VPCs whose ranges overlap"
        else:
            why = (
                "the hub routes to each member by its VPC range, and a route table holds one route per range "
                "(Globalnet translates pod traffic only, not calls to an API endpoint)"
            )
        problems.append(
            f"{config_path(('clusters', index[name_b], 'vpcCidr'))}: {net_b} overlaps "
            f"{config_path(('clusters', index[name_a], 'vpcCidr'))} ({net_a}), but with {where} peering {why}"
        )
    return problems


# redis-ha runs three replicas with hard anti-affinity: three nodes or it never becomes ready.
REDIS_HA_NODES = 3


def _gitops_problems(spec: FleetSpec) -> list[str]:
    """A hub exists (here or through fleet:hub); templates use only what the cluster generator provides."""
    problems: list[str] = []
    hub = spec.hub
    hub_index = next((i for i, c in enumerate(spec.clusters) if c.role == "hub"), None)
    if spec.hub_stack is not None:
        if hub is not None:
            problems.append(
                f"{config_path(('hub',))}: this stack has its own hub ({config_path(('clusters', hub_index or 0))}, "
                f"{hub.name}); a stack either runs a hub or registers into another stack's"
            )
        if spec.argocd is not None:
            problems.append(
                f"{config_path(('argocd',))}: Argo CD runs in the hub's stack ({spec.hub_stack.stack}); "
                "declare ApplicationSets there"
            )
    config = spec.argocd
    if config is None or not config.enabled:
        return problems
    if hub is None:
        if spec.hub_stack is None:
            problems.append(
                f"{config_path(('argocd',))}: Argo CD runs on the hub, but no cluster has role: hub "
                "(or register into another stack's hub with fleet:hub)"
            )
        return problems
    if config.ha:
        nodes = sum(group.min_size for group in hub.node_groups)
        if nodes < REDIS_HA_NODES:
            problems.append(
                f"{config_path(('argocd', 'ha'))}: redis-ha needs {REDIS_HA_NODES} nodes on the hub, but the node groups "
                f"of {config_path(('clusters', hub_index or 0))} ({hub.name}) have minSize {nodes} in total"
            )
    stack = "<stack>"
    registered = [
        gitops.RegisteredCluster(c.name, gitops.IN_CLUSTER_SERVER, gitops.cluster_labels(c, stack)) for c in spec.clusters
    ]
    first_by_name: dict[str, int] = {}
    for k, application_set in enumerate(config.application_sets):
        path = ("argocd", "applicationSets", k)
        if application_set.name in first_by_name:
            problems.append(
                f"{config_path((*path, 'name'))}: {application_set.name!r} is already the name of "
                f"{config_path(('argocd', 'applicationSets', first_by_name[application_set.name]))}"
            )
        first_by_name.setdefault(application_set.name, k)
        for key in ("path", "namespace"):
            template = getattr(application_set, key)
            unknown = gitops.unknown_parameters(template)
            if unknown:
                problems.append(
                    f"{config_path((*path, key))}: {', '.join('{{' + p + '}}' for p in unknown)} is not a cluster generator "
                    "parameter (use name, nameNormalized, server, metadata.labels.<key>, metadata.annotations.<key>)"
                )
                continue
            for cluster in registered:
                if not gitops.selects(application_set.selector, cluster.labels):
                    continue
                missing = [
                    p.removeprefix("metadata.labels.")
                    for p in gitops.template_parameters(template)
                    if p.startswith("metadata.labels.") and p.removeprefix("metadata.labels.") not in cluster.labels
                ]
                if missing:
                    problems.append(
                        f"{config_path((*path, key))}: cluster {cluster.name!r} matches the selector but has no "
                        f"label {', '.join(repr(m) for m in missing)}"
                    )
                elif key == "namespace" and (error := labels.dns1123_label_error(gitops.render(template, cluster.parameters()))):
                    problems.append(f"{config_path((*path, key))}: for cluster {cluster.name!r}: {error}")
    return problems
