"""``python -m deploy status --stack STACK [--json]``: every cluster of a stack file as AWS sees it now.

It needs AWS credentials alone: no Pulumi CLI, backend or secrets provider (an incident may have taken
any of them). What it reads, per cluster of the stack file, in parallel (a fixed number of calls per
cluster: the stack file says how many node groups and add-ons there are):

- ``eks:DescribeCluster``: version, platform version, status, support type, endpoint;
- ``eks:ListInsights``: upgrade insights by status;
- ``eks:ListNodegroups`` and ``eks:DescribeNodegroup`` for each: status, version, sizes;
- ``eks:DescribeAddon`` for the add-ons the program manages;
- ``route53:GetHealthCheckStatus`` of the cluster's edge health check (found once per stack by its
  ``fleet-cluster`` tag); Route 53 counts an endpoint healthy when more than 18% of its checkers
  report it healthy (Route 53 Developer Guide, "How Route 53 determines whether a health check is
  healthy");
- with ``fleet:dns.arc``: ``route53-recovery-cluster:GetRoutingControlState`` at the cluster
  endpoints ``fleet:dns.arcRuntime`` lists;
- unless ``--no-kubernetes``: Ready nodes per node group, Submariner's gateways and connections
  (clusterset members) and the hub's Argo CD applications, from each cluster's own API with the
  caller's identity (deploy/status_kube.py); a cluster whose API does not answer or refuses the caller
  says so, and that alone does not fail the command.

An answer an API cannot give (an emulator without it, a denied call) is "unknown", never a crash.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from components.aws import eks_versions
from components.config.model import ClusterSpec, FleetSpec
from components.planning import submariner
from deploy import status_kube
from deploy.exit_codes import ExitCode

UNKNOWN = "unknown"
HEALTHY_CHECKER_SHARE = 0.18
"""Route 53 considers an endpoint healthy when more than 18% of its health checkers report it healthy."""
MANAGED_ADDONS = ("coredns", "aws-ebs-csi-driver", "metrics-server", "vpc-cni", "kube-proxy")
"""The EKS add-ons every cluster runs: the three the program manages and the two EKS installs."""
NODE_GROUP_LABEL = "fleet/node-group"
"""The label every node group the program creates carries: which fleet:clusters[].nodeGroups entry it is."""

ClientFactory = Callable[[str, str], Any]
"""(service, region) -> a boto3 client."""
ArcClientFor = Callable[[str, str], Any]
"""(ARC cluster endpoint URL, its region) -> a route53-recovery-cluster client (deploy/failover.py)."""


_LOCK = threading.Lock()
_SESSIONS: dict[str | None, Any] = {}


def boto3_clients(service: str, region: str) -> Any:
    """A client with short timeouts and few retries: a region that does not answer is reported, not waited
    on. Clients are safe to use from many threads, but a session is not while it makes them (boto3 docs,
    "Multithreading"): they are made one at a time from one session (per endpoint override)."""
    import os

    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
    with _LOCK:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if endpoint not in _SESSIONS:
            _SESSIONS[endpoint] = boto3.session.Session()
        return _SESSIONS[endpoint].client(service, region_name=region, config=config)


def arc_clients(endpoint: str, region: str) -> Any:
    """ARC's cluster endpoints as deploy failover reaches them (short timeouts, one attempt each), made under
    the same lock as every other client of the command."""
    from deploy import failover

    with _LOCK:
        return failover.boto3_client(endpoint, region)


@dataclass
class NodeGroupRow:
    name: str
    group: str
    status: str
    version: str
    release: str
    desired: int | None
    min: int | None
    max: int | None
    ready_nodes: int | None = None


@dataclass
class ClusterRow:
    cluster: str
    region: str
    state: str
    """ok, degraded, unknown (it could not be described), missing or unreachable."""
    version: str = UNKNOWN
    platform_version: str = UNKNOWN
    status: str = UNKNOWN
    support_type: str = UNKNOWN
    support_ends: str = UNKNOWN
    insights: dict[str, int] | str = UNKNOWN
    node_groups: list[NodeGroupRow] = field(default_factory=list)
    addons: dict[str, str] = field(default_factory=dict)
    edge_health: str | None = None
    arc: str | None = None
    kubernetes: dict[str, Any] | str | None = None
    problems: list[str] = field(default_factory=list)
    """What is wrong with the cluster: each makes it degraded."""
    notes: list[str] = field(default_factory=list)
    """What could not be read (a denied call, an API the account lacks): unknown, not wrong."""
    calls: int = 0


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


UNREACHABLE_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
"""The regional endpoint did not answer: what "unreachable" means. A refusal (denied, throttled,
expired credentials) is an answer, and makes the reading unknown instead."""


def _unknown(row: ClusterRow, what: str, error: Exception) -> None:
    reason = _code(error) if isinstance(error, ClientError) else type(error).__name__
    row.notes.append(f"{what}: unknown ({reason or error})")


class _Counted:
    """A client whose calls are counted for the row (the fixed-calls-per-cluster promise is tested)."""

    def __init__(self, client: Any, row: ClusterRow) -> None:
        self._client, self._row = client, row

    def call(self, operation: str, **kwargs: Any) -> Any:
        self._row.calls += 1
        return getattr(self._client, operation)(**kwargs)


def _eks(cluster: ClusterSpec, eks: _Counted, row: ClusterRow, today: Any) -> status_kube.Api | None:
    """The cluster's own EKS view and its API; None when there is nothing more to read (missing, unreachable)."""
    try:
        described = eks.call("describe_cluster", name=cluster.name)["cluster"]
    except ClientError as error:
        if _code(error) == "ResourceNotFoundException":
            row.state = "missing"
            row.problems.append(f"{cluster.name} is in the stack file but not in EKS ({cluster.region})")
        else:
            row.state = "unknown"
            _unknown(row, "eks:DescribeCluster", error)
        return None
    except UNREACHABLE_ERRORS as error:
        row.state = "unreachable"
        row.problems.append(f"EKS in {cluster.region} did not answer: {error}")
        return None
    except BotoCoreError as error:
        row.state = "unknown"
        _unknown(row, "eks:DescribeCluster", error)
        return None
    row.version = str(described.get("version", UNKNOWN))
    row.platform_version = str(described.get("platformVersion", UNKNOWN))
    row.status = str(described.get("status", UNKNOWN))
    row.support_type = str((described.get("upgradePolicy") or {}).get("supportType", "STANDARD"))
    if row.version in eks_versions.SUPPORT:
        # The calendar's own rule: EKS upgrades the cluster at this date (end of standard support under
        # STANDARD, of extended support under EXTENDED).
        ends = eks_versions.auto_upgrade_date(row.version, row.support_type)
        row.support_ends = ends.isoformat()
        if today > ends:
            # The day after the end date (EKS: "once past the end of standard support date").
            row.problems.append(f"support for {row.version} ({row.support_type}) ended {ends.isoformat()}")
    if row.status != "ACTIVE":
        row.problems.append(f"cluster status {row.status}")
    authority = str((described.get("certificateAuthority") or {}).get("data", ""))
    return status_kube.Api(cluster.name, cluster.region, str(described.get("endpoint", "")), authority)


