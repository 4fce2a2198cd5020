"""A Kubernetes upgrade campaign, as pure data: which clusters move in which wave, the one-minor
hops each takes, its steps in EKS's order, and the gates checked before any change.

EKS's rules (components/aws/eks_releases.py): a control plane moves one minor per update and never
down; managed node groups must match it before the next update; nodes may trail by three minors.
So each hop is: control plane, then the add-ons pinned for the new minor, then every node group.
Waves run in order, each only once the one before is healthy; a joining stack's clusters go in the
hub stack's waves too, so staging moves before prod.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..aws import eks_addons, eks_releases, eks_versions
from ..config.model import AddonPin, FleetSpec
from . import gitops

THIS_STACK = ""


@dataclass(frozen=True)
class CampaignCluster:
    name: str
    stack: str
    """The joining stack it belongs to; THIS_STACK for this stack's own."""
    version: str
    support_type: str
    role: str
    labels: dict[str, str]
    node_groups: tuple[str, ...]
    clusterset_member: bool
    """A Submariner member: CoreDNS runs as the EKS add-on (the campaign moves it), and its gateways' connections are checked."""
    addon_pins: dict[str, AddonPin] = field(default_factory=dict)
    """The EKS add-ons it runs that fleet:addons pins (or leaves unset), by add-on name."""
    protected: bool = False
    """Protected from deletion (fleet:protect): a production cluster, which moves after the unprotected ones."""


@dataclass(frozen=True)
class Gate:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"gate": self.name, "passed": self.passed, "detail": self.detail}


@dataclass
class Wave:
    name: str
    clusters: list[CampaignCluster]
    hops: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "clusters": [c.name if not c.stack else f"{c.stack}/{c.name}" for c in self.clusters],
            "hops": self.hops,
            "steps": self.steps,
            "gates": [g.as_dict() for g in self.gates],
        }


@dataclass
class Campaign:
    target: str
    waves: list[Wave]
    problems: list[str]
    """Config problems (a cluster in no wave or in two): the campaign cannot be planned."""

    @property
    def passed(self) -> bool:
        return not self.problems and all(g.passed for w in self.waves for g in w.gates)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "problems": self.problems, "waves": [w.as_dict() for w in self.waves]}


def _clusters_of(spec: FleetSpec, stack: str) -> list[CampaignCluster]:
    members = set(spec.clusterset_members())
    return [
        CampaignCluster(
            c.name,
            stack,
            spec.version_of(c),
            spec.support_of(c).value,
            c.role,
            gitops.cluster_labels(c, stack or "this"),
            (*sorted(g.name for g in c.node_groups), *(["submariner-gateway"] if c.name in members else [])),
            c.name in members,
            {
                addon.name: getattr(spec.addons, addon.pin_field)
                for addon in eks_addons.EKS_ADDONS
                if getattr(c.addons, addon.switch)
            },
            spec.protects(c),
        )
        for c in sorted(spec.clusters, key=lambda c: c.name)
    ]


def fleet_clusters(spec: FleetSpec) -> list[CampaignCluster]:
    """This stack's clusters and, for a hub stack, those of every stack joining it (this project's files)."""
    found = _clusters_of(spec, THIS_STACK)
    for stack, joiner in sorted(spec.joining_stacks.items()):
        found += _clusters_of(joiner, stack)
    return found


def assign_waves(spec: FleetSpec, clusters: list[CampaignCluster]) -> tuple[list[Wave], list[str]]:
    """The configured waves (fleet:upgrades.waves) or the default; problems name every cluster in no
    wave or in two, and every name no cluster has."""
    if not spec.upgrades.waves:
        # One wave per joining stack, so a bad version stops in one environment: the stacks with no
        # protected cluster (staging, dev) before those with one (prod), then this stack's members, the hub last.
        joined: dict[str, list[CampaignCluster]] = {}
        for cluster in clusters:
            if cluster.stack:
                joined.setdefault(cluster.stack, []).append(cluster)
        order = sorted(joined, key=lambda stack: (any(c.protected for c in joined[stack]), stack))
        own = [c for c in clusters if not c.stack]
        default = [
            *(Wave(f"stack-{stack}", joined[stack]) for stack in order),
            Wave("members", [c for c in own if c.role != "hub"]),
            Wave("hub", [c for c in own if c.role == "hub"]),
        ]
        return [w for w in default if w.clusters], []
    by_name = {c.name: c for c in clusters}
    waves: list[Wave] = []
    problems: list[str] = []
    placed: dict[str, int] = {}
    for index, wave in enumerate(spec.upgrades.waves):
        where = f"fleet:upgrades.waves[{index}]"
        if wave.clusters is not None:
            chosen = []
            for k, name in enumerate(wave.clusters):
                if name in by_name:
                    chosen.append(by_name[name])
                else:
                    problems.append(f"{where}.clusters[{k}]: no cluster named {name!r} in this stack or a stack joining it")
        else:
            selector = wave.selector or {}
            chosen = [c for c in clusters if gitops.selects(selector, c.labels)]
            if not chosen:
                problems.append(f"{where}.selector: {selector} selects no cluster")
        for cluster in chosen:
            if cluster.name in placed:
                problems.append(
                    f"{where}: {cluster.name} is already in fleet:upgrades.waves[{placed[cluster.name]}]; "
                    "a cluster moves in one wave"
                )
            placed.setdefault(cluster.name, index)
        waves.append(Wave(wave.name or f"wave-{index + 1}", chosen))
    problems += [
        f"fleet:upgrades.waves: {c.name}{f' (stack {c.stack})' if c.stack else ''} is in no wave; add it to one"
        for c in clusters
        if c.name not in placed
    ]
    return waves, problems


