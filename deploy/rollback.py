"""``python -m deploy rollback --stack S --cluster C``: one cluster back a minor.

EKS's rules (amazon-eks-user-guide ``rollback-cluster.adoc``): within 7 days of an in-place version
update, to a supported minor (into extended support only with the EXTENDED support type); only an
ERROR ROLLBACK_READINESS insight blocks (``--force`` bypasses EKS's insight checks, nothing else).
The order is the guide's: insights (refreshed), managed node groups on the current minor back first,
then every add-on at a build the previous minor cannot run (kube-proxy), insights again now that the
nodes have moved, then the control plane (UpdateClusterVersion to the previous minor). Then the stack
config is reconciled to the version the cluster runs, in the same run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pulumi import automation as auto

from components.aws import eks_releases, eks_versions
from components.config.model import FleetSpec
from deploy.runner import ExitCode

ROLLBACK_WINDOW = dt.timedelta(days=7)
POLL_SECONDS = 30

EksClients = Callable[[str], Any]
"""Region -> a boto3 EKS client."""


class ConfigurableStack(Protocol):
    """The part of ``pulumi.automation.Stack`` that writes config (tests pass a fake)."""

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None: ...

    def remove_config(self, key: str, *, path: bool = False) -> None: ...


@dataclass
class RollbackSummary:
    stack: str
    cluster: str
    exit_code: ExitCode = ExitCode.OK
    steps: list[str] = field(default_factory=list)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "cluster": self.cluster,
            "result": "succeeded" if self.exit_code == ExitCode.OK else "refused" if self.steps == [] else "failed",
            "exitCode": int(self.exit_code),
            "steps": self.steps,
            "error": self.error,
            "note": "add-ons at a build EKS lists as compatible with the previous minor stay; the others move to its "
            "pinned build (components/aws/eks_releases.py) or EKS's default",
        }


def _wait(eks: Any, cluster: str, update: str, sleep: Callable[[float], None], nodegroup: str | None = None) -> str:
    """The final status of an EKS update (Successful, Failed or Cancelled)."""
    while True:
        kwargs = {"name": cluster, "updateId": update, **({"nodegroupName": nodegroup} if nodegroup else {})}
        status: str = eks.describe_update(**kwargs)["update"]["status"]
        if status != "InProgress":
            return status
        sleep(POLL_SECONDS)


def paged(call: Callable[..., dict[str, Any]], key: str, **kwargs: Any) -> list[Any]:
    """Every item of a paginated EKS list call (nextToken), not just its first page."""
    items: list[Any] = []
    while True:
        page = call(**kwargs)
        items += page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return items
        kwargs = {**kwargs, "nextToken": token}


def _version_events(eks: Any, cluster: str) -> list[dict[str, Any]]:
    """The cluster's successful version changes, newest first: in-place updates (VersionUpdate) and
    rollbacks (VersionRollback), found in the whole update history by their Version param."""
    found = []
    for update_id in paged(eks.list_updates, "updateIds", name=cluster):
        update = eks.describe_update(name=cluster, updateId=update_id)["update"]
        if update.get("type") in ("VersionUpdate", "VersionRollback") and update.get("status") == "Successful":
            found.append(update)
    return sorted(found, key=lambda u: u["createdAt"], reverse=True)


def _version(update: dict[str, Any]) -> str | None:
    return {p.get("type"): p.get("value") for p in update.get("params", [])}.get("Version")


FIXED_BY_ROLLBACK = ("version skew", "add-on")
"""The ROLLBACK_READINESS checks this procedure itself fixes before the control plane moves
(rollback-cluster.adoc, "Rollback readiness checks": kubelet and kube-proxy version skew, add-on
version compatibility), found by their names: they fail while the nodes and add-ons run the current
minor, so the first reading lists them and only the reading after the nodes and add-ons moved counts them."""

PINNED_ADDONS: dict[str, Callable[[eks_releases.MinorRelease], str]] = {
    "kube-proxy": lambda release: release.kube_proxy,
    "coredns": lambda release: release.coredns,
    "vpc-cni": lambda release: release.vpc_cni,
}
"""The add-ons whose build per minor the program pins (components/aws/eks_releases.py); the others
(components/aws/eks_addons.py) take EKS's default build for the minor, as the program does."""