KUBELET_SKEW_MINORS = 3
"""A kubelet may be up to three minor versions older than kube-apiserver, and never newer (Kubernetes
version skew policy, kubernetes.io/releases/version-skew-policy, since 1.28)."""


def _minor_skew(control_plane: str, nodes: str) -> int | None:
    try:
        (major, minor), (node_major, node_minor) = (tuple(map(int, v.split(".")[:2])) for v in (control_plane, nodes))
    except ValueError:
        return None
    return minor - node_minor if major == node_major else None


def _pages(eks: _Counted, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every page of a listing (one call each, counted)."""
    found: list[Any] = []
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = eks.call(operation, **kwargs, **({"nextToken": token} if token else {}))
        found += page.get(key, [])
        token = page.get("nextToken")
        if not token or token in seen:  # a repeated token ends it, as botocore's paginators do
            return found
        seen.add(token)


def _insights(cluster: ClusterSpec, eks: _Counted, row: ClusterRow) -> None:
    """The upgrade-readiness insights only (ListInsights returns every category by default)."""
    try:
        listed = _pages(eks, "list_insights", "insights", clusterName=cluster.name, filter={"categories": ["UPGRADE_READINESS"]})
    except (ClientError, BotoCoreError) as error:
        _unknown(row, "eks:ListInsights", error)
        return
    counts: dict[str, int] = {}
    for insight in listed:
        status = str((insight.get("insightStatus") or {}).get("status", UNKNOWN))
        counts[status] = counts.get(status, 0) + 1
    row.insights = counts
    if counts.get("ERROR"):
        row.problems.append(f"{counts['ERROR']} upgrade insight(s) in ERROR")


def _node_groups(cluster: ClusterSpec, eks: _Counted, row: ClusterRow) -> None:
    try:
        names = _pages(eks, "list_nodegroups", "nodegroups", clusterName=cluster.name)
    except (ClientError, BotoCoreError) as error:
        _unknown(row, "eks:ListNodegroups", error)
        return
    seen: set[str] = set()
    complete = True
    for name in sorted(names):
        try:
            group = eks.call("describe_nodegroup", clusterName=cluster.name, nodegroupName=name)["nodegroup"]
        except (ClientError, BotoCoreError) as error:
            row.node_groups.append(NodeGroupRow(name, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, None, None, None))
            _unknown(row, f"eks:DescribeNodegroup {name}", error)
            complete = False
            continue
        scaling = group.get("scalingConfig") or {}
        declared = str((group.get("labels") or {}).get(NODE_GROUP_LABEL, UNKNOWN))
        seen.add(declared)
        entry = NodeGroupRow(
            name,
            declared,
            str(group.get("status", UNKNOWN)),
            str(group.get("version", UNKNOWN)),
            str(group.get("releaseVersion", UNKNOWN)),
            scaling.get("desiredSize"),
            scaling.get("minSize"),
            scaling.get("maxSize"),
        )
        row.node_groups.append(entry)
        if entry.status != "ACTIVE":
            row.problems.append(f"node group {name} is {entry.status}")
        if (skew := _minor_skew(row.version, entry.version)) is not None and skew > KUBELET_SKEW_MINORS:
            row.problems.append(
                f"node group {name} runs {entry.version}, {skew} minors behind the control plane's {row.version} "
                f"(Kubernetes allows {KUBELET_SKEW_MINORS})"
            )
        elif skew is not None and skew < 0:
            row.problems.append(f"node group {name} runs {entry.version}, newer than the control plane's {row.version}")
    # Only a complete listing can say a group is gone (an empty one included: every group deleted).
    absent = sorted({g.name for g in cluster.node_groups} - seen) if complete else []
    row.problems += [f"node group {g} of the stack file is not in EKS" for g in absent]


def _addons(cluster: ClusterSpec, eks: _Counted, row: ClusterRow) -> None:
    for addon in MANAGED_ADDONS:
        try:
            described = eks.call("describe_addon", clusterName=cluster.name, addonName=addon)["addon"]
        except (ClientError, BotoCoreError) as error:
            row.addons[addon] = UNKNOWN
            if not (isinstance(error, ClientError) and _code(error) == "ResourceNotFoundException"):
                _unknown(row, f"eks:DescribeAddon {addon}", error)
            continue
        row.addons[addon] = str(described.get("addonVersion", UNKNOWN))
        if described.get("status") not in (None, "ACTIVE"):
            row.problems.append(f"add-on {addon} is {described.get('status')}")


@dataclass
class EdgeChecks:
    """The stack's edge health checks, read once per stack: ids by cluster (by their tags), Route 53's own
    verdict per cluster where CloudWatch has one, and the client that reads them (the DNS account's)."""

    ids: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    route53: Any = None
    listed: bool = False
    """Whether the listing succeeded: only then is a check that is not found missing."""
    note: str | None = None
    metric_note: str | None = None
    """Why CloudWatch gave no verdicts, when it refused (the fallback then says so)."""
    calls: int = 0


def _dns_clients(spec: FleetSpec, clients: ClientFactory) -> tuple[Any, Any]:
    """Route 53 and CloudWatch (us-east-1, where Route 53 publishes HealthCheckStatus) as the account that
    holds the checks: with fleet:dns.account, through its preview role (else its role), as the program's
    own DNS provider reaches it."""
    account = spec.dns.account if spec.dns is not None else None
    if account is None:
        return clients("route53", "us-east-1"), clients("cloudwatch", "us-east-1")
    import boto3

    role = account.preview_role_arn or account.role_arn
    credentials = clients("sts", "us-east-1").assume_role(RoleArn=role, RoleSessionName="fleet-status")["Credentials"]
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
    return (
        session.client("route53", region_name="us-east-1", config=config),
        session.client("cloudwatch", region_name="us-east-1", config=config),
    )


def edge_checks(spec: FleetSpec, clients: ClientFactory, stack: str | None = None, now: dt.datetime | None = None) -> EdgeChecks:
    """Each routed cluster's edge check, found by its tags (fleet-cluster, Name "<cluster> edge"), and
    Route 53's verdict on it: the CloudWatch metric AWS/Route53 HealthCheckStatus (1 healthy, 0 not), which
    is the check's status after its failure threshold and the 18% rule, in one GetMetricData per stack."""
    found = EdgeChecks()
    if spec.dns is None:
        return found
    try:
        found.route53, cloudwatch = _dns_clients(spec, clients)
        ids: list[str] = []
        for page in found.route53.get_paginator("list_health_checks").paginate():
            found.calls += 1
            ids += [c["Id"] for c in page.get("HealthChecks", [])]
        for start in range(0, len(ids), 10):  # ListTagsForResources takes at most 10 ids
            found.calls += 1
            tagged = found.route53.list_tags_for_resources(ResourceType="healthcheck", ResourceIds=ids[start : start + 10])
            for entry in tagged.get("ResourceTagSets", []):
                tags = {t["Key"]: t["Value"] for t in entry.get("Tags", [])}
                cluster = tags.get("fleet-cluster")
                # This stack's checks only (its providers' default tag): another stack's cluster of the
                # same name must neither answer for it nor hide a missing one.
                if cluster and tags.get("Name") == f"{cluster} edge" and (stack is None or tags.get("fleet-stack") == stack):
                    found.ids[cluster] = entry["ResourceId"]
        found.listed = True
    except (ClientError, BotoCoreError) as error:
        found.note = f"Route 53 health checks: unknown ({_code(error) if isinstance(error, ClientError) else error})"
        return found
    found.verdicts, calls, refused = _verdicts(cloudwatch, found.ids, now or dt.datetime.now(dt.UTC))
    found.calls += calls
    found.metric_note = refused
    return found


METRIC_QUERIES_PER_CALL = 500
"""GetMetricData takes at most 500 queries a call (CloudWatch API reference)."""


def _verdicts(cloudwatch: Any, ids: Mapping[str, str], now: dt.datetime) -> tuple[dict[str, str], int, str | None]:
    """Route 53's verdict per cluster from AWS/Route53 HealthCheckStatus, the calls made, and why there
    are none when CloudWatch refused."""
    clusters = sorted(ids)
    verdicts: dict[str, str] = {}
    calls = 0
    for start in range(0, len(clusters), METRIC_QUERIES_PER_CALL):
        batch = clusters[start : start + METRIC_QUERIES_PER_CALL]
        queries = [
            {
                "Id": f"c{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Route53",
                        "MetricName": "HealthCheckStatus",
                        "Dimensions": [{"Name": "HealthCheckId", "Value": ids[cluster]}],
                    },
                    "Period": 60,
                    "Stat": "Minimum",
                },
            }
            for index, cluster in enumerate(batch)
        ]
        calls += 1
        try:
            answer = cloudwatch.get_metric_data(
                MetricDataQueries=queries, StartTime=now - dt.timedelta(minutes=5), EndTime=now, ScanBy="TimestampDescending"
            )
        except (ClientError, BotoCoreError) as error:
            return verdicts, calls, f"cloudwatch:GetMetricData: {_code(error) if isinstance(error, ClientError) else error}"
        for result in answer.get("MetricDataResults", []):
            values = result.get("Values") or []
            index = int(str(result.get("Id", "c-1"))[1:])
            if values and 0 <= index < len(batch):
                # Newest first (ScanBy TimestampDescending).
                verdicts[batch[index]] = "healthy" if values[0] >= 1 else "unhealthy"
    return verdicts, calls, None


