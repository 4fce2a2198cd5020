"""python -m plan <stack> [--json] [--diagram FILE] | --all: what a stack (or every stack) declares, offline.

Runs the real program under Pulumi mocks with the stack's real config: no AWS credentials, no
Pulumi CLI. Exit status 0 with the plan; 1 when the config is invalid (the problems are printed)
or a guardrail of the policy pack fails (the plan says which).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from components.aws import eks_versions
from components.config import clock, hub_stack
from components.config.errors import ConfigError
from components.config.stack_files import StackFileError, load_yaml, read_stack_file
from components.planning import blast_radius, capacity, cells, checks, dns_answers, flows, gitops, identity, kubeconfig, preflight
from components.planning.trust import INTERCONNECT_OUTPUT
from offline import cells as offline_cells
from offline import harness, overlay_demand, stacks, upgrade_gates
from offline.harness import (
    creator_session,
    deployer_session,
    hub_stack_of,
    placeholder_hub,
    project_defaults,
    run_program,
    run_stack,
    stack_config,
    stack_file,
)
from offline.transition import ACCEPTABLE_RULES
from plan import report

HUB_EXPORTS = ("argocdHub", INTERCONNECT_OUTPUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plan", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", help="stack name (reads Pulumi.<stack>.yaml), or the stack file's name")
    parser.add_argument(
        "--all",
        action="store_true",
        help="every stack of this project, hubs first (the deploy order), each planned on the others' "
        "planned outputs: the hub's for a stack that joins it, its members' for a hub (exit 1 when one fails)",
    )
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--diagram", type=Path, help="write a Mermaid diagram of the topology to this file")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        metavar="FILE",
        help="write the merged fleet kubeconfig (the contexts `pulumi stack output kubeconfig` gives; offline, "
        "endpoints and CAs are placeholders) to this file, mode 0600, or - for stdout; never over a file that is not "
        "a kubeconfig of these contexts",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="FILE",
        help="a changed copy of the stack file: what `pulumi up` would create, update, replace and delete going to "
        "it, its preflight, and every step AWS or Pulumi would refuse (exit 1)",
    )
    parser.add_argument(
        "--access",
        action="store_true",
        help="who can do what on every cluster of this project's stacks (deployers, preview roles, fleet:access, "
        "the Argo CD hub role), from their configs alone",
    )
    parser.add_argument(
        "--upgrade-to",
        metavar="VERSION",
        help="the upgrade campaign to this Kubernetes minor: waves, hops, steps in order and every gate checked "
        "offline (exit 1 when one fails)",
    )
    parser.add_argument(
        "--what-if",
        metavar="TARGET:down[,...]",
        help="what Route 53 answers and whether the survivors carry the load when TARGET fails: a cluster, "
        "region:<region> or zone:<zone-id>, or with ARC arc:<cluster>:off; several at once, comma-separated "
        "(exit 1 when they fall short or clients get no answer)",
    )
    parser.add_argument(
        "--gitops",
        type=Path,
        default=None,
        metavar="DIR",
        help="the GitOps repository: with --upgrade-to, checked for APIs the target removes; with --what-if, "
        "the overlays demandFrom sums (default: gitops/)",
    )
    parser.add_argument(
        "--to",
        type=Path,
        metavar="FILE2",
        help="with --compare: go from FILE to FILE2 instead of from the stack's file to FILE (a runbook's steps)",
    )
    parser.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="RULE:NAME",
        help="with --compare: one step's rule whose condition you have checked online as its message says "
        f"({', '.join(ACCEPTABLE_RULES)}, at the step's resource name); listed as accepted, not an error",
    )
    parser.add_argument(
        "--cost",
        action="store_true",
        help="a monthly estimate per cluster, region and stack at dated list prices (components/aws/prices.py)",
    )
    parser.add_argument(
        "--today",
        metavar="YYYY-MM-DD",
        help=f"read EKS's support calendar on this day instead of the machine's (sets {clock.ENV})",
    )
    args = parser.parse_args(argv)
    for value in args.accept:
        rule, _, name = value.partition(":")
        if rule not in ACCEPTABLE_RULES or not name:
            parser.error(f"--accept {value}: expected RULE:NAME, RULE one of {', '.join(ACCEPTABLE_RULES)}")
    if args.today is not None:
        os.environ[clock.ENV] = args.today
    try:
        clock.today()
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    if args.all:
        if args.stack is not None or any((args.diagram, args.compare, args.access, args.upgrade_to, args.what_if, args.to)):
            print("--all plans every stack and takes no stack or other option but --json and --kubeconfig", file=sys.stderr)
            return 1
        return _plan_all(args.json, args.kubeconfig)
    if args.stack is None:
        parser.print_usage(sys.stderr)
        print("python -m plan: a stack, or --all", file=sys.stderr)
        return 1
    stack = stack_name(args.stack)
    if args.to is not None and args.compare is None:
        print("--to FILE2 needs --compare FILE (the config it starts from)", file=sys.stderr)
        return 1
    given = Path(args.stack)
    if given.name != args.stack and given.resolve() != stacks.stack_path(stack).resolve():
        # Planning the project's own Pulumi.<stack>.yaml instead would silently answer another question.
        print(
            f"{args.stack}: plan reads stacks from {stacks.STACK_DIR}; to preview a changed copy, run "
            f"python -m plan {stack} --compare {args.stack}",
            file=sys.stderr,
        )
        return 1
    if not stacks.stack_path(stack).is_file():
        available = ", ".join(harness.available_stacks()) or "none"
        print(f"no Pulumi.{stack}.yaml in {stacks.STACK_DIR} (stacks here: {available})", file=sys.stderr)
        return 1
    if args.access:
        return _access(args.json)
    try:
        celled = stack_config(stack).get("fleet:cells") is True and cells.cell_of(stack) is None
    except (ConfigError, StackFileError) as error:
        print(str(error), file=sys.stderr)
        return 1
    if celled:
        from plan import cells_plan

        return cells_plan.main(stack, args)
    try:
        hub_stack = hub_stack_of(stack)
        spec = checks.stack_fleet({key.removeprefix("fleet:"): value for key, value in stack_config(stack).items()}, stack)
        # The hub stack of this project is planned too, so a joining stack sees its real outputs.
        hub_run = run_stack(stack_name(hub_stack.rsplit("/", 1)[-1])) if hub_stack and spec.joined_hub else None
        hub_outputs: dict[str, Any] = {}
        if hub_run is not None:
            hub_outputs = {k: hub_run.exports[k] for k in HUB_EXPORTS if k in hub_run.exports}
        elif hub_stack is not None:
            hub_outputs = placeholder_hub(hub_stack, spec.hub_stack.account if spec.hub_stack else None)
        outputs = {hub_stack: hub_outputs} if hub_stack else None
        checked = preflight.run(spec)
        if not checked.passed:
            # What `pulumi up` would stop at, before registering anything: the whole preflight, then exit 1.
            found = checked.as_dict()
            print(
                json.dumps({"stack": stack, "preflight": found}, indent=2) if args.json else preflight.text(found),
                end="\n" if args.json else "",
            )
            return 1
        if spec.members:
            # A hub pulls its members' registrations: each member of this project is planned on this
            # stack's planned outputs first, and this stack on theirs (the deploy order's rounds).
            outputs = {**(outputs or {}), **_members_planned(stack, spec.members)}
        run = run_stack(stack, stack_outputs=outputs)
        listed = {m.rsplit("/", 1)[-1] for m in spec.joined_hub.members} if spec.joined_hub is not None else set()
        if hub_run is not None and hub_stack and stack in listed:
            # The hub's second round builds its side of this stack's peering and registration from
            # this stack's planned outputs: the paths are checked on that graph.
            exported = {gitops.REGISTRATION_OUTPUT: run.exports[gitops.REGISTRATION_OUTPUT]}
            member = f"{hub_stack.rsplit('/', 1)[0]}/{stack}"
            hub_run = run_stack(stack_name(hub_stack.rsplit("/", 1)[-1]), stack_outputs={member: exported})
        secrets = stack_file(stack).secrets
    except (ConfigError, StackFileError) as error:
        print(str(error), file=sys.stderr)
        return 1
    foreign = {flows.hub_stack_party(hub_stack): hub_outputs["argocdHub"]["egressIps"]} if hub_stack else None
    parties = {flows.hub_stack_party(hub_stack): hub_outputs["argocdHub"]["cluster"]} if hub_stack and hub_run else None
    graphed = harness.Run({**hub_run.registrations, **run.registrations}, {}, set(), []) if hub_run else run
    own = {cell} if (cell := cells.cell_of(stack)) is not None else None
    plan = report.build(stack, run, report.flow_paths(spec, graphed, foreign, parties, own))
    plan["preflight"] = checked.as_dict()
    # The program logged the preflight's warnings too; the plan shows them once, in its own section.
    plan["warnings"] = [w for w in plan["warnings"] if not w.startswith("preflight: ")]
    if secrets:
        plan["warnings"].insert(
            0,
            f"encrypted values ({', '.join(secrets)}) cannot be decrypted offline: the plan uses placeholders for them",
        )
    if args.diagram:
        try:
            args.diagram.write_text(report.mermaid(plan))
        except OSError as exc:
            print(f"cannot write the diagram to {args.diagram}: {exc.strerror}", file=sys.stderr)
            return 1
    if args.kubeconfig and not _kubeconfig_written(args.kubeconfig, lambda: str(run.exports["kubeconfig"]), "--kubeconfig"):
        return 1
    if args.cost:
        from offline import cost

        found = cost.estimate(run)
        print(json.dumps(found, indent=2) if args.json else cost.text(found), end="\n" if args.json else "")
        return 0
    if args.compare is not None:
        return _compare(stack, args, plan, run, outputs)
    if args.upgrade_to is not None:
        return _upgrade(spec, run, args)
    if args.what_if is not None:
        return _what_if(stack, spec, run, args)
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else report.text(plan), end="" if not args.json else "\n")
    # Like `pulumi preview --policy-pack policy`: a failing mandatory guardrail fails the plan; so
    # does a flow with no path, which `pulumi up` would not notice at all.
    return 1 if any(plan["policy"].values()) or any(f["path"] is None for f in plan["flows"]) else 0


def _plan_all(as_json: bool, kubeconfig_file: Path | None = None) -> int:
    """Each stack's plan in deploy order; as JSON, one document keyed by stack; with a kubeconfig file,
    every stack's contexts merged into it (the hub's marked and current)."""
    # A stack either runs a hub or joins one (validation), so hubs first is the deploy order
    # (python -m deploy.order says the same, and refuses what validation would).
    try:
        order = sorted(harness.available_stacks(), key=lambda s: (hub_stack_of(s) is not None, s))
    except StackFileError as error:
        print(f"python -m plan --all: {error}", file=sys.stderr)
        return 1
    status = 0
    plans: dict[str, Any] = {}
    documents: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for stack in order:
            written = Path(scratch) / stack
            extra = ["--kubeconfig", str(written)] if kubeconfig_file is not None else []
            if not as_json:
                print(f"=== {stack} ===")
                status |= main([stack, *extra])
            else:
                captured = io.StringIO()
                with contextlib.redirect_stdout(captured):
                    status |= main([stack, "--json", *extra])
                text = captured.getvalue()
                plans[stack] = json.loads(text) if text.strip() else None
            if written.is_file():
                documents[stack] = load_yaml(written)
    if kubeconfig_file is not None:
        hubs = {s: h for s in documents if (h := _hub_context(s))}
        merged: dict[str, Any] = {}

        def rendered() -> str:
            merged.update(kubeconfig.merge(documents, hubs))
            return kubeconfig.render(merged)

        if not _kubeconfig_written(kubeconfig_file, rendered, "python -m plan --all --kubeconfig"):
            return 1
        if not as_json:
            contexts = [
                f"{c['name']} ({c['context']['extensions'][0]['extension']['stack']}"
                + (", hub)" if c["context"]["extensions"][0]["extension"]["role"] == "hub" else ")")
                for c in merged["contexts"]
            ]
            print(f"kubeconfig {kubeconfig_file}: {', '.join(contexts)}; current: {merged['current-context']}")
    shared = shared_secrets_providers(stacks.STACK_DIR)
    if as_json:
        print(json.dumps({"order": order, "stacks": plans, "warnings": shared}, indent=2, sort_keys=True))
    else:
        for warning in shared:
            print(f"warning: {warning}")
    return status


def _hub_context(stack: str) -> str | None:
    """The context name of ``stack``'s hub cluster (its contextPrefix and the cluster with role hub)."""
    config = stack_config(stack)
    clusters = config.get("fleet:clusters") or []
    hub = next((c.get("name") for c in clusters if isinstance(c, dict) and c.get("role") == "hub"), None)
    prefix = str((config.get("fleet:kubeconfig") or {}).get("contextPrefix", ""))
    return f"{prefix}{hub}" if hub else None