def _start(cluster: CampaignCluster, target: str) -> str:
    """Where the cluster's hops start: its version, or the target for one already above it (no hop)."""
    return min(cluster.version, target, key=eks_releases.minor)


def _steps(cluster: CampaignCluster, hop: tuple[str, str]) -> list[str]:
    old, new = hop
    release = eks_releases.RELEASES.get(new)
    addons = (
        [
            f"kube-proxy {release.kube_proxy}",
            f"vpc-cni {release.vpc_cni}",
            f"coredns {release.coredns}",
        ]
        if release is not None
        else ["(no pinned add-on builds for this minor)"]
    )
    addons.append(f"cluster-autoscaler image {eks_releases.AUTOSCALER_IMAGE_TAGS.get(new, '(none for this minor)')}")
    for addon, pin in sorted(cluster.addon_pins.items()):
        if isinstance(pin, dict):
            addons.append(f"{addon} {pin.get(new, '(not pinned for this minor)')}")
        elif pin is not None:
            addons.append(f"{addon} {pin} (one pin for every minor: check it supports {new})")
        else:
            addons.append(f"{addon} EKS's default for {new} (DescribeAddonVersions)")
    return [
        f"{cluster.name}: control plane {old} -> {new}",
        f"{cluster.name}: add-ons {', '.join(addons)}",
        f"{cluster.name}: node groups {', '.join(cluster.node_groups)} -> {new}"
        + (f" (image {release.node_release}, rolling)" if release is not None else " (rolling)"),
    ]


def _gates(wave: Wave, target: str) -> list[Gate]:
    gates: list[Gate] = []
    above = [c for c in wave.clusters if eks_releases.minor(c.version) > eks_releases.minor(target)]
    gates.append(
        Gate(
            "version",
            not above,
            "; ".join(f"{c.name} runs {c.version}, above {target}: EKS never moves a control plane down" for c in above)
            or f"every cluster is at or below {target}",
        )
    )
    offered = target in eks_versions.SUPPORT
    gates.append(
        Gate(
            "support",
            offered,
            f"{target}: standard support until {eks_versions.SUPPORT[target].standard_until}"
            if offered
            else f"{target} is not a version this program supports (components/aws/eks_versions.py)",
        )
    )
    minors = sorted(
        {new for c in wave.clusters for _, new in eks_releases.hops(_start(c, target), target)}, key=eks_releases.minor
    )
    unpinned = [m for m in minors if m not in eks_releases.RELEASES or m not in eks_releases.AUTOSCALER_IMAGE_TAGS]
    # A per-minor pin (fleet:addons) must cover every minor the wave's clusters pass through.
    unpinned += sorted(
        {
            f"{addon} {new}"
            for c in wave.clusters
            for addon, pin in c.addon_pins.items()
            if isinstance(pin, dict)
            for _, new in eks_releases.hops(_start(c, target), target)
            if new not in pin
        }
    )
    gates.append(
        Gate(
            "add-ons",
            not unpinned,
            f"no pinned add-on builds or autoscaler image for {', '.join(unpinned)}"
            if unpinned
            else "kube-proxy, CoreDNS and the autoscaler image are pinned for " + (", ".join(minors) or "no hop"),
        )
    )
    # Offline the config is all there is: each hop moves the control plane one minor ahead of its
    # nodes, then the nodes follow. The runner checks the node groups EKS describes before each hop.
    gates.append(
        Gate(
            "skew",
            True,
            "configured node groups follow their control plane one hop at a time (EKS allows "
            f"{eks_releases.NODE_SKEW_MINORS} minors of kubelet skew); deploy upgrade reads the node groups' real "
            "versions before each hop and stops on one behind",
        )
    )
    return gates