def _check_health(checks: EdgeChecks, cluster: str, row: ClusterRow) -> None:
    if checks.note is not None:
        row.edge_health = UNKNOWN
        row.notes.append(checks.note)
        return
    check_id = checks.ids.get(cluster)
    if check_id is None and not checks.listed:
        row.edge_health = UNKNOWN
        return
    if check_id is None:
        row.edge_health = "missing"
        row.problems.append(
            f"no edge health check for {cluster} in Route 53 (tags fleet-cluster={cluster}, Name '{cluster} edge')"
        )
        return
    if cluster in checks.verdicts:
        row.edge_health = checks.verdicts[cluster]
    else:
        # No datapoint in CloudWatch yet: the checkers' last observations, which Route 53 judges by the
        # same 18% rule but after each checker's failure threshold, which this cannot see.
        row.calls += 1
        try:
            observations = checks.route53.get_health_check_status(HealthCheckId=check_id).get("HealthCheckObservations", [])
        except (ClientError, BotoCoreError) as error:
            row.edge_health = UNKNOWN
            _unknown(row, "route53:GetHealthCheckStatus", error)
            return
        if not observations:
            row.edge_health = UNKNOWN
            return
        good = sum(str((o.get("StatusReport") or {}).get("Status", "")).startswith("Success") for o in observations)
        row.edge_health = "healthy" if good / len(observations) > HEALTHY_CHECKER_SHARE else "unhealthy"
        why = checks.metric_note or "no HealthCheckStatus datapoint in CloudWatch"
        row.notes.append(f"edge health from the checkers' last observations ({why})")
    if row.edge_health == "unhealthy":
        row.problems.append("its edge's Route 53 health check is unhealthy")


