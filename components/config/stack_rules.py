"""Cross-field rules inside one stack's config: one ``<concern>_problems`` function per concern, each
problem with its config path. ``fleet_problems`` runs them all, once every value has parsed.

Rules that need a plan (gateway pools, GitOps, the interconnect) are ``components/planning/checks.py``'s;
AWS's limits and quotas are the preflight's (``components/planning/preflight.py``); rules across two
configs (a change to a running stack) are the compare model's (``offline/transition.py``).
"""

from __future__ import annotations

from ipaddress import IPv4Network

from ..aws import cidr, eks_addons
from ..aws.eks_access import AccessLevel
from ..aws.iam_arns import principal_key
from . import gitops
from .errors import config_path
from .model import FailoverRecord, FleetSpec, GeolocationRecord


def fleet_problems(spec: FleetSpec) -> list[str]:
    """Every cross-field rule of one stack, each concern's in turn."""
    return (
        cluster_problems(spec)
        + access_problems(spec)
        + addon_pin_problems(spec)
        + dns_problems(spec)
        + range_problems(spec)
        + submariner_problems(spec)
    )


def cluster_problems(spec: FleetSpec) -> list[str]:
    """Unique cluster and node-group names, at most one hub, a GPU group where the device plugin runs."""
    problems: list[str] = []
    first_by_name: dict[str, int] = {}
    hub_index: int | None = None
    for i, cluster in enumerate(spec.clusters):
        if cluster.name in first_by_name:
            j = first_by_name[cluster.name]
            problems.append(
                f"{config_path(('clusters', i, 'name'))}: {cluster.name!r} is already the name of {config_path(('clusters', j))}"
            )
        first_by_name.setdefault(cluster.name, i)
        if cluster.role == "hub":
            if hub_index is not None:
                problems.append(
                    f"{config_path(('clusters', i, 'role'))}: {config_path(('clusters', hub_index))} "
                    f"({spec.clusters[hub_index].name}) is already the hub; a fleet has at most one"
                )
            else:
                hub_index = i
        group_names: dict[str, int] = {}
        for k, group in enumerate(cluster.node_groups):
            if group.name in group_names:
                problems.append(
                    f"{config_path(('clusters', i, 'nodeGroups', k, 'name'))}: {group.name!r} is already "
                    f"the name of {config_path(('clusters', i, 'nodeGroups', group_names[group.name]))}"
                )
            group_names.setdefault(group.name, k)

    for i, cluster in enumerate(spec.clusters):
        if cluster.addons.gpu and not cluster.has_gpu_group:
            problems.append(
                f"{config_path(('clusters', i, 'addons', 'gpu'))}: {cluster.name} has no GPU node group for the NVIDIA "
                "device plugin to run on; add one (e.g. g6.xlarge) or leave gpu unset"
            )
    return problems


def access_problems(spec: FleetSpec) -> list[str]:
    """EKS keeps one entry per principal per cluster, and the deployer's and creator's are admin."""
    problems = []
    first: dict[tuple[str, str, str, str], str] = {}
    for k, arn in enumerate(spec.cluster_admins):
        first.setdefault(principal_key(arn), config_path(("clusterAdmins", k)))
    if spec.account is not None and principal_key(spec.account.role_arn) != principal_key(spec.deployer.principal):
        problems.append(
            f"{config_path(('deployer', 'principal'))}: the program acts in account {spec.account.id} as "
            f"{spec.account.role_arn} (fleet:account.roleArn), which creates the clusters and holds their admin entry: "
            "set the principal to that role"
        )
    preview_role = spec.deployer.preview
    if spec.account is not None and preview_role is not None and principal_key(preview_role)[1] != spec.account.id:
        problems.append(
            f"{config_path(('deployer', 'preview'))}: previews assume it in account {spec.account.id} (fleet:account): "
            "it must be a role of that account"
        )
    if spec.deployer.preview is not None:
        preview = config_path(("deployer", "preview"))
        key = principal_key(spec.deployer.preview)
        if key in first:
            problems.append(f"{preview}: {spec.deployer.preview} is also {first[key]}; a preview role gets view only")
        first.setdefault(key, preview)
    reserved = {
        principal_key(spec.deployer.principal): "the deployer, which needs admin to deploy",
        principal_key(spec.deployer.cluster_creator): "the clusters' creator, whose admin entry EKS made",
    }
    problems += _foreign_admin_problems(spec)
    names = {c.name for c in spec.clusters}
    problems += [
        f"{config_path(('deployer', 'creators', cluster))}: no cluster named {cluster!r} in fleet:clusters"
        for cluster in spec.deployer.creators
        if cluster not in names
    ]
    for i, access in enumerate(spec.access):
        path = config_path(("access", i, "principal"))
        key = principal_key(access.principal)
        if key in reserved:
            problems.append(f"{path}: {access.principal} is {reserved[key]}; it cannot have another entry")
        elif key in first:
            problems.append(f"{path}: {access.principal} already has an entry ({first[key]}); EKS allows one per principal")
        first.setdefault(key, path)
        names = {c.name for c in spec.clusters}
        for k, cluster in enumerate(access.clusters or []):
            if cluster not in names:
                problems.append(f"{config_path(('access', i, 'clusters', k))}: no cluster named {cluster!r} in fleet:clusters")
    return problems