def refresh_insights(eks: Any, cluster: str, sleep: Callable[[float], None]) -> str | None:
    """Have EKS re-evaluate the cluster's insights now (StartInsightsRefresh) rather than read results of
    up to a day ago; why that failed, or None."""
    eks.start_insights_refresh(clusterName=cluster)
    while (refresh := eks.describe_insights_refresh(clusterName=cluster)).get("status") == "IN_PROGRESS":
        sleep(POLL_SECONDS)
    if refresh.get("status") != "COMPLETED":
        return f"{cluster}: EKS's insights refresh ended {refresh.get('status')}: {refresh.get('message', '')}"
    return None


def _readiness(eks: Any, cluster: str, *, nodes_moved: bool) -> tuple[list[str], list[str]]:
    """(blocking, advisory) ROLLBACK_READINESS insights: only ERROR blocks a rollback; WARNING and
    UNKNOWN do not (rollback-cluster.adoc, "Insight status behavior"). Before the nodes and add-ons
    have moved back, the checks that move fixes are listed, not counted."""
    found = paged(eks.list_insights, "insights", clusterName=cluster, filter={"categories": ["ROLLBACK_READINESS"]})
    blocking, advisory = [], []
    for insight in found:
        status = insight.get("insightStatus") or {}
        line = f"insight {insight.get('name')} is {status.get('status')}: {status.get('reason', '')}"
        fixed_here = any(part in str(insight.get("name", "")).lower() for part in FIXED_BY_ROLLBACK)
        if status.get("status") == "ERROR" and (nodes_moved or not fixed_here):
            blocking.append(line)
        elif status.get("status") == "ERROR":
            advisory.append(f"{line} (the rollback moves the nodes and add-ons first; counted then)")
        elif status.get("status") in ("WARNING", "UNKNOWN"):
            advisory.append(line)
    return blocking, advisory


def _addon_builds(eks: Any, addon: str, minor: str) -> tuple[set[str], str | None]:
    """The builds of ``addon`` EKS lists as compatible with ``minor``, and its default among them
    (DescribeAddonVersions)."""
    compatible: set[str] = set()
    default = None
    for entry in paged(eks.describe_addon_versions, "addons", addonName=addon, kubernetesVersion=minor):
        for version in entry.get("addonVersions", []):
            for compatibility in version.get("compatibilities", []):
                if compatibility.get("clusterVersion") == minor:
                    compatible.add(version["addonVersion"])
                    if compatibility.get("defaultVersion"):
                        default = version["addonVersion"]
    return compatible, default


@dataclass(frozen=True)
class RollbackRun:
    stack: str
    cluster: str
    spec: FleetSpec
    open_stack: Callable[[str], ConfigurableStack]
    eks_for: EksClients
    now: dt.datetime
    sleep: Callable[[float], None]
    force: bool


def rollback(
    stack: str,
    cluster: str,
    spec: FleetSpec,
    open_stack: Callable[[str], ConfigurableStack],
    eks_for: EksClients,
    now: dt.datetime,
    sleep: Callable[[float], None] = time.sleep,
    force: bool = False,
) -> RollbackSummary:
    """EKS's order (rollback-cluster.adoc): readiness insights, then the node groups on the current
    minor back one (at the pinned image of the previous minor), then kube-proxy (never newer than the
    API server: Kubernetes version skew policy), then the control plane, then the stack's config, so
    the next ``pulumi up`` asks for what runs. A refusal or failure stops with what is where."""
    summary = RollbackSummary(stack, cluster)
    try:
        return _rollback(summary, RollbackRun(stack, cluster, spec, open_stack, eks_for, now, sleep, force))
    except ClientError as error:
        # An EKS refusal (e.g. a node group it will not move back): what was done is in the steps.
        summary.exit_code = ExitCode.FAILED
        summary.error = f"EKS refused {error.operation_name}: {error.response.get('Error', {}).get('Message', error)}"
        return summary
    except (BotoCoreError, auto.CommandError) as error:
        # Credentials that expired, an endpoint out of reach, the stack's config not written.
        summary.exit_code = ExitCode.FAILED
        summary.error = f"{type(error).__name__}: {error}; the steps done are listed, run the rollback again to go on"
        return summary