def _arc(spec: FleetSpec, cluster: str, arc_client: ArcClientFor, row: ClusterRow) -> None:
    """The cluster's routing control state, from the first ARC cluster endpoint that answers."""
    runtime = spec.dns.arc_runtime if spec.dns is not None and spec.dns.arc else None
    control = runtime.routing_controls.get(cluster) if runtime is not None else None
    if runtime is None or control is None:
        return
    row.arc = UNKNOWN
    for region, endpoint in sorted(runtime.cluster_endpoints.items()):
        row.calls += 1
        try:
            state = arc_client(str(endpoint), region).get_routing_control_state(RoutingControlArn=control)
        except (ClientError, BotoCoreError):
            continue
        row.arc = str(state["RoutingControlState"])
        break
    if row.arc == "Off":
        row.problems.append("its ARC routing control is Off: its records are out of every answer")


@dataclass(frozen=True)
class StackFacts:
    """What every row needs of the stack file, derived once per stack rather than once per cluster."""

    routed: frozenset[str]
    """Clusters that some record names (their edge has a health check)."""
    members: frozenset[str]
    """Clusterset members (they run Submariner gateways)."""
    hub: str | None
    """The cluster running Argo CD, if this stack has one."""


def facts_of(spec: FleetSpec) -> StackFacts:
    clusterset = submariner.plan_clusterset(spec)
    return StackFacts(
        routed=frozenset(t.cluster for r in (spec.dns.records if spec.dns else []) for t in r.targets()),
        members=frozenset(m.name for m in clusterset.members) if clusterset else frozenset(),
        hub=spec.hub.name if spec.argocd is not None and spec.hub is not None else None,
    )