def _foreign_admin_problems(spec: FleetSpec) -> list[str]:
    """Admin, or edit on the whole cluster, for a principal of another account gives that account's
    administrators the clusters (they can assume or recreate the principal; cluster-wide edit runs
    Pods as any ServiceAccount in kube-system): only for accounts declared trusted."""
    grants: list[tuple[tuple[int | str, ...], str, str]] = [
        (("clusterAdmins", k), arn, "admin") for k, arn in enumerate(spec.cluster_admins)
    ]
    # Namespaces where edit is admin in all but name: kube-system's ServiceAccounts, and on a hub Argo
    # CD's, which hold every member cluster (identity.indirect_reach).
    powerful = {"kube-system", *([gitops.NAMESPACE] if spec.gitops is not None else [])}
    grants += [
        (("access", i, "principal"), a.principal, a.level.value)
        for i, a in enumerate(spec.access)
        if a.level is AccessLevel.ADMIN or (a.level is AccessLevel.EDIT and (not a.namespaces or powerful & set(a.namespaces)))
    ]
    return [
        f"{config_path(path)}: {arn} is in account {principal_key(arn)[1]}{_partition_note(spec, arn)}, "
        f"not this stack's ({spec.account_id}); {level} on every namespace, or in kube-system or Argo CD's, hands every "
        "cluster to whoever administers that account. Grant view, or edit in your workloads' namespaces, or declare "
        "the account in fleet:trustedAccounts if your organization owns it"
        for path, arn, level in grants
        if not spec.trusts(arn)
    ]


def _partition_note(spec: FleetSpec, arn: str) -> str:
    partition = principal_key(arn)[0]
    return f" of partition {partition}" if partition != principal_key(spec.deployer.principal)[0] else ""


def addon_pin_problems(spec: FleetSpec) -> list[str]:
    """A per-minor add-on pin must name every minor a cluster running the add-on is at."""
    problems = []
    for addon in eks_addons.EKS_ADDONS:
        pin = getattr(spec.addons, addon.pin_field)
        if not isinstance(pin, dict):
            continue
        missing = sorted({spec.version_of(c) for c in spec.clusters if getattr(c.addons, addon.switch)} - set(pin))
        for minor in missing:
            problems.append(
                f"{config_path(('addons', addon.pin_key))}: no {addon.name} version for Kubernetes {minor}; add the one "
                f"EKS offers (aws eks describe-addon-versions --addon-name {addon.name} --kubernetes-version {minor})"
            )
    return problems


def dns_problems(spec: FleetSpec) -> list[str]:
    """Records stay inside the zone, are unique, and name clusters that exist and have an edge."""
    if spec.dns is None:
        return []
    problems: list[str] = []
    clusters = {c.name: c for c in spec.clusters}
    zone = spec.dns.zone
    first_by_name: dict[str, int] = {}
    for i, record in enumerate(spec.dns.records):
        path = ("dns", "records", i)
        if record.name != zone and not record.name.endswith(f".{zone}"):
            problems.append(f"{config_path((*path, 'name'))}: {record.name!r} is not inside the zone {zone!r}")
        if record.name in first_by_name:
            problems.append(
                f"{config_path((*path, 'name'))}: {record.name!r} is already the name of "
                f"{config_path(('dns', 'records', first_by_name[record.name]))}"
            )
        first_by_name.setdefault(record.name, i)
        for sub_path, name in record.referenced_clusters():
            where = f"{config_path(path)}.{sub_path}"
            if name not in clusters:
                problems.append(f"{where}: no cluster named {name!r} in fleet:clusters")
            # A retiring cluster may still be named: `retiring` only lifts protection, and the tear-down
            # runbook must lift it before the step that deletes the cluster's edge and pool addresses.
            elif not clusters[name].edge.enabled:
                problems.append(f"{where}: cluster {name!r} has edge.enabled false, so it has no load balancer to route to")
    problems += drain_problems(spec)
    served = spec.served_clusters()
    if spec.dns.arc and spec.dns.min_serving_regions >= len(served):
        problems.append(
            f"fleet:dns.minServingRegions: {spec.dns.min_serving_regions} with fleet:dns.arc and {len(served)} serving "
            f"cluster(s): ARC's safety rule keeps at least that many routing controls On, so it refuses every failover "
            f"(turning any control Off); set it to at most {max(len(served) - 1, 0)}, or serve from more clusters"
        )
    edge_names = {f"{c.name}.{spec.dns.edge_subdomain}.{zone}": c.name for c in spec.clusters}
    for i, record in enumerate(spec.dns.records):
        if record.name in edge_names:
            problems.append(
                f"{config_path(('dns', 'records', i, 'name'))}: {record.name!r} is the per-edge name of "
                f"{edge_names[record.name]} (fleet:dns.edgeSubdomain); choose another name or edgeSubdomain"
            )
    check_port = spec.dns.health_check.port
    if check_port is not None:
        for i, cluster in enumerate(spec.clusters):
            edge = cluster.edge
            if cluster.name in spec.served_clusters() and not edge.external and edge.ingress.port != check_port:
                problems.append(
                    f"{config_path(('dns', 'healthCheck', 'port'))}: {check_port}, but the edge of "
                    f"{config_path(('clusters', i))} ({cluster.name}) listens on {edge.ingress.port} "
                    f"({config_path(('clusters', i, 'edge', 'ingress', 'port'))}); health checks must probe the listener, "
                    "so leave port unset to follow each edge"
                )
    return problems


