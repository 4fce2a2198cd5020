"""``python -m deploy upgrade --stack S --to V`` runs an upgrade campaign wave by wave;
``python -m deploy rollback --stack S --cluster C`` rolls one cluster back a minor.

The campaign is the one ``python -m plan S --upgrade-to V`` prints (its gates first). For each wave
and one-minor hop:
1. EKS upgrade insights (ListInsights, UPGRADE_READINESS, the hop's version) must all be PASSING
   and no cluster update may be in progress;
2. the wave's clusters get ``kubernetesVersion`` raised one minor in their stacks' config, and each
   stack is refreshed and updated (control plane, pinned add-ons, then node groups: the program's
   dependency order);
3. health: every node Ready on the new kubelet minor and every managed node group ACTIVE at it;
   the wave's Argo CD Applications Synced and Healthy, reconciled after the update (a progressive
   sync step's own status is not trusted: argoproj/argo-cd#29410); Submariner gateways connected.
Then the soak, then approval (``--approve``, or the CI environment's own approval before this job).
It stops at the first failure and prints where, and the command that resumes there.

Rollback: deploy/rollback.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pulumi import automation as auto

from components.aws import eks_releases
from components.config import clock
from components.config.errors import ConfigError
from components.config.model import FleetSpec
from components.config.stack_files import StackFileError
from components.planning import cells, gitops, upgrades
from components.planning.upgrades import Campaign, CampaignCluster
from deploy import cells as deploy_cells
from deploy import rollback
from deploy.rollback import ConfigurableStack, EksClients
from deploy.runner import ROOT, DeployRequest, ExitCode, deploy

SUBMARINER_NAMESPACE = "submariner-operator"


class Kubectl(Protocol):
    def get(self, context: str, resource: str, namespace: str | None = None) -> list[dict[str, Any]]: ...


class CommandKubectl:
    """``kubectl get -o json`` against the merged fleet kubeconfig (``pulumi stack output kubeconfig``)."""

    def __init__(self, kubeconfig: Path | None) -> None:
        self.kubeconfig = kubeconfig

    def get(self, context: str, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        command = ["kubectl", "--context", context, "get", resource, "-o", "json"]
        command += ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []
        command += ["-n", namespace] if namespace else []
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(command[1:])}: {result.stderr.strip()}")
        items: list[dict[str, Any]] = json.loads(result.stdout).get("items", [])
        return items


def boto3_eks(region: str) -> Any:
    import boto3

    return boto3.client("eks", region_name=region)


@dataclass(frozen=True)
class Stop:
    wave: str
    hop: str
    gate: str
    detail: str


@dataclass
class UpgradeSummary:
    stack: str
    target: str
    exit_code: ExitCode = ExitCode.OK
    done: list[str] = field(default_factory=list)
    """"<wave>: <hop>" for every hop applied and found healthy."""
    stopped: Stop | None = None
    resume: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "target": self.target,
            "result": "succeeded" if self.exit_code == ExitCode.OK else "stopped",
            "exitCode": int(self.exit_code),
            "done": self.done,
            "stoppedAt": None if self.stopped is None else self.stopped.__dict__,
            "resume": self.resume,
        }


@dataclass
class Runner:
    """One campaign run's collaborators: all injectable, so tests run it without AWS or a cluster."""

    spec: FleetSpec
    campaign: Campaign
    open_stack: Callable[[str], ConfigurableStack]
    up: Callable[[str], tuple[bool, str]]
    """Refresh and update one stack: (succeeded, message)."""
    eks_for: EksClients
    kubectl: Kubectl
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    soak_minutes: int = 30
    approve: bool = False
    accept_unknown_insights: bool = False
    stack: str = ""
    """The stack the campaign runs from (its own clusters' fleet/stack label)."""
    celled: Callable[[str], bool] = lambda environment: False
    """Whether an environment deploys as cells (fleet:cells): its clusters then move cell by cell."""
    cells_at_once: int = 8
    """Cells of one wave updated at once (each a pulumi process)."""


def deploying_stack(runner: Runner, stack: str, cluster: CampaignCluster) -> str:
    """The stack whose up moves ``cluster``: its environment's, or in an environment of cells, its cell."""
    environment = cluster.stack or stack
    return cells.cell_stack(environment, cluster.name) if runner.celled(environment) else environment