def cluster_row(
    spec: FleetSpec,
    cluster: ClusterSpec,
    clients: ClientFactory,
    arc_client: ArcClientFor,
    checks: EdgeChecks,
    today: Any,
    kube: status_kube.Getter | None = None,
    facts: StackFacts | None = None,
) -> ClusterRow:
    facts = facts or facts_of(spec)
    row = ClusterRow(cluster.name, cluster.region, "ok")
    eks = _Counted(clients("eks", cluster.region), row)
    api = _eks(cluster, eks, row, today)
    if api is None:
        return row
    _insights(cluster, eks, row)
    _node_groups(cluster, eks, row)
    _addons(cluster, eks, row)
    if cluster.name in facts.routed:
        _check_health(checks, cluster.name, row)
    _arc(spec, cluster.name, arc_client, row)
    if kube is not None and api.endpoint:
        _kubernetes(cluster, api, kube, row, facts)
    if row.problems:
        row.state = "degraded"
    return row


def _kubernetes(cluster: ClusterSpec, api: status_kube.Api, kube: status_kube.Getter, row: ClusterRow, facts: StackFacts) -> None:
    found, problems = status_kube.read(api, kube, cluster.name in facts.members, cluster.name == facts.hub)
    row.kubernetes = found
    row.problems += problems
    if isinstance(found, dict):
        ready = found["readyNodes"]
        for group in row.node_groups:
            group.ready_nodes = ready.get(group.name, 0)