def _failover_drain_problem(where: str, record: FailoverRecord, out: set[str], fleet_wide: set[str]) -> str:
    """What works for a drained member of a failover record, which Route 53 keeps as exactly one
    PRIMARY and one SECONDARY set (API reference, ResourceRecordSet.Failover): only a swap moves
    traffic, and a drained cluster cannot stay in the group at all."""
    cluster = record.primary if record.primary in out else record.secondary
    if cluster in fleet_wide:
        undrain = (
            f"drain {cluster} per name on the other records (fleet:dns.records[].drained) instead of fleet:clusters[].drained"
        )
    else:
        undrain = f"take {cluster} out of {where}.drained"
    if cluster == record.primary:
        return (
            f"{where}: drains {cluster}, {record.name}'s failover primary, but a failover group is exactly one PRIMARY "
            f"and one SECONDARY set, so {undrain}; to move its traffic to {record.secondary}, fail over (with "
            f"fleet:dns.arc: python -m deploy failover --stack <stack> --to {record.secondary}, which moves every name), "
            "or swap primary and secondary: one deploy, each set (named by its role) moving its target in place"
        )
    return (
        f"{where}: drains {cluster}, {record.name}'s failover secondary, which takes its traffic only while "
        f"{record.primary} fails its health check; a failover group is exactly one PRIMARY and one SECONDARY set, so "
        f"{undrain}; to keep traffic from ever reaching {cluster}, give the record another secondary or another "
        "routing policy (docs/runbooks.md, 'Preview a change')"
    )


def drain_problems(spec: FleetSpec) -> list[str]:
    """A drain removes the cluster's record sets: it must leave every name answered, from enough regions."""
    assert spec.dns is not None
    problems: list[str] = []
    regions = {c.name: c.region for c in spec.clusters}
    for i, record in enumerate(spec.dns.records):
        where = config_path(("dns", "records", i))
        configured = {t.cluster for t in record.targets()}
        problems += [
            f"{where}.drained[{k}]: {name!r} is not one of this record's clusters"
            for k, name in enumerate(record.drained)
            if name not in configured and name in regions
        ]
        out = configured - {t.cluster for t in spec.serving_targets(record)}
        if not out:
            continue
        if isinstance(record, FailoverRecord):
            problems.append(_failover_drain_problem(where, record, out, fleet_wide=spec.drained_clusters))
            continue
        if isinstance(record, GeolocationRecord) and record.default_cluster in out:
            problems.append(
                f"{where}: drains {record.default_cluster}, the default location's cluster: "
                "clients no other location matches would get no answer; point default at another cluster first"
            )
        serving = {regions[t.cluster] for t in spec.serving_targets(record) if t.cluster in regions}
        if len(serving) < spec.dns.min_serving_regions:
            problems.append(
                f"{where}: drains {', '.join(sorted(out))}, leaving {record.name} answered from {len(serving)} region(s); "
                f"fleet:dns.minServingRegions is {spec.dns.min_serving_regions}"
            )
    return problems