def _region(spec: FleetSpec, cluster: CampaignCluster) -> str:
    owner = spec.joining_stacks.get(cluster.stack, spec) if cluster.stack else spec
    return next(c.region for c in owner.clusters if c.name == cluster.name)


def _context(spec: FleetSpec, cluster: str, stack: str = "") -> str:
    owner = spec.joining_stacks.get(stack, spec) if stack else spec
    return owner.kubeconfig.context_prefix + cluster


def _skew(runner: Runner, cluster: CampaignCluster, control_plane: str) -> str | None:
    """Why the cluster's managed node groups (as EKS describes them) keep the control plane from its
    next minor: EKS updates a control plane only once every managed node group matches it
    (update-cluster.adoc), and kubelets may trail it by NODE_SKEW_MINORS at most."""
    eks = runner.eks_for(_region(runner.spec, cluster))
    behind = []
    for group in rollback.paged(eks.list_nodegroups, "nodegroups", clusterName=cluster.name):
        version = eks.describe_nodegroup(clusterName=cluster.name, nodegroupName=group)["nodegroup"].get("version")
        if version != control_plane:
            behind.append(f"node group {group} is at {version}")
    if not behind:
        return None
    return (
        f"{cluster.name}: the control plane is at {control_plane} but {', '.join(behind)}: EKS updates the control plane "
        "only once every managed node group matches it; finish the groups first (pulumi up), then resume"
    )


def _insights(runner: Runner, cluster: CampaignCluster, old: str, version: str) -> str | None:
    """Why the cluster's control plane cannot go from ``old`` to ``version`` now, or None: an update in
    progress, node groups behind it, or its UPGRADE_READINESS insights, refreshed now
    (StartInsightsRefresh), not the reading of up to a day ago that predates this campaign's last
    change. UNKNOWN stops it unless --accept-unknown-insights. A control plane already at ``version``
    (EKS's automatic upgrade at the end of support, or a hop whose update stopped after it) passes:
    what is left of the hop is the config, the add-ons and the node groups."""
    eks = runner.eks_for(_region(runner.spec, cluster))
    described = eks.describe_cluster(name=cluster.name)["cluster"]
    if described.get("status") != "ACTIVE":
        return f"{cluster.name} is {described.get('status')}: an update is in progress; wait for it, then resume"
    running = described.get("version", "")
    if running == version:
        return None
    if running != old:
        return (
            f"{cluster.name} runs {running}, not {old}: the campaign's hop {old} -> {version} does not fit it; "
            f"set its kubernetesVersion to {running} (what runs), then plan again"
        )
    if (why := _skew(runner, cluster, running)) is not None:
        return why
    if (why := rollback.refresh_insights(eks, cluster.name, runner.sleep)) is not None:
        return why
    found = rollback.paged(
        eks.list_insights,
        "insights",
        clusterName=cluster.name,
        filter={"categories": ["UPGRADE_READINESS"], "kubernetesVersions": [version]},
    )
    accepted = {"PASSING", *(["UNKNOWN"] if runner.accept_unknown_insights else [])}
    failing = [i for i in found if (i.get("insightStatus") or {}).get("status") not in accepted]
    reasons = [
        f"{cluster.name}: insight {i.get('name')} is {(i.get('insightStatus') or {}).get('status')}: "
        f"{(i.get('insightStatus') or {}).get('reason', '')}"
        for i in failing
    ]
    if any((i.get("insightStatus") or {}).get("status") == "UNKNOWN" for i in failing):
        reasons.append("UNKNOWN means EKS could not tell; check it yourself, then resume with --accept-unknown-insights")
    return "; ".join(reasons) or None


def _index(spec: FleetSpec, cluster: CampaignCluster) -> int:
    owner = spec.joining_stacks.get(cluster.stack, spec) if cluster.stack else spec
    return next(i for i, c in enumerate(owner.clusters) if c.name == cluster.name)


