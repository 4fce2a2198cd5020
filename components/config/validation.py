"""Turns the raw ``fleet:*`` config into a ``FleetSpec``, or one error listing every problem.

Each problem names its config path (``fleet:clusters[2].vpcCidr: ...``) so an operator can go
straight to the line. Nothing here touches Pulumi resources; it runs before any is registered.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Mapping
from ipaddress import IPv4Network
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from ..aws import cidr, eks_versions, labels
from ..aws.eks_access import AccessLevel
from ..aws.iam_arns import principal_key
from .model import ROUTING_FIELDS, FailoverRecord, FleetSpec, GeolocationRecord

NAMESPACE = "fleet"


class ConfigError(pulumi.RunError):
    """Invalid stack config. A RunError, so the Pulumi CLI prints the message without a traceback."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"invalid stack config ({len(problems)} {noun}):\n{listing}")


def config_path(loc: tuple[int | str, ...]) -> str:
    """('clusters', 2, 'vpcCidr') -> 'fleet:clusters[2].vpcCidr'."""
    text = NAMESPACE
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += (":" if index == 0 else ".") + part
    return text


def _known_keys(model: type[BaseModel], *, nested: bool = True) -> set[str]:
    keys: set[str] = set()
    for field in model.model_fields.values():
        keys.add(field.alias or "")
        if nested:
            for arg in _nested_models(field.annotation):
                keys |= _known_keys(arg)
    return keys


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _nested_models(arg)
    for arg in getattr(annotation, "__metadata__", ()):
        yield from _nested_models(arg)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _nested_models(origin)