def range_problems(spec: FleetSpec) -> list[str]:
    """VPC and service ranges are distinct across the fleet, except between Globalnet clusterset members."""
    problems: list[str] = []
    members = set(spec.clusterset_members())
    globalnet = spec.clusterset is not None and spec.clusterset.globalnet
    ranges: list[tuple[int, str, IPv4Network]] = []
    for i, cluster in enumerate(spec.clusters):
        ranges.append((i, "vpcCidr", cluster.vpc_cidr))
        ranges.append((i, "serviceCidr", cluster.service_cidr))
    for a, b in cidr.overlapping_pairs([network for _, _, network in ranges]):
        (ia, key_a, net_a), (ib, key_b, net_b) = ranges[a], ranges[b]
        if ia == ib:
            continue  # a cluster's own two ranges are checked by the model, with its own message
        joined = {spec.clusters[ia].name, spec.clusters[ib].name} <= members
        if joined and globalnet:
            continue  # Globalnet gives each member a distinct global range to be reached by
        hint = (
            "; Submariner routes these ranges between clusterset members: make them distinct "
            "or set fleet:submariner.globalnet: true"
            if joined
            else ""
        )
        problems.append(
            f"{config_path(('clusters', ib, key_b))}: {net_b} overlaps {config_path(('clusters', ia, key_a))} ({net_a}){hint}"
        )
    return problems


def submariner_problems(spec: FleetSpec) -> list[str]:
    """The broker and members exist, gateways fit the AZs, Globalnet ranges are distinct, the broker is reachable."""
    config = spec.submariner
    if config is None or not config.enabled:
        return []
    problems: list[str] = []
    clusters = {c.name: (i, c) for i, c in enumerate(spec.clusters)}
    if config.broker is None and spec.hub is None:
        problems.append(f"{config_path(('submariner', 'broker'))}: no hub cluster to default to; name the broker cluster")
    elif config.broker is not None and config.broker not in clusters:
        problems.append(f"{config_path(('submariner', 'broker'))}: no cluster named {config.broker!r} in fleet:clusters")
    if config.clusters is not None:
        seen: set[str] = set()
        for k, name in enumerate(config.clusters):
            where = config_path(("submariner", "clusters", k))
            if name not in clusters:
                problems.append(f"{where}: no cluster named {name!r} in fleet:clusters")
            elif name in seen:
                problems.append(f"{where}: {name!r} is listed twice")
            seen.add(name)
    members = [name for name in spec.clusterset_members() if name in clusters]
    if len(members) < 2:
        problems.append(f"{config_path(('submariner', 'clusters'))}: a clusterset needs at least two clusters")
    for name in members:
        i, cluster = clusters[name]
        if config.gateways_per_cluster > cluster.availability_zones:
            problems.append(
                f"{config_path(('submariner', 'gatewaysPerCluster'))}: {config.gateways_per_cluster} gateways, one per AZ, "
                f"but {config_path(('clusters', i))} ({name}) spans {cluster.availability_zones} AZs"
            )
    if config.globalnet:
        problems += _globalnet_problems(spec, members)
    return problems


def _globalnet_problems(spec: FleetSpec, members: list[str]) -> list[str]:
    config = spec.submariner
    assert config is not None
    problems: list[str] = []
    span = config.globalnet_cidr_range
    for i, cluster in enumerate(spec.clusters):
        for key, network in (("vpcCidr", cluster.vpc_cidr), ("serviceCidr", cluster.service_cidr)):
            if network.overlaps(span):
                problems.append(
                    f"{config_path(('submariner', 'globalnetCidrRange'))}: {span} overlaps "
                    f"{config_path(('clusters', i, key))} ({network})"
                )
    pinned = sorted(config.global_cidrs.items())
    for name, network in pinned:
        where = config_path(("submariner", "globalCidrs", name))
        if name not in members:
            problems.append(f"{where}: {name!r} is not a clusterset member")
        if not network.subnet_of(span):
            problems.append(f"{where}: {network} is outside globalnetCidrRange {span}")
        if network.prefixlen != config.globalnet_cluster_prefix:
            problems.append(f"{where}: {network} must be a /{config.globalnet_cluster_prefix} (globalnetClusterPrefix)")
    for a, b in cidr.overlapping_pairs([network for _, network in pinned]):
        problems.append(
            f"{config_path(('submariner', 'globalCidrs', pinned[b][0]))}: {pinned[b][1]} overlaps "
            f"{config_path(('submariner', 'globalCidrs', pinned[a][0]))} ({pinned[a][1]})"
        )
    slots = 2 ** (config.globalnet_cluster_prefix - span.prefixlen)
    if len(members) > slots:
        problems.append(
            f"{config_path(('submariner', 'globalnetClusterPrefix'))}: {span} holds {slots} "
            f"/{config.globalnet_cluster_prefix} ranges, fewer than the {len(members)} members"
        )
    return problems