def _health(runner: Runner, moving: list[CampaignCluster], version: str, since: dt.datetime) -> str | None:
    """Why the wave is not healthy at ``version`` after the update that ended at ``since``, or None."""
    problems: list[str] = []
    for cluster in moving:
        context = _context(runner.spec, cluster.name, cluster.stack)
        for node in runner.kubectl.get(context, "nodes"):
            name = node["metadata"]["name"]
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in node["status"].get("conditions", []))
            kubelet = node["status"].get("nodeInfo", {}).get("kubeletVersion", "")
            if not ready or not kubelet.startswith(f"v{version}."):
                problems.append(f"{cluster.name}: node {name} is {'Ready' if ready else 'not Ready'} at {kubelet or '?'}")
        eks = runner.eks_for(_region(runner.spec, cluster))
        for group in eks.list_nodegroups(clusterName=cluster.name).get("nodegroups", []):
            described = eks.describe_nodegroup(clusterName=cluster.name, nodegroupName=group)["nodegroup"]
            if described.get("status") != "ACTIVE" or described.get("version") != version:
                problems.append(f"{cluster.name}: node group {group} is {described.get('status')} at {described.get('version')}")
        if cluster.clusterset_member:
            for gateway in runner.kubectl.get(context, "gateways.submariner.io", SUBMARINER_NAMESPACE):
                for connection in gateway.get("status", {}).get("connections", []):
                    if connection.get("status") != "connected":
                        peer = connection.get("endpoint", {}).get("cluster_id", "?")
                        problems.append(f"{cluster.name}: Submariner connection to {peer} is {connection.get('status')}")
    problems += _application_problems(runner, moving, since)
    return "; ".join(problems) or None


def _application_problems(runner: Runner, moving: list[CampaignCluster], since: dt.datetime) -> list[str]:
    """The Applications the hub's ApplicationSets generate for the moved clusters (built by the code that
    writes the sets), each found by name at its cluster's server (the EKS endpoint; in-cluster for the hub)."""
    hub_spec = runner.spec if runner.spec.hub is not None else runner.spec.joined_hub
    if hub_spec is None or hub_spec.hub is None or hub_spec.gitops is None:
        return []
    servers: dict[str, str] = {}
    registered: list[gitops.RegisteredCluster] = []
    for cluster in moving:
        owner = runner.spec.joining_stacks.get(cluster.stack, runner.spec) if cluster.stack else runner.spec
        spec_cluster = next(c for c in owner.clusters if c.name == cluster.name)
        if cluster.name == hub_spec.hub.name:
            servers[cluster.name] = gitops.IN_CLUSTER_SERVER
        else:
            eks = runner.eks_for(_region(runner.spec, cluster))
            servers[cluster.name] = eks.describe_cluster(name=cluster.name)["cluster"]["endpoint"]
        registered.append(
            gitops.RegisteredCluster(
                cluster.name, servers[cluster.name], gitops.cluster_labels(spec_cluster, cluster.stack or runner.stack)
            )
        )
    expected = [app for s in hub_spec.gitops.application_sets for app in gitops.generated_applications(s, registered)]
    if not expected:
        return []
    observed = {
        app["metadata"]["name"]: app
        for app in runner.kubectl.get(_context(runner.spec, hub_spec.hub.name), "applications.argoproj.io", gitops.NAMESPACE)
    }
    return upgrades.application_problems(expected, servers, observed, since)