def shared_secrets_providers(directory: Path) -> list[str]:
    """Stack files that name one secrets provider (one KMS key, or one Vault key): whoever decrypts one
    stack decrypts the others. Passphrase stacks each have their own salt, so one passphrase shared by
    several cannot be seen from the files: docs/ci.md says to keep one per environment."""
    providers: dict[str, list[str]] = {}
    for path in sorted(directory.glob("Pulumi.*.yaml")):
        provider = (load_yaml(path) or {}).get("secretsprovider")
        if isinstance(provider, str) and not provider.startswith("passphrase"):
            providers.setdefault(provider, []).append(path.name)
    return [
        f"{', '.join(files)} share the secrets provider {provider}: give each stack its own key "
        "(docs/ci.md, 'The trust boundary')"
        for provider, files in sorted(providers.items())
        if len(files) > 1
    ]


def _members_planned(stack: str, members: list[str]) -> dict[str, dict[str, Any]]:
    """Each fleet:members stack's planned registration output, planned on this hub's first round."""
    first = run_stack(stack)
    exported = {k: first.exports[k] for k in HUB_EXPORTS if k in first.exports}
    registrations: dict[str, dict[str, Any]] = {}
    for reference in members:
        member = reference.rsplit("/", 1)[-1]
        joined = hub_stack_of(member)
        if not stacks.stack_path(member).is_file() or joined is None:
            continue  # checks.membership_problems has said why
        planned = run_stack(member, stack_outputs={joined: exported})
        registrations[reference] = {gitops.REGISTRATION_OUTPUT: planned.exports[gitops.REGISTRATION_OUTPUT]}
    return registrations