def plan_campaign(spec: FleetSpec, target: str) -> Campaign:
    """The campaign that moves every cluster of the stack (and of stacks joining it) to ``target``."""
    clusters = fleet_clusters(spec)
    waves, problems = assign_waves(spec, clusters)
    for wave in waves:
        hops: set[tuple[str, str]] = set()
        for cluster in wave.clusters:
            if eks_releases.minor(cluster.version) > eks_releases.minor(target):
                continue  # refused by the version gate
            for hop in eks_releases.hops(cluster.version, target):
                hops.add(hop)
        for hop in sorted(hops, key=lambda h: eks_releases.minor(h[0])):
            wave.hops.append(f"{hop[0]} -> {hop[1]}")
            for cluster in wave.clusters:
                if hop in eks_releases.hops(_start(cluster, target), target):
                    wave.steps += _steps(cluster, hop)
        wave.gates = _gates(wave, target)
    return Campaign(target, waves, problems)


def application_problems(
    expected: list[gitops.GeneratedApplication],
    servers: dict[str, str],
    observed: dict[str, dict[str, Any]],
    since: dt.datetime,
) -> list[str]:
    """Why the Applications the hub's ApplicationSets generate for the wave's clusters are not all
    Synced and Healthy at their cluster, reconciled after the update that ended at ``since`` (a
    progressive sync step's own status is not trusted: argoproj/argo-cd#29410). They are matched by
    name and by ``destination.server``, which is what the sets' template sets (gitops.application_set_manifest)."""
    problems: list[str] = []
    for app in expected:
        found = observed.get(app.name)
        if found is None:
            problems.append(f"Application {app.name} ({app.cluster}) does not exist: its ApplicationSet has not generated it")
            continue
        server = (found.get("spec") or {}).get("destination", {}).get("server")
        if server != servers.get(app.cluster):
            problems.append(f"Application {app.name} deploys to {server}, not to {app.cluster} ({servers.get(app.cluster)})")
            continue
        status = found.get("status") or {}
        sync, health = status.get("sync", {}).get("status"), status.get("health", {}).get("status")
        reconciled = status.get("reconciledAt")
        fresh = reconciled is not None and dt.datetime.fromisoformat(reconciled.replace("Z", "+00:00")) >= since
        if sync != "Synced" or health != "Healthy" or not fresh:
            problems.append(
                f"Application {app.name} is {sync}/{health}"
                + ("" if fresh else f", not reconciled since the update ({reconciled})")
            )
    return problems


def running_version_problems(spec: FleetSpec, running: dict[str, str], stack: str) -> list[str]:
    """What a deploy would ask of EKS's running control planes that EKS refuses or should not be asked:
    a minor below the running one is a rollback request (refused after EKS's automatic upgrade at the
    end of support; a silent rollback otherwise, without its nodes and add-ons: deploy/rollback.py),
    and more than one minor above it is an update EKS refuses (one minor per UpdateClusterVersion).
    ``running`` is each existing cluster's DescribeCluster version, by name."""
    problems = []
    for i, cluster in enumerate(spec.clusters):
        now = running.get(cluster.name)
        if now is None:
            continue
        wanted = spec.version_of(cluster)
        path = f"fleet:clusters[{i}].kubernetesVersion" if cluster.kubernetes_version else "fleet:kubernetesVersion"
        if eks_releases.minor(wanted) < eks_releases.minor(now):
            problems.append(
                f"{path}: {cluster.name} runs Kubernetes {now} (EKS upgraded it: its automatic upgrade at the end of "
                f"support, or an update outside this program), and this deploy would ask EKS to roll its control plane "
                f"back to {wanted}. Set fleet:clusters[{i}].kubernetesVersion: {now}, or run the campaign "
                f"(python -m deploy upgrade --stack {stack} --to {now}), which finishes the hop EKS began; to go back, "
                f"python -m deploy rollback --stack {stack} --cluster {cluster.name}"
            )
        elif len(eks_releases.hops(now, wanted)) > 1:
            problems.append(
                f"{path}: {cluster.name} runs Kubernetes {now}; EKS moves a control plane one minor per update, not to "
                f"{wanted}: plan the campaign (python -m plan {stack} --upgrade-to {wanted})"
            )
    return problems