def _rollback(summary: RollbackSummary, run: RollbackRun) -> RollbackSummary:
    stack, cluster, spec, now, sleep, force = run.stack, run.cluster, run.spec, run.now, run.sleep, run.force
    index, entry = next(((i, c) for i, c in enumerate(spec.clusters) if c.name == cluster), (None, None))
    if entry is None or index is None:
        summary.exit_code, summary.error = ExitCode.FAILED, f"{stack} has no cluster {cluster}"
        return summary
    eks = run.eks_for(entry.region)
    described = eks.describe_cluster(name=cluster)["cluster"]
    current = described["version"]
    previous = f"{eks_releases.minor(current)[0]}.{eks_releases.minor(current)[1] - 1}"

    def refuse(reason: str) -> RollbackSummary:
        summary.exit_code, summary.error = ExitCode.FAILED, reason
        return summary

    if described.get("status") != "ACTIVE":
        return refuse(f"{cluster} is {described.get('status')}: wait for its update to end")
    events = _version_events(eks, cluster)
    if events and events[0].get("type") == "VersionRollback" and _version(events[0]) == current:
        # A rollback of an earlier run reached the control plane and stopped before the config: only
        # the config is left (a second rollback would take the cluster two minors down).
        run.open_stack(stack).set_config(f"fleet:clusters[{index}].kubernetesVersion", auto.ConfigValue(current), path=True)
        summary.steps.append(
            f"control plane already rolled back to {current}; stack config: fleet:clusters[{index}].kubernetesVersion = {current}"
        )
        return summary
    last = next((u for u in events if u.get("type") == "VersionUpdate" and _version(u) == current), None)
    if last is None:
        return refuse(f"{cluster} has no in-place update to {current} to roll back (it was created at {current})")
    if now - last["createdAt"] > ROLLBACK_WINDOW:
        return refuse(
            f"{cluster} was upgraded to {current} on {last['createdAt']:%Y-%m-%d}: EKS rolls back only within "
            f"{ROLLBACK_WINDOW.days} days of an in-place upgrade; move forward instead, or replace the cluster"
        )
    support = spec.support_of(entry).value
    window = eks_versions.SUPPORT.get(previous)
    release = eks_releases.RELEASES.get(previous)
    if window is None or release is None:
        return refuse(f"{previous} is not a version this program supports")
    if now.date() > window.extended_until:
        return refuse(f"{previous} left extended support on {window.extended_until}: EKS rolls back only to a supported version")
    if support == "STANDARD" and now.date() > window.standard_until:
        return refuse(
            f"{previous} left standard support on {window.standard_until}: rolling back into extended support needs "
            "supportType: EXTENDED on this cluster (deploy that first)"
        )
    nothing_moved = "Nothing was changed. Fix them, or pass --force to roll back anyway (EKS then skips all its insight checks)"
    if (why := _readiness_gate(run, eks, summary, None, nothing_moved)) is not None:
        return refuse(why)
    for group in paged(eks.list_nodegroups, "nodegroups", clusterName=cluster):
        if eks.describe_nodegroup(clusterName=cluster, nodegroupName=group)["nodegroup"].get("version") != current:
            continue
        update = eks.update_nodegroup_version(
            clusterName=cluster, nodegroupName=group, version=previous, releaseVersion=release.node_release
        )["update"]["id"]
        status = _wait(eks, cluster, update, sleep, nodegroup=group)
        summary.steps.append(f"node group {group} -> {previous} ({release.node_release}): {status}")
        if status != "Successful":
            return refuse(f"node group {group} rollback ended {status}; the control plane stays at {current}")
    if (why := _addons_back(eks, cluster, previous, release, sleep, summary)) is not None:
        return refuse(f"{why}; the control plane stays at {current}")
    # The nodes and add-ons now run the previous minor: EKS's checks see the state the control plane
    # will be rolled back in.
    stays = f"The control plane stays at {current}; fix them and run the rollback again (it goes on from here), or pass --force"
    if (why := _readiness_gate(run, eks, summary, previous, stays)) is not None:
        return refuse(why)
    update = eks.update_cluster_version(name=cluster, version=previous, **({"force": True} if force else {}))["update"]["id"]
    status = _wait(eks, cluster, update, sleep)
    summary.steps.append(f"control plane {current} -> {previous}: {status}")
    if status != "Successful":
        return refuse(f"control plane rollback ended {status}")
    run.open_stack(stack).set_config(f"fleet:clusters[{index}].kubernetesVersion", auto.ConfigValue(previous), path=True)
    summary.steps.append(f"stack config: fleet:clusters[{index}].kubernetesVersion = {previous}")
    return summary