def _access(as_json: bool) -> int:
    """The access evaluator (identity.fleet_access) over every stack file of this project."""
    try:
        project = hub_stack.project_stacks(stacks.STACK_DIR)
        grants = identity.fleet_access(project)
    except ConfigError as error:
        print(str(error), file=sys.stderr)
        return 1
    rows: list[dict[str, Any]] = [
        {
            "identity": g.identity,
            "principal": g.principal,
            "stack": g.stack,
            "account": g.account,
            "cluster": g.cluster,
            "level": g.level.value,
            "namespaces": list(g.namespaces),
            "via": g.via,
        }
        for g in sorted(grants, key=lambda g: (g.identity, g.stack, g.cluster))
    ]
    beyond = [
        {"identity": r.identity, "principal": r.principal, "can": r.can, "via": r.via} for r in identity.indirect_reach(project)
    ]
    if as_json:
        print(json.dumps({"access": rows, "beyond": beyond}, indent=2))
        return 0
    print("Access to every cluster of this project's stacks, from their configs:")
    for who in sorted({r["identity"] for r in rows}):
        mine = [r for r in rows if r["identity"] == who]
        print(f"  {who} ({mine[0]['principal']})")
        for r in mine:
            scope = f" in {', '.join(r['namespaces'])}" if r["namespaces"] else ""
            where = f" (account {r['account']})" if r["account"] else ""
            print(f"    {r['stack']}/{r['cluster']}{where}: {r['level']}{scope} ({r['via']})")
    print("Beyond the program's entries (what IAM and Kubernetes let these identities reach):")
    for r in beyond:
        print(f"  {r['identity']}: {r['can']} ({r['via']})")
    return 0