SEVERITY = {"ok": 0, "unknown": 1, "degraded": 1, "missing": 2, "unreachable": 3}
EXIT = {
    "ok": ExitCode.OK,
    "unknown": ExitCode.DEGRADED,
    "degraded": ExitCode.DEGRADED,
    "missing": ExitCode.MISSING,
    "unreachable": ExitCode.UNREACHABLE,
}


def collect(
    spec: FleetSpec,
    clients: ClientFactory,
    today: Any,
    arc_client: ArcClientFor | None = None,
    progress: TextIO | None = None,
    workers: int = 32,
    kube: status_kube.Getter | None = None,
    stack: str | None = None,
) -> tuple[list[ClusterRow], int]:
    """Every cluster's row, in the stack file's order, and the stack-wide calls (the health check listing)."""
    checks = edge_checks(spec, clients, stack)
    shared = checks.calls
    facts = facts_of(spec)
    rows: list[ClusterRow] = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(spec.clusters)))) as pool:
        futures = [
            pool.submit(cluster_row, spec, c, clients, arc_client or arc_clients, checks, today, kube, facts)
            for c in spec.clusters
        ]
        for done, (cluster, future) in enumerate(zip(spec.clusters, futures, strict=True), 1):
            try:
                rows.append(future.result())
            except Exception as error:  # one cluster's surprise must not cost every other row
                row = ClusterRow(cluster.name, cluster.region, "unknown")
                row.notes.append(f"reading it failed: {type(error).__name__}: {error}")
                rows.append(row)
            if progress is not None:
                progress.write(f"\r{done}/{len(futures)} clusters")
                progress.flush()
    if progress is not None:
        progress.write("\n")
    return rows, shared


def exit_code(rows: Sequence[ClusterRow]) -> ExitCode:
    worst = max((row.state for row in rows), key=SEVERITY.__getitem__, default="ok")
    return EXIT[worst]


def as_json(rows: Sequence[ClusterRow], stack: str, elapsed: float) -> dict[str, Any]:
    # The counts per state: the exit code is the worst one, and a pipeline may need the others (a
    # missing cluster beside an unreachable region).
    summary = {state: sum(r.state == state for r in rows) for state in SEVERITY}
    return {"stack": stack, "seconds": round(elapsed, 2), "summary": summary, "clusters": [asdict(r) for r in rows]}