_KNOWN_KEYS = sorted(_known_keys(FleetSpec))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose keys are valid at ``loc`` (a pydantic error location without its last part)."""
    model: type[BaseModel] | None = FleetSpec
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int) or "[" in str(part):
            continue  # a list index, or a pydantic validator name: the same model's items
        field = next((f for name, f in model.model_fields.items() if part in (f.alias, name)), None)
        if field is None:
            # A mapping key (dict[str, Model]): its values are the field's model.
            continue
        model = next(_nested_models(field.annotation), None)
    return model


def suggestion(key: str, loc: tuple[Any, ...]) -> str | None:
    """The valid key at ``loc`` that ``key`` most likely meant: one it is part of (version ->
    kubernetesVersion), else the closest spelling; case-insensitive, so that vpcCIDR finds vpcCidr."""
    model = _model_at(loc)
    keys = sorted(_known_keys(model, nested=False) if model is not None else _KNOWN_KEYS)
    by_lower = {known.lower(): known for known in keys if known}
    wanted = key.lower()
    containing = sorted((k for k in by_lower if len(wanted) >= 3 and (wanted in k or k in wanted)), key=len)
    if containing:
        return by_lower[containing[0]]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _describe(error: Mapping[str, Any]) -> str:
    kind, message = str(error["type"]), str(error["msg"])
    if kind == "extra_forbidden":
        meant = suggestion(str(error["loc"][-1]), tuple(error["loc"][:-1]))
        hint = f"; did you mean {meant!r}?" if meant else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "is required"
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool):
        return f"{message} (got {value!r})"
    return message


_RECORDS = ("dns", "records")


def _error_loc(error: Mapping[str, Any]) -> tuple[tuple[int | str, ...], str | None]:
    """The config path of a pydantic error, and the routing policy it was raised under (if any).

    pydantic adds validator names (e.g. 'function-after[...]') to some locations, and the tag of a
    discriminated union (dns.records[0].weighted.weights); neither is a key of the config.
    """
    loc = tuple(p for p in error["loc"] if isinstance(p, int) or "[" not in p)
    if len(loc) > 3 and loc[:2] == _RECORDS and loc[3] in ROUTING_FIELDS:
        return loc[:3] + loc[4:], str(loc[3])
    return loc, None


def _record_problem(error: Mapping[str, Any], loc: tuple[int | str, ...], routing: str) -> str | None:
    """A routing field given to the wrong policy, or one its policy needs, said as such."""
    if len(loc) != 4:
        return None
    field, record = str(loc[3]), config_path(loc[:3])
    if error["type"] == "extra_forbidden" and any(field in fields for fields in ROUTING_FIELDS.values()):
        return f"{record}: {field} is not used by {routing} routing"
    if error["type"] == "missing" and field in ROUTING_FIELDS[routing]:
        return f"{record}: {routing} routing needs {field}"
    return None


def _pydantic_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc, routing = _error_loc(error)
        if routing is not None and (problem := _record_problem(error, loc, routing)):
            problems.append(problem)
        elif error["type"] in ("union_tag_invalid", "union_tag_not_found") and loc[:2] == _RECORDS:
            expected = " or ".join(", ".join(repr(r) for r in ROUTING_FIELDS).rsplit(", ", 1))
            given = f" (got {error['input'].get('routing')!r})" if error["type"] == "union_tag_invalid" else ""
            problems.append(f"{config_path((*loc, 'routing'))}: Input should be {expected}{given}")
        else:
            problems.append(f"{config_path(loc)}: {_describe(error)}")
    return problems


def _addon_pin_problems(spec: FleetSpec) -> list[str]:
    """A per-minor add-on pin must name every minor a cluster running the add-on is at."""
    problems = []
    for key, (addon, pin) in zip(("ebsCsiVersion", "metricsServerVersion"), spec.addons.pins().items(), strict=True):
        if not isinstance(pin, dict):
            continue
        switch = "ebs_csi" if addon == "aws-ebs-csi-driver" else "metrics_server"
        missing = sorted({spec.version_of(c) for c in spec.clusters if getattr(c.addons, switch)} - set(pin))
        for minor in missing:
            problems.append(
                f"{config_path(('addons', key))}: no {addon} version for Kubernetes {minor}; add the one EKS offers "
                f"(aws eks describe-addon-versions --addon-name {addon} --kubernetes-version {minor})"
            )
    return problems


def _access_problems(spec: FleetSpec) -> list[str]:
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
    """Admin on every cluster for a principal of another account gives that account's administrators
    the clusters (they can assume or recreate the principal): only accounts declared trusted."""
    trusted = {spec.account_id, *spec.trusted_accounts}
    grants: list[tuple[tuple[int | str, ...], str]] = [(("clusterAdmins", k), arn) for k, arn in enumerate(spec.cluster_admins)]
    grants += [(("access", i, "principal"), a.principal) for i, a in enumerate(spec.access) if a.level is AccessLevel.ADMIN]
    return [
        f"{config_path(path)}: {arn} is in account {principal_key(arn)[1]}, not this stack's ({spec.account_id}); "
        "admin there hands every cluster to whoever administers that account. Grant edit or view, or declare the "
        f"account in fleet:trustedAccounts if your organization owns it"
        for path, arn in grants
        if principal_key(arn)[1] not in trusted
    ]


def fleet_problems(spec: FleetSpec) -> list[str]:
    """Rules that span clusters: unique names, one hub, no overlapping ranges anywhere."""
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
    problems += _access_problems(spec)
    problems += _addon_pin_problems(spec)
    problems += _dns_problems(spec)
    problems += _range_problems(spec)
    problems += _submariner_problems(spec)
    return problems


def _range_problems(spec: FleetSpec) -> list[str]:
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


def _submariner_problems(spec: FleetSpec) -> list[str]:
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
            f"and one SECONDARY set: to move its traffic, make {record.secondary} the primary and {cluster} the "
            f"secondary (a clean update), and {undrain}"
        )
    return (
        f"{where}: drains {cluster}, {record.name}'s failover secondary, which takes its traffic only while "
        f"{record.primary} fails its health check; a failover group is exactly one PRIMARY and one SECONDARY set, so "
        f"{undrain}; to keep traffic from ever reaching {cluster}, give the record another secondary or another "
        "routing policy (docs/runbooks.md, 'Preview a change')"
    )


def _drain_problems(spec: FleetSpec) -> list[str]:
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


def _dns_problems(spec: FleetSpec) -> list[str]:
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
    problems += _drain_problems(spec)
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


def _raw_fleet_problems(raw: Mapping[str, object], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """Fleet-wide rules checked on raw config whose shape is partly wrong: names referenced but not
    defined, names defined twice, ranges that overlap. Values that do not parse are left to the
    shape errors already reported."""
    listed = raw.get("clusters")
    clusters = [c for c in listed if isinstance(c, Mapping)] if isinstance(listed, list) else []
    names = [str(c["name"]) for c in clusters if isinstance(c.get("name"), str)]
    problems: list[str] = _raw_model_rules(raw, flagged)
    seen: dict[str, int] = {}
    for i, cluster in enumerate(clusters):
        name = cluster.get("name")
        if isinstance(name, str):
            if name in seen:
                first = config_path(("clusters", seen[name]))
                problems.append(f"{config_path(('clusters', i, 'name'))}: {name!r} is already the name of {first}")
            seen.setdefault(name, i)
    # References are checked only once every name is settled: a misspelt name is one problem, not
    # one more for each record that (rightly) names the cluster.
    if not clusters or len(names) != len(clusters) or any(labels.dns1123_label_error(name) for name in names):
        return problems + _raw_overlaps(clusters, flagged)
    dns = raw.get("dns")
    records = dns.get("records") if isinstance(dns, Mapping) else None
    for j, record in enumerate(records if isinstance(records, list) else []):
        if not isinstance(record, Mapping):
            continue
        references: list[tuple[str, object]] = []
        for key in ("weights", "locations"):
            value = record.get(key)
            if isinstance(value, Mapping):
                references += [(f"{key}.{k}", k if key == "weights" else v) for k, v in value.items()]
        for key in ("primary", "secondary"):
            references.append((key, record.get(key)))
        if isinstance(record.get("clusters"), list):
            references += [(f"clusters[{k}]", v) for k, v in enumerate(record["clusters"])]
        for sub_path, name in references:
            if isinstance(name, str) and name not in names:
                problems.append(f"{config_path(('dns', 'records', j))}.{sub_path}: no cluster named {name!r} in fleet:clusters")
    submariner = raw.get("submariner")
    if isinstance(submariner, Mapping):
        broker = submariner.get("broker")
        if isinstance(broker, str) and broker not in names:
            problems.append(f"{config_path(('submariner', 'broker'))}: no cluster named {broker!r} in fleet:clusters")
        members = submariner.get("clusters")
        for k, name in enumerate(members if isinstance(members, list) else []):
            if isinstance(name, str) and name not in names:
                problems.append(f"{config_path(('submariner', 'clusters', k))}: no cluster named {name!r} in fleet:clusters")
    return problems + _raw_overlaps(clusters, flagged)


def _has_field_error(prefix: tuple[int | str, ...], flagged: set[tuple[int | str, ...]]) -> bool:
    return any(len(loc) > len(prefix) and loc[: len(prefix)] == prefix for loc in flagged)


def _raw_model_rules(raw: Mapping[str, object], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """The rule a node group checks once its fields parse (NodeGroupSpec._sizes_and_image), for groups
    whose other fields did not: pydantic skips a model's own rules then, and they would only show in
    a second round. (A record's routing fields are checked by pydantic itself, per policy class.)"""
    problems: list[str] = []
    listed = raw.get("clusters")
    for i, cluster in enumerate(listed if isinstance(listed, list) else []):
        groups = cluster.get("nodeGroups") if isinstance(cluster, Mapping) else None
        for k, group in enumerate(groups if isinstance(groups, list) else []):
            in_group: tuple[int | str, ...] = ("clusters", i, "nodeGroups", k)
            if not isinstance(group, Mapping) or not _has_field_error(in_group, flagged):
                continue
            sizes = [group.get(key) for key in ("minSize", "desiredSize", "maxSize")]
            valid = all(isinstance(n, int) and not isinstance(n, bool) for n in sizes)
            if valid and not any((*in_group, key) in flagged for key in ("minSize", "desiredSize", "maxSize")):
                low, desired, high = sizes
                if not low <= desired <= high:  # type: ignore[operator]
                    problems.append(
                        f"{config_path(in_group)}: sizes must satisfy minSize <= desiredSize <= maxSize, "
                        f"got {low} <= {desired} <= {high}"
                    )
    return problems


def _raw_overlaps(clusters: list[Mapping[str, Any]], flagged: set[tuple[int | str, ...]]) -> list[str]:
    """Overlaps between ranges that are themselves valid (a range already reported wrong is not compared)."""
    problems: list[str] = []
    ranges: list[tuple[int, str, IPv4Network]] = []
    for i, cluster in enumerate(clusters):
        for key in ("vpcCidr", "serviceCidr"):
            if ("clusters", i, key) in flagged:
                continue
            try:
                ranges.append((i, key, cidr.parse_network(cluster.get(key))))  # type: ignore[arg-type]
            except (ValueError, TypeError):
                continue
    for a, b in cidr.overlapping_pairs([network for _, _, network in ranges]):
        (ia, key_a, net_a), (ib, key_b, net_b) = ranges[a], ranges[b]
        if ia != ib:
            problems.append(
                f"{config_path(('clusters', ib, key_b))}: {net_b} overlaps {config_path(('clusters', ia, key_a))} ({net_a})"
            )
    return problems


# Sections switched off by `enabled: false`: nothing else in them is read, so nothing else is checked.
SWITCHED_SECTIONS = ("argocd", "submariner")


def _without_disabled_sections(raw: Mapping[str, object]) -> dict[str, object]:
    kept = dict(raw)
    for key in SWITCHED_SECTIONS:
        section = kept.get(key)
        if isinstance(section, Mapping) and section.get("enabled") in (False, "false"):
            kept[key] = None
    return kept


def parse_model(raw: Mapping[str, object]) -> FleetSpec:
    """The ``fleet:*`` config (keys without the namespace) parsed into a FleetSpec, shapes only.

    Raises ConfigError with every shape problem, plus what spans clusters as far as the raw
    values allow: one round of fixes, not two.
    """
    raw = _without_disabled_sections(raw)
    try:
        return FleetSpec.model_validate(dict(raw))
    except ValidationError as exc:
        flagged = {_error_loc(error)[0] for error in exc.errors()}
        raise ConfigError(_pydantic_problems(exc) + _raw_fleet_problems(raw, flagged)) from None


def parse_fleet(raw: Mapping[str, object]) -> FleetSpec:
    """The config validated against shapes and facts; the checks that need a plan are
    ``components.planning.checks.load_fleet``'s, which every entry point runs.

    Raises ConfigError with every problem found. Shape errors come first; fleet-wide rules run
    once every cluster is individually valid, since they compare values that must parse first.
    """
    spec = parse_model(raw)
    if problems := fleet_problems(spec):
        raise ConfigError(problems)
    return spec


def version_warnings(spec: FleetSpec, today: dt.date) -> list[str]:
    """What each cluster's version and support type mean today (billing, EKS's own upgrade), for the operator."""
    warnings = []
    for i, cluster in enumerate(spec.clusters):
        version = spec.version_of(cluster)
        if message := eks_versions.support_warning(version, today, spec.support_of(cluster).value):
            key = ("clusters", i, "kubernetesVersion") if cluster.kubernetes_version else ("kubernetesVersion",)
            warnings.append(f"{config_path(key)} ({cluster.name}): {message}")
    return warnings


def version_problems(spec: FleetSpec, today: dt.date) -> list[str]:
    """Protected (production) clusters that EKS upgrades by itself within 30 days, or already has:
    the upgrade must be a planned campaign, and a deploy asking for the old version fails."""
    problems = []
    for i, cluster in enumerate(spec.clusters):
        version, support = spec.version_of(cluster), spec.support_of(cluster).value
        if spec.protects(cluster) and eks_versions.due_for_auto_upgrade(version, today, support):
            key = ("clusters", i, "kubernetesVersion") if cluster.kubernetes_version else ("kubernetesVersion",)
            problems.append(
                f"{config_path(key)} ({cluster.name}): EKS upgrades this protected cluster from {version} by itself on "
                f"{eks_versions.auto_upgrade_date(version, support)} ({support} support); plan the upgrade "
                f"(python -m plan <stack> --upgrade-to {eks_versions.next_minor(version)}) and deploy it first, "
                "or set supportType: EXTENDED (billed) to keep the version"
            )
    return problems