def _upgrade(spec: Any, run: harness.Run, args: argparse.Namespace) -> int:
    """The campaign to --upgrade-to, with the offline gates; 1 when it cannot be planned or a gate fails."""
    target = str(args.upgrade_to)
    if target not in eks_versions.SUPPORT:
        print(f"--upgrade-to {target}: not a version this program supports ({', '.join(eks_versions.SUPPORT)})", file=sys.stderr)
        return 1
    campaign = upgrade_gates.gated_campaign(spec, run, target, args.gitops or upgrade_gates.GITOPS_DIR)
    found = campaign.as_dict()
    found["extendedSupportInstead"] = _extended_support_instead(spec, target)
    print(json.dumps(found, indent=2) if args.json else report.campaign_text(found))
    return 0 if campaign.passed else 1


def _extended_support_instead(spec: Any, target: str) -> dict[str, Any]:
    """What staying behind ``target`` costs instead of upgrading: under EXTENDED, the control plane's
    extended price less its standard one from the end of its version's standard support; under STANDARD,
    EKS upgrades the cluster at that date unless its support type becomes EXTENDED (components/aws/prices.py)."""
    from components.aws import prices

    today = clock.today()
    extra = prices.EKS_CONTROL_PLANE["EXTENDED"].hourly - prices.EKS_CONTROL_PLANE["STANDARD"].hourly
    per_cluster = round(extra * prices.HOURS_PER_MONTH, 2)
    clusters = []
    for cluster in spec.clusters:
        version, support = spec.version_of(cluster), str(spec.support_of(cluster).value)
        if tuple(map(int, version.split("."))) >= tuple(map(int, target.split("."))):
            continue
        window = eks_versions.SUPPORT[version]  # validation admits only versions of the calendar
        upgraded_on = eks_versions.auto_upgrade_date(version, support)
        clusters.append(
            {
                "cluster": cluster.name,
                "version": version,
                "supportType": support,
                "standardSupportEnds": window.standard_until.isoformat(),
                "eksUpgradesItOn": upgraded_on.isoformat(),
                "payingNow": support == "EXTENDED" and window.standard_until < today <= window.extended_until,
            }
        )
    return {
        "perClusterMonthly": per_cluster,
        "clusters": clusters,
        "monthlyNow": round(per_cluster * sum(c["payingNow"] for c in clusters), 2),
    }