def _readiness_gate(run: RollbackRun, eks: Any, summary: RollbackSummary, moved_to: str | None, then: str) -> str | None:
    """EKS's readiness, refreshed, before the nodes move (``moved_to`` None) or once they and the add-ons
    run ``moved_to``: why it stops the rollback (``then`` says what that leaves), or None."""
    if (why := refresh_insights(eks, run.cluster, run.sleep)) is not None:
        if not run.force:
            return f"{why}. {then}"
        summary.steps.append(f"readiness: {why} (--force)")
    blocking, advisory = _readiness(eks, run.cluster, nodes_moved=moved_to is not None)
    if blocking and not run.force:
        at = f" with its nodes and add-ons at {moved_to}" if moved_to else ""
        return f"EKS's rollback readiness for {run.cluster}{at}: {'; '.join(blocking)}. {then}"
    summary.steps += [f"readiness: {line}" for line in advisory if moved_to is None]
    summary.steps += [f"readiness: {line} (--force)" for line in blocking]
    return None


def _addons_back(
    eks: Any,
    cluster: str,
    previous: str,
    release: eks_releases.MinorRelease,
    sleep: Callable[[float], None],
    summary: RollbackSummary,
) -> str | None:
    """Every EKS add-on of the cluster at a build the previous minor cannot run (kube-proxy above all:
    never newer than the API server) moved to the previous minor's build: the pinned one, else EKS's
    default, the build the program's next deploy asks for. Why one failed, or None."""
    for addon in paged(eks.list_addons, "addons", clusterName=cluster):
        installed = eks.describe_addon(clusterName=cluster, addonName=addon)["addon"].get("addonVersion")
        compatible, default = _addon_builds(eks, addon, previous)
        if installed in compatible:
            continue
        pinned = PINNED_ADDONS.get(addon)
        target = pinned(release) if pinned is not None else default
        if target is None:
            return f"EKS lists no {addon} build for {previous}, and {installed} does not run there"
        update = eks.update_addon(clusterName=cluster, addonName=addon, addonVersion=target, resolveConflicts="PRESERVE")[
            "update"
        ]["id"]
        status = _wait_addon(eks, cluster, update, addon, sleep)
        summary.steps.append(f"{addon} {installed} -> {target}: {status}")
        if status != "Successful":
            return f"{addon} rollback ended {status}"
    return None


def _wait_addon(eks: Any, cluster: str, update: str, addon: str, sleep: Callable[[float], None]) -> str:
    while True:
        status: str = eks.describe_update(name=cluster, updateId=update, addonName=addon)["update"]["status"]
        if status != "InProgress":
            return status
        sleep(POLL_SECONDS)