def run_campaign(stack: str, runner: Runner, from_wave: int = 1) -> UpgradeSummary:
    """Apply the campaign from wave ``from_wave`` (1-based); stop at the first failing gate."""
    target = runner.campaign.target
    summary = UpgradeSummary(stack, target)
    runner.stack = runner.stack or stack

    def stop(wave: str, hop: str, gate: str, detail: str, resume_wave: int) -> UpgradeSummary:
        summary.exit_code = ExitCode.FAILED
        summary.stopped = Stop(wave, hop, gate, detail)
        summary.resume = f"python -m deploy upgrade --stack {stack} --to {target} --from-wave {resume_wave}"
        return summary

    if not runner.campaign.passed:
        failing = [f"{g.name}: {g.detail}" for w in runner.campaign.waves for g in w.gates if not g.passed]
        return stop("-", "-", "plan", "; ".join(runner.campaign.problems + failing), from_wave)
    waves = runner.campaign.waves
    for number, wave in enumerate(waves, start=1):
        if number < from_wave:
            continue
        for hop in wave.hops:
            old, new = (part.strip() for part in hop.split("->"))
            moving = [
                c
                for c in wave.clusters
                if eks_releases.minor(c.version) <= eks_releases.minor(target)
                and (old, new) in eks_releases.hops(c.version, target)
            ]
            try:
                failed = _hop(runner, stack, moving, old, new)
            except (ClientError, BotoCoreError, auto.CommandError) as error:
                failed = ("aws" if not isinstance(error, auto.CommandError) else "config", _refused(error))
            if failed is not None:
                return stop(wave.name, hop, failed[0], failed[1], number)
            summary.done.append(f"{wave.name}: {hop}")
        if number < len(waves):
            runner.sleep(runner.soak_minutes * 60)
            if not runner.approve:
                summary.exit_code = ExitCode.AWAITING_APPROVAL
                summary.stopped = Stop(wave.name, "-", "approval", f"wave {number} ({wave.name}) is done and soaked")
                summary.resume = f"python -m deploy upgrade --stack {stack} --to {target} --from-wave {number + 1} --approve"
                return summary
    _settle_defaults(runner, stack, target, summary)
    return summary


def _hop(runner: Runner, stack: str, moving: list[CampaignCluster], old: str, new: str) -> tuple[str, str] | None:
    """One hop of one wave: the gate that stopped it and why, or None once it is applied and healthy."""
    for cluster in moving:
        if (why := _insights(runner, cluster, old, new)) is not None:
            return "insights", why
    stacks: dict[str, list[CampaignCluster]] = {}
    for cluster in moving:
        stacks.setdefault(deploying_stack(runner, stack, cluster), []).append(cluster)
    # Every config first (cells of one environment share its file: written one at a time), then the ups:
    # a wave of cells is a set of stacks updated side by side.
    opened = {name: runner.open_stack(name) for name in stacks}
    for name, clusters in stacks.items():
        for cluster in clusters:
            opened[name].set_config(_version_key(runner.spec, cluster), auto.ConfigValue(new), path=True)
    with ThreadPoolExecutor(max_workers=max(1, min(runner.cells_at_once, len(stacks)))) as pool:
        results = dict(zip(stacks, pool.map(runner.up, stacks), strict=True))
    failed = [name for name, (succeeded, _) in results.items() if not succeeded]
    for name in failed:
        # Where the control plane did not move, the config goes back to what it said, so the resumed
        # campaign plans this hop for that cluster again; where it moved, the config says so, or
        # every later deploy would be a rollback request the running-version check refuses.
        for cluster in stacks[name]:
            if _running(runner, cluster) == old:
                _restore_version(runner, opened[name], cluster)
    if failed:
        return "up", "; ".join(f"{name}: {results[name][1]}" if len(failed) > 1 else results[name][1] for name in failed)
    finished = runner.now()
    if (why := _health(runner, moving, new, finished)) is not None:
        return "health", why
    return None


def _running(runner: Runner, cluster: CampaignCluster) -> str:
    eks = runner.eks_for(_region(runner.spec, cluster))
    version: str = eks.describe_cluster(name=cluster.name)["cluster"].get("version", "")
    return version


def _version_key(spec: FleetSpec, cluster: CampaignCluster) -> str:
    return f"fleet:clusters[{_index(spec, cluster)}].kubernetesVersion"


def _restore_version(runner: Runner, opened: ConfigurableStack, cluster: CampaignCluster) -> None:
    """The cluster's kubernetesVersion as the stack file had it before this hop wrote it."""
    owner = runner.spec.joining_stacks.get(cluster.stack, runner.spec) if cluster.stack else runner.spec
    own = next(c for c in owner.clusters if c.name == cluster.name).kubernetes_version
    if own is None:
        opened.remove_config(_version_key(runner.spec, cluster), path=True)
    else:
        opened.set_config(_version_key(runner.spec, cluster), auto.ConfigValue(own), path=True)