def _what_if(stack: str, spec: Any, run: harness.Run, args: argparse.Namespace) -> int:
    """Route 53's answers before and after TARGET fails, and the capacity verdict; 1 when survivors fall short."""
    zones: dict[str, set[str]] = {}
    for subnet in run.of_type("aws:ec2/subnet:Subnet"):
        owner = (subnet.inputs.get("tags") or {}).get("fleet-cluster")
        if owner:
            zones.setdefault(owner, set()).add(str(subnet.inputs.get("availabilityZoneId")))
    down: set[str] = set()
    lost_zones: dict[str, set[str]] = {}
    failed_regions: set[str] = set()
    switched_off: set[str] = set()
    # Failures at once, comma-separated: region:us-east-1:down,prod-eu:down (a multi-region incident).
    for term in str(args.what_if).split(","):
        failure = _failure(spec, zones, term.strip())
        if isinstance(failure, str):
            print(f"--what-if {args.what_if}: {failure}", file=sys.stderr)
            return 1
        down |= failure[0]
        for name, zone_ids in failure[1].items():
            lost_zones.setdefault(name, set()).update(zone_ids)
        failed_regions |= failure[2]
        switched_off |= failure[3]
    # A cluster whose every zone is lost is down (Route 53 stops answering with it); a zone named twice counts once.
    down |= {name for name, ids in lost_zones.items() if ids >= zones.get(name, set())}
    lost = {name: len(ids) for name, ids in lost_zones.items() if name not in down}
    if not down and not lost and not switched_off:
        print(f"--what-if {args.what_if}: no cluster of this stack is there", file=sys.stderr)
        return 1
    if (refused := dns_answers.arc_refuses(spec, switched_off)) is not None:
        print(f"--what-if {args.what_if}: {refused}", file=sys.stderr)
        return 1
    regions = {c.name: c.region for c in spec.clusters}
    drained = frozenset(spec.drained_clusters)
    found: dict[str, Any] = {"target": args.what_if, "down": sorted(down), "zonesLost": lost, "answers": {}}
    if switched_off:
        found["arcOff"] = sorted(switched_off)
    # A routing control Off makes its cluster's records unhealthy, exactly as a failed edge does (the
    # records' calculated health check: edge AND control); the cluster itself keeps running.
    unhealthy = down | switched_off
    for record in spec.dns.records if spec.dns else []:
        found["answers"][record.name] = {
            phase: [
                {"cluster": a.cluster, "share": round(a.share, 4)} for a in dns_answers.answers(record, regions, failed, drained)
            ]
            for phase, failed in (("before", set()), ("after", unhealthy))
        }
    try:
        measured = overlay_demand.measured_demands(spec, stack, args.gitops or overlay_demand.GITOPS_DIR)
    except (ValueError, OSError) as exc:
        print(f"--what-if: {exc}", file=sys.stderr)
        return 1
    verdict = capacity.verdict(spec, down, lost, measured, frozenset(switched_off))
    found["capacity"] = verdict.as_dict() if verdict.load else None
    # A name whose remaining answers cover less than its clients (a geolocation default in the failed
    # region) leaves the rest unanswered, whatever capacity the survivors have.
    found["unanswered"] = {
        record.name: round(share, 4)
        for record in (spec.dns.records if spec.dns else [])
        if (share := dns_answers.unanswered(record, regions, unhealthy, drained)) > 0.0001
    }
    found["latencyUnmeasured"] = {
        record.name: pairs
        for record in (spec.dns.records if spec.dns else [])
        if (pairs := dns_answers.unmeasured(record, regions, unhealthy))
    }
    found["alsoDown"] = [
        {"service": s.service, "cluster": s.where, "region": s.region, "effect": s.effect}
        for s in blast_radius.failing_with(spec, down, failed_regions)
    ]
    print(json.dumps(found, indent=2) if args.json else report.what_if_text(found))
    return 0 if verdict.carries and not found["unanswered"] else 1


