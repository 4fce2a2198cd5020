"""``python -m deploy rollback --stack S --cluster C``: one cluster back a minor.

EKS's rules (amazon-eks-user-guide ``rollback-cluster.adoc``): within 7 days of an in-place version
update, managed node groups first, then the control plane to the previous minor; add-ons are not
rolled back; into extended support only with the EXTENDED support type. Then the stack config is
reconciled to the version the cluster runs.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

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
            "note": "EKS add-ons are not rolled back; kube-proxy and CoreDNS stay at the newer minor's builds",
        }


def _wait(eks: Any, cluster: str, update: str, sleep: Callable[[float], None], nodegroup: str | None = None) -> str:
    """The final status of an EKS update (Successful, Failed or Cancelled)."""
    while True:
        kwargs = {"name": cluster, "updateId": update, **({"nodegroupName": nodegroup} if nodegroup else {})}
        status: str = eks.describe_update(**kwargs)["update"]["status"]
        if status != "InProgress":
            return status
        sleep(POLL_SECONDS)


def rollback(
    stack: str,
    cluster: str,
    spec: FleetSpec,
    open_stack: Callable[[str], ConfigurableStack],
    eks_for: EksClients,
    now: dt.datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> RollbackSummary:
    summary = RollbackSummary(stack, cluster)
    index, entry = next(((i, c) for i, c in enumerate(spec.clusters) if c.name == cluster), (None, None))
    if entry is None or index is None:
        summary.exit_code, summary.error = ExitCode.FAILED, f"{stack} has no cluster {cluster}"
        return summary
    eks = eks_for(entry.region)
    current = eks.describe_cluster(name=cluster)["cluster"]["version"]
    updates = [
        eks.describe_update(name=cluster, updateId=u)["update"] for u in eks.list_updates(name=cluster).get("updateIds", [])
    ]
    upgrades = [u for u in updates if u.get("type") == "VersionUpdate" and u.get("status") == "Successful"]
    last = max(upgrades, key=lambda u: u["createdAt"], default=None)
    previous = f"{eks_releases.minor(current)[0]}.{eks_releases.minor(current)[1] - 1}"

    def refuse(reason: str) -> RollbackSummary:
        summary.exit_code, summary.error = ExitCode.FAILED, reason
        return summary

    if last is None:
        return refuse(f"{cluster} has no in-place version update to roll back")
    if now - last["createdAt"] > ROLLBACK_WINDOW:
        return refuse(
            f"{cluster} was upgraded to {current} on {last['createdAt']:%Y-%m-%d}: EKS rolls back only within "
            f"{ROLLBACK_WINDOW.days} days of an in-place upgrade; move forward instead, or replace the cluster"
        )
    support = spec.support_of(entry).value
    window = eks_versions.SUPPORT.get(previous)
    if window is None:
        return refuse(f"{previous} is not a version this program supports")
    if support == "STANDARD" and now.date() > window.standard_until:
        return refuse(
            f"{previous} left standard support on {window.standard_until}: rolling back into extended support needs "
            "supportType: EXTENDED on this cluster (deploy that first)"
        )
    for group in eks.list_nodegroups(clusterName=cluster).get("nodegroups", []):
        update = eks.update_nodegroup_version(clusterName=cluster, nodegroupName=group, version=previous)["update"]["id"]
        status = _wait(eks, cluster, update, sleep, nodegroup=group)
        summary.steps.append(f"node group {group} -> {previous}: {status}")
        if status != "Successful":
            summary.exit_code, summary.error = ExitCode.FAILED, f"node group {group} rollback ended {status}"
            return summary
    update = eks.update_cluster_version(name=cluster, version=previous)["update"]["id"]
    status = _wait(eks, cluster, update, sleep)
    summary.steps.append(f"control plane {current} -> {previous}: {status}")
    if status != "Successful":
        summary.exit_code, summary.error = ExitCode.FAILED, f"control plane rollback ended {status}"
        return summary
    open_stack(stack).set_config(f"fleet:clusters[{index}].kubernetesVersion", auto.ConfigValue(previous), path=True)
    summary.steps.append(f"stack config: fleet:clusters[{index}].kubernetesVersion = {previous}")
    return summary