def text(rows: Sequence[ClusterRow]) -> str:
    lines = []
    for row in rows:
        head = f"{row.cluster} ({row.region}): {row.state.upper()}"
        if row.state in ("missing", "unreachable", "unknown"):
            lines.append(f"{head}: {'; '.join(row.problems + row.notes)}")
            continue
        insights = (
            row.insights
            if isinstance(row.insights, str)
            else ", ".join(f"{k} {v}" for k, v in sorted(row.insights.items())) or "none"
        )
        lines.append(
            f"{head}: EKS {row.version} ({row.platform_version}), {row.status}, {row.support_type} support until "
            f"{row.support_ends}; insights: {insights}; edge: {row.edge_health or 'not routed'}"
            + (f"; ARC control: {row.arc}" if row.arc else "")
        )
        for group in row.node_groups:
            ready = "" if group.ready_nodes is None else f", {group.ready_nodes} Ready"
            lines.append(
                f"  {group.group} ({group.name}): {group.status}, {group.version} ({group.release}), "
                f"desired {group.desired} min {group.min} max {group.max}{ready}"
            )
        lines.append("  add-ons: " + ", ".join(f"{k} {v}" for k, v in row.addons.items()))
        if isinstance(row.kubernetes, str):
            lines.append(f"  Kubernetes API: {row.kubernetes}")
        elif row.kubernetes is not None:
            for gateway in row.kubernetes.get("gateways", []):
                peers = ", ".join(f"{p} {s}" for p, s in sorted(gateway["connections"].items())) or "no connections"
                lines.append(f"  Submariner gateway {gateway['gateway']} ({gateway['haStatus']}): {peers}")
            for name, app in sorted(row.kubernetes.get("applications", {}).items()):
                lines.append(f"  Argo CD {name}: {app['sync']}, {app['health']}")
        lines += [f"  ! {p}" for p in row.problems]
        lines += [f"  ? {n}" for n in row.notes]
    return "\n".join(lines)


def main(
    stack: str,
    as_json_output: bool,
    clients: ClientFactory = boto3_clients,
    arc_client: ArcClientFor | None = None,
    today: Any = None,
    kube: status_kube.Getter | None = status_kube.https_get,
) -> int:
    from components.config import clock
    from components.config.errors import ConfigError
    from components.config.stack_files import StackFileError
    from components.planning import checks
    from offline.stacks import stack_config

    try:
        spec = checks.stack_fleet({k.removeprefix("fleet:"): v for k, v in stack_config(stack).items()}, stack)
    except (ConfigError, StackFileError) as error:
        print(f"python -m deploy status: {error}", file=sys.stderr)
        return int(ExitCode.FAILED)
    started = time.monotonic()
    progress = sys.stderr if sys.stderr.isatty() else None
    if not _has_credentials():
        print("python -m deploy status: no AWS credentials (environment, profile or instance role)", file=sys.stderr)
        return int(ExitCode.FAILED)
    rows, _ = collect(spec, clients, today or clock.today(), arc_client, progress=progress, kube=kube, stack=stack)
    elapsed = time.monotonic() - started
    print(json.dumps(as_json(rows, stack, elapsed), indent=2) if as_json_output else text(rows))
    return int(exit_code(rows))


def _has_credentials() -> bool:
    import boto3

    return boto3.session.Session().get_credentials() is not None


def cli(argv: Sequence[str]) -> int:
    import argparse
    import os

    from components.config import clock

    parser = argparse.ArgumentParser(
        prog="python -m deploy status",
        description="Every cluster of a stack file as AWS sees it now, with AWS credentials alone.",
        epilog=(
            "Exit codes: 0 all well, 1 the stack file does not evaluate or no AWS credentials, 2 usage, 9 degraded "
            "(a status, health check or routing control not as it should be) or unknown (a cluster that could not be "
            "described: denied, throttled, or reading it failed), 10 a cluster of the file is not in EKS, 11 a region's "
            "EKS API did not answer. The worst one found is returned; --json has the count per state."
        ),
    )
    parser.add_argument("--stack", required=True, help="stack name (its Pulumi.<stack>.yaml is read), or org/project/stack")
    parser.add_argument("--json", action="store_true", help="one JSON document instead of text")
    parser.add_argument("--today", metavar="YYYY-MM-DD", help=f"read EKS's support calendar on this day (sets {clock.ENV})")
    parser.add_argument(
        "--no-kubernetes", action="store_true", help="read AWS's APIs only, not each cluster's own (nodes, Submariner, Argo CD)"
    )
    args = parser.parse_args(argv)
    if args.today:
        os.environ[clock.ENV] = args.today
    return main(args.stack.rsplit("/", 1)[-1], args.json, kube=None if args.no_kubernetes else status_kube.https_get)