def _failure(spec: Any, zones: dict[str, set[str]], term: str) -> tuple[set[str], dict[str, set[str]], set[str], set[str]] | str:
    """One failure of --what-if: (clusters down, zone IDs lost per cluster, regions down, ARC controls
    Off), or why the term names nothing here."""
    target, _, state = term.rpartition(":")
    names = {c.name for c in spec.clusters}
    if target.startswith("arc:") and state == "off":
        cluster = target.removeprefix("arc:")
        if spec.dns is None or not spec.dns.arc:
            return f"{term}: fleet:dns.arc is not on, there is no routing control to turn off"
        if cluster not in spec.served_clusters():
            return f"{term}: {cluster} has no routing control (serving clusters: {', '.join(sorted(spec.served_clusters()))})"
        return set(), {}, set(), {cluster}
    if state != "down" or not target:
        return f"{term}: expected TARGET:down (a cluster, region:<region> or zone:<zone-id>) or arc:<cluster>:off"
    if target.startswith("region:"):
        region = target.removeprefix("region:")
        return {c.name for c in spec.clusters if c.region == region}, {}, {region}, set()
    if target.startswith("zone:"):
        zone = target.removeprefix("zone:")
        return set(), {name: {zone} for name, ids in zones.items() if zone in ids}, set(), set()
    if target in names:
        return {target}, {}, set(), set()
    return f"{term}: no cluster, region or zone by that name here"


def _kubeconfig_written(path: Path, text: Callable[[], str], who: str) -> bool:
    """Write the kubeconfig ``text()`` renders; False, with the reason on stderr, when it cannot be."""
    try:
        _write_kubeconfig(path, text())
    except ValueError as error:
        print(f"{who}: {error}", file=sys.stderr)
        return False
    except OSError as exc:
        print(f"cannot write the kubeconfig to {path}: {exc.strerror}", file=sys.stderr)
        return False
    return True


def _write_kubeconfig(path: Path, text: str) -> None:
    """Write a fleet kubeconfig, never over a kubeconfig with contexts of its own (~/.kube/config): the
    fleet's file is meant to be merged into it, not to replace it (ValueError naming them)."""
    if str(path) == "-":
        sys.stdout.write(text)
        return
    if path.is_file() and path.stat().st_size:
        try:
            existing = load_yaml(path)
        except StackFileError:
            existing = None
        if not isinstance(existing, dict) or existing.get("kind") != "Config":
            raise ValueError(f"{path} exists and is not a kubeconfig: choose another file (or - for stdout)")
        theirs = {c.get("name") for c in existing.get("contexts") or [] if isinstance(c, dict)}
        ours = {c["name"] for c in yaml.safe_load(text).get("contexts") or []}
        if others := sorted(str(name) for name in theirs - ours):
            raise ValueError(
                f"{path} holds contexts this plan does not write ({', '.join(others)}): write to another file and merge it "
                "(docs/runbooks.md, 'Use the fleet kubeconfig')"
            )
    _write_private(path, text)


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only, before any content is in it; never through a symlink."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    path.chmod(0o600)