def _refused(error: Exception) -> str:
    """An AWS or Automation API error as the stop says it (AccessDenied, throttling, a refusal, expired
    credentials, a config not written): the resume line follows."""
    if isinstance(error, ClientError):
        return f"EKS refused {error.operation_name}: {error.response.get('Error', {}).get('Message', error)}"
    return f"{type(error).__name__}: {error}"


def _settle_defaults(runner: Runner, stack: str, target: str, summary: UpgradeSummary) -> None:
    """Once every cluster of a stack is at ``target``, its fleet:kubernetesVersion says so and the
    per-cluster versions the hops wrote go: the stack file names one version again, and a cluster added
    later starts at the target, not at the old default."""
    by_stack: dict[str, list[CampaignCluster]] = {}
    for wave in runner.campaign.waves:
        for cluster in wave.clusters:
            by_stack.setdefault(cluster.stack or stack, []).append(cluster)
    for name, clusters in by_stack.items():
        owner = runner.spec.joining_stacks.get(name, runner.spec) if name != stack else runner.spec
        # An environment of cells writes its file through any of its cells (they all run with it).
        writer = deploying_stack(runner, stack, clusters[0]) if runner.celled(name) else name
        if eks_releases.minor(owner.kubernetes_version) >= eks_releases.minor(target):
            continue
        if {c.name for c in clusters} != {c.name for c in owner.clusters}:
            continue  # some of its clusters are not in this campaign: their default stays theirs
        opened = runner.open_stack(writer)
        opened.set_config("fleet:kubernetesVersion", auto.ConfigValue(target))
        for cluster in clusters:
            # The versions this campaign wrote, in this run or an earlier one (a resumed campaign reads
            # them back as the clusters' own): each equals the target, which the default now says.
            own = next(c for c in owner.clusters if c.name == cluster.name).kubernetes_version
            if own is None or own == target:
                opened.remove_config(_version_key(runner.spec, cluster), path=True)
        summary.done.append(f"{name}: fleet:kubernetesVersion = {target}")


# ---------------------------------------------------------------- command line


_OUTPUT_LOCK = threading.Lock()