def _compare(stack: str, args: argparse.Namespace, plan: dict[str, Any], run: harness.Run, outputs: dict[str, Any] | None) -> int:
    """The plan of the stack as it is, then what going to the changed file does; 1 when a step would be refused."""
    try:
        project = stacks.STACK_DIR / "Pulumi.yaml"
        files = [read_stack_file(args.compare, project)] + ([read_stack_file(args.to, project)] if args.to is not None else [])
        configs = [{**project_defaults(), **f.config} for f in files]
        changed = checks.stack_fleet({k.removeprefix("fleet:"): v for k, v in configs[-1].items()}, stack)
    except StackFileError as error:
        print(str(error), file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"{args.to or args.compare}: {error}", file=sys.stderr)
        return 1
    checked = preflight.run(changed)
    plan["preflight"] = checked.as_dict()
    if not checked.passed:
        print(preflight.text(plan["preflight"]), end="")
        print(f"{args.to or args.compare} would stop at the preflight: nothing would change.", file=sys.stderr)
        return 1
    # Each config runs as its own stack's deployer (the one `pulumi up` must run as), on clusters each
    # created by whom the starting config says; a cluster it lacks is created by that deployer.
    start = configs[0] if args.to is not None else stack_config(stack)
    try:
        started = checks.stack_fleet({k.removeprefix("fleet:"): v for k, v in start.items()}, stack)
    except ConfigError as error:
        print(f"{args.compare}: {error}", file=sys.stderr)
        return 1
    creators = {
        c.name: creator_session({"fleet:deployer": {"principal": started.deployer.creator_of(c.name)}}) for c in started.clusters
    }
    if wrong := identity.creator_problems(started, changed):
        # Refused before the preview: EKS would refuse the deploy (or leave its deployer without access).
        if started.deployer.principal != changed.deployer.principal:
            print(f"Deploy it as {changed.deployer.principal} (fleet:deployer.principal changes)")
        for problem, fix in wrong:
            print(f"error [cluster-creator] at fleet:deployer: {problem}\n    safe way: {fix}")
        return 1
    try:
        runs = [
            run_program(c, stack=stack, stack_outputs=outputs, caller_arn=deployer_session(c), creators=creators) for c in configs
        ]
    except ConfigError as error:
        print(f"{args.to or args.compare}: {error}", file=sys.stderr)
        return 1
    before, after = (runs[0], runs[1]) if args.to is not None else (run, runs[0])
    from offline import cost

    plan["compare"] = report.compare(before, after, accepted=tuple(args.accept))
    plan["compare"]["monthlyCostChange"] = cost.monthly_difference(before, after)
    if started.deployer.principal != changed.deployer.principal:
        plan["compare"]["deployAs"] = changed.deployer.principal
    against = str(args.compare) if args.to is not None else f"Pulumi.{stack}.yaml"
    if args.json:
        print(json.dumps(plan, indent=2, sort_keys=True))
    else:
        print(report.text(plan), end="")
        print(report.compare_text(against, plan["compare"]), end="")
    return 1 if plan["compare"]["violations"] or any(plan["policy"].values()) else 0


def stack_name(argument: str) -> str:
    """``prod``, ``Pulumi.prod.yaml`` or ``./Pulumi.prod.yaml`` all name the stack ``prod``."""
    name = Path(argument).name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return argument


def evaluate(stack: str) -> tuple[Any, harness.Run]:
    """A stack's validated spec (knowing its hub and joining stacks) and its offline run; for an environment
    of cells, every cell's graph after both rounds, as one (offline/cells.py)."""
    config = stack_config(stack)
    if config.get("fleet:cells") is True and cells.cell_of(stack) is None:
        spec = checks.environment_fleet({key.removeprefix("fleet:"): value for key, value in config.items()}, stack)
        return spec, offline_cells.merged(offline_cells.whole_cells(stack, config))
    spec = checks.stack_fleet({key.removeprefix("fleet:"): value for key, value in config.items()}, stack)
    hub = hub_stack_of(stack)
    return spec, run_stack(stack, stack_outputs={hub: placeholder_hub(hub)} if hub else None)


if __name__ == "__main__":
    sys.exit(main())