class CellConfig:
    """A cell's config is its environment's file (planning/cells.py): ``pulumi config set|rm --config-file``
    writes it there (the Automation API's config calls take no config file)."""

    def __init__(self, stack: str, config_file: Path) -> None:
        self.stack, self.config_file = stack, config_file

    def _run(self, *arguments: str) -> None:
        command = ["pulumi", "config", *arguments, "--stack", self.stack, "--config-file", str(self.config_file)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise auto.CommandError(auto.CommandResult(done.stdout, done.stderr, done.returncode))

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self._run("set", *(["--path"] if path else []), key, value.value, "--plaintext")

    def remove_config(self, key: str, *, path: bool = False) -> None:
        self._run("rm", *(["--path"] if path else []), key)


def _select(stack: str) -> ConfigurableStack:
    if (environment := deploy_cells.environment_of_cell(stack)) is not None:
        return CellConfig(stack, ROOT / f"Pulumi.{environment}.yaml")
    if deploy_cells.is_celled(stack):
        # An environment of cells writes its file through one of its cells (its own stack may be gone).
        first = deploy_cells.environment_rounds(stack)[0][0]
        return CellConfig(first.stack, ROOT / first.file)
    stack_object: ConfigurableStack = auto.select_stack(stack_name=stack, work_dir=str(ROOT))
    return stack_object


def _up(packs: tuple[Path, ...]) -> Callable[[str], tuple[bool, str]]:
    def run(stack: str) -> tuple[bool, str]:
        environment = deploy_cells.environment_of_cell(stack)
        config_file = str(ROOT / f"Pulumi.{environment}.yaml") if environment is not None else None
        result = deploy(
            DeployRequest(stack=stack, operation="up", policy_packs=packs, config_file=config_file),
            # Cells of a wave update side by side: each line names its cell.
            progress=deploy_cells.Prefixed(stack, sys.stderr, _OUTPUT_LOCK) if environment is not None else None,
        )
        return result.exit_code == ExitCode.OK, result.error or ""

    return run


def main(argv: Sequence[str], eks_for: EksClients = boto3_eks, open_stack: Callable[[str], ConfigurableStack] = _select) -> int:
    # The offline evaluation (mocks, the program) loads only for these commands, not for a plain deploy.
    from offline import upgrade_gates
    from plan import report
    from plan.__main__ import evaluate

    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="run the upgrade campaign wave by wave")
    upgrade.add_argument("--stack", required=True)
    upgrade.add_argument("--to", required=True, dest="target", metavar="VERSION")
    upgrade.add_argument("--from-wave", type=int, default=1, help="resume at this wave (1-based), as a stop says")
    upgrade.add_argument("--soak-minutes", type=int, default=30)
    upgrade.add_argument("--approve", action="store_true", help="go on to the next wave without stopping for approval")
    upgrade.add_argument(
        "--accept-unknown-insights",
        action="store_true",
        help="go on when an EKS upgrade insight is UNKNOWN (EKS could not tell), after checking it yourself",
    )
    upgrade.add_argument("--kubeconfig", type=Path, help="the merged fleet kubeconfig (pulumi stack output kubeconfig)")
    back = commands.add_parser("rollback", help="roll one cluster back a minor, within EKS's 7-day window")
    back.add_argument("--stack", required=True)
    back.add_argument("--cluster", required=True)
    back.add_argument(
        "--force", action="store_true", help="roll back despite EKS's ERROR readiness insights (EKS skips all its insight checks)"
    )
    switch = commands.add_parser(
        "failover", help="ARC (fleet:dns.arc): set the routing controls, with AWS credentials and the stack file alone"
    )
    switch.add_argument("--stack", required=True)
    wanted = switch.add_mutually_exclusive_group(required=True)
    wanted.add_argument("--to", dest="target", metavar="CLUSTER", help="CLUSTER On, every other control Off")
    wanted.add_argument("--off", metavar="CLUSTER", help="CLUSTER Off, every other control On (evacuate one region)")
    wanted.add_argument("--normal", action="store_true", help="every control On: every healthy region serves")
    switch.add_argument(
        "--override-safety-rules",
        action="store_true",
        help="break glass: override the control panel's safety rules (at least minServingRegions On) for this change",
    )
    for command in (upgrade, back):
        command.add_argument("--today", metavar="YYYY-MM-DD", help=f"read EKS's support calendar on this day (sets {clock.ENV})")
    args = parser.parse_args(argv)
    if getattr(args, "today", None):
        os.environ[clock.ENV] = args.today
    if args.command == "failover":
        from deploy import failover

        stack_file = ROOT / f"Pulumi.{args.stack.rsplit('/', 1)[-1]}.yaml"
        return failover.main(stack_file, args.target, args.off, args.override_safety_rules)
    try:
        clock.today()
        spec, run = evaluate(args.stack)
    except (ConfigError, StackFileError) as error:
        # The stack as it is does not evaluate: nothing was changed (the plan command says the same).
        print(f"python -m deploy {args.command}: {error}", file=sys.stderr)
        return int(ExitCode.FAILED)
    if args.command == "rollback":
        result = rollback.rollback(args.stack, args.cluster, spec, open_stack, eks_for, clock.now(), force=args.force)
        print(json.dumps(result.as_json(), indent=2, default=str))
        return int(result.exit_code)
    campaign = upgrade_gates.gated_campaign(spec, run, args.target)
    print(report.campaign_text(campaign.as_dict()), file=sys.stderr)
    runner = Runner(
        spec,
        campaign,
        open_stack,
        _up((ROOT / "policy",)),
        eks_for,
        CommandKubectl(args.kubeconfig),
        soak_minutes=args.soak_minutes,
        approve=args.approve,
        accept_unknown_insights=args.accept_unknown_insights,
        celled=deploy_cells.is_celled,
    )
    summary = run_campaign(args.stack, runner, args.from_wave)
    print(json.dumps(summary.as_json(), indent=2))
    return int(summary.exit_code)


def dispatch(argv: Sequence[str]) -> int | None:
    """``python -m deploy upgrade|rollback|failover|status ...``; None for the plain deploy command."""
    if argv and argv[0] == "status":
        # Credentials alone: it loads neither the program nor the Automation API.
        from deploy import status

        return status.cli(argv[1:])
    return main(argv) if argv and argv[0] in ("upgrade", "rollback", "failover") else None
