"""Turns an offline run of the program into a plan: a dict for --json, text for people, Mermaid for --diagram."""

from __future__ import annotations

from collections import Counter
from typing import Any

from components.aws import region_latency
from components.config.model import FleetSpec
from components.planning import flows, preflight
from offline import transition
from offline.graph import Graph
from offline.harness import Run
from offline.policy_view import violations
from offline.reachability import check


def flow_paths(
    spec: FleetSpec,
    run: Run,
    foreign_egress: dict[str, list[str]] | None = None,
    parties: dict[str, str] | None = None,
    built: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Every cross-cluster flow with the path it takes in the registered resources, or why it has none.
    ``built``: the clusters this graph holds (a cell's own); a flow to or from another cell's is not in it."""
    graph = Graph(run, foreign_egress, parties)
    result = []
    names = {c.name for c in spec.clusters}
    for flow in flows.fleet_flows(spec):
        if built is not None and ({flow.source, flow.destination} & names) - built:
            continue
        verdict = check(graph, flow)
        result.append(
            {
                "kind": flow.kind.value,
                "source": flow.source,
                "destination": flow.destination,
                "protocol": flow.protocol,
                "ports": list(flow.ports),
                "route": flow.route.value,
                "path": verdict.path,
                "problem": verdict.problem or None,
            }
        )
    return result


def build(stack: str, run: Run, flow_list: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The plan of one stack: clusters with node groups, DNS, clusterset, Argo CD, flows, resource counts."""
    exports = run.exports
    clusters: dict[str, Any] = {}
    components = {r.urn: r.name for r in run.of_type("fleet:index:RegionalCluster")}
    for name, summary in sorted(exports.get("clusters", {}).items()):
        clusters[name] = {
            key: summary[key] for key in ("region", "role", "version", "vpcCidr", "serviceCidr", "labels", "addons")
        }
        clusters[name]["nodeGroups"] = {}
    for group in run.of_type("eks:index:ManagedNodeGroup"):
        owner = components.get(group.parent) or next(
            (a.name.removesuffix("-submariner") for a in run.ancestors(group) if a.type == "fleet:index:SubmarinerMember"),
            None,
        )
        if owner is None or owner not in clusters:
            continue
        scaling = group.inputs.get("scalingConfig", {})
        labels = group.inputs.get("labels", {})
        # A per-zone group's registrations (one per zone) show as the one configured group.
        name = labels.get("fleet/node-group") or group.name.removeprefix(f"{owner}-")
        zone = group.name.removeprefix(f"{owner}-{name}").removeprefix("-")
        entry = clusters[owner]["nodeGroups"].setdefault(
            name,
            {
                "instanceTypes": group.inputs.get("instanceTypes", []),
                "amiType": group.inputs.get("amiType"),
                # The pinned node image: what `aws eks update-nodegroup-version --release-version` must name.
                "releaseVersion": group.inputs.get("releaseVersion"),
                "updateConfig": group.inputs.get("updateConfig"),
                "min": 0,
                "desired": 0,
                "max": 0,
                "labels": labels,
                "taints": [f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in group.inputs.get("taints", [])],
            },
        )
        for key, field in (("min", "minSize"), ("desired", "desiredSize"), ("max", "maxSize")):
            entry[key] += scaling.get(field) or 0
        if zone:
            entry["zones"] = sorted([*entry.get("zones", []), zone])
    counts = Counter(r.type for r in run.registrations.values())
    return {
        "stack": stack,
        "clusters": clusters,
        "dns": exports.get("dns", {}),
        "clusterset": _without_runtime_values(exports.get("clusterset", {})),
        "argocd": exports.get("argocd", {}),
        "flows": flow_list or [],
        "resources": {"total": sum(counts.values()), "byType": dict(sorted(counts.items()))},
        "policy": violations(run),
        "warnings": run.warnings,
    }


def _without_runtime_values(clusterset: dict[str, Any]) -> dict[str, Any]:
    """Gateway IPs under mocks are made up: leave them out of the plan."""
    if not clusterset:
        return {}
    members = {name: {k: v for k, v in m.items() if k != "gatewayIps"} for name, m in clusterset["members"].items()}
    return {**clusterset, "members": members}


def text(plan: dict[str, Any]) -> str:
    count = len(plan["clusters"])
    lines = [f"warning: {warning}" for warning in plan["warnings"]]
    lines += [f"Stack {plan['stack']}: {count} cluster{'s' if count != 1 else ''}, {plan['resources']['total']} resources", ""]
    lines.append("Clusters")
    for name, cluster in plan["clusters"].items():
        lines.append(
            f"  {name}  {cluster['region']}  {cluster['role']}  EKS {cluster['version']}  "
            f"vpc {cluster['vpcCidr']}  services {cluster['serviceCidr']}"
        )
        # Offline, EKS's default build (DescribeAddonVersions) is a placeholder the mocks answer with.
        shown = {
            name: f"EKS's default for {cluster['version']} (resolved at deploy)"
            if str(version).startswith("v0.0.0-")
            else version
            for name, version in cluster["addons"].items()
        }
        lines.append("    add-ons: " + ", ".join(f"{name} {version}" for name, version in sorted(shown.items())))
        for group, spec in sorted(cluster["nodeGroups"].items()):
            lines.append(
                f"    {group}: {', '.join(spec['instanceTypes'])} ({spec['amiType']}) "
                f"{spec['min']}/{spec['desired']}/{spec['max']} min/desired/max"
            )
            labels = ", ".join(f"{k}={v}" for k, v in sorted(spec["labels"].items()))
            lines.append(f"      labels: {labels}" + (f"  taints: {', '.join(spec['taints'])}" if spec["taints"] else ""))
    if plan["dns"]:
        lines += ["", "DNS records"]
        for record, spec in plan["dns"].items():
            targets = ", ".join(_describe_target(t) for t in spec["targets"])
            lines.append(f"  {record}  {spec['routing']}  -> {targets}  (health-checked)")
    if plan["clusterset"]:
        clusterset = plan["clusterset"]
        lines += ["", f"Submariner clusterset (broker {clusterset['broker']}, {clusterset['cableDriver']})"]
        for name, member in clusterset["members"].items():
            ranges = member.get("globalCidr") or f"{member['clusterCidr']} + {member['serviceCidr']}"
            lines.append(f"  {name}  {ranges}")
    if plan["argocd"]:
        argocd = plan["argocd"]
        lines += ["", f"Argo CD (hub {argocd['hub']})"]
        lines.append(f"  registered: {', '.join(argocd['registeredClusters'])}")
        for name, spec in argocd.get("applicationSets", {}).items():
            apps = ", ".join(f"{a['name']} ({a['path']})" for a in spec["applications"]) or "none yet"
            lines.append(f"  ApplicationSet {name} {spec['selector']}: {apps}")
    if plan["flows"]:
        broken = [f for f in plan["flows"] if f["path"] is None]
        lines += [
            "",
            f"Cross-cluster flows ({len(plan['flows'])}, " + (f"{len(broken)} without a path)" if broken else "each has a path)"),
        ]
        for flow in plan["flows"]:
            ports = ",".join(str(p) for p in flow["ports"])
            how = flow["path"] if flow["path"] is not None else f"NO PATH: {flow['problem']}"
            route = flow.get("route", "internet")
            lines.append(
                f"  {flow['kind']}  {flow['source']} -> {flow['destination']}  {flow['protocol']}/{ports} ({route}): {how}"
            )
    if "preflight" in plan:
        lines += ["", *preflight.text(plan["preflight"]).rstrip("\n").splitlines()]
    failing = {name: messages for name, messages in plan["policy"].items() if messages}
    lines += ["", f"Policy pack: {len(plan['policy'])} guardrails, " + (f"{len(failing)} failing" if failing else "all pass")]
    for name, messages in failing.items():
        lines += [f"  [mandatory] {name}: {message}" for message in messages]
    lines += ["", "Resources by type"]
    lines += [f"  {number:4d}  {kind}" for kind, number in plan["resources"]["byType"].items()]
    return "\n".join(lines) + "\n"


def _describe_target(target: dict[str, Any]) -> str:
    detail = target.get("weight", target.get("failover", target.get("location", "")))
    return f"{target['cluster']}" + (f"={detail}" if detail != "" else "")


def mermaid(plan: dict[str, Any]) -> str:
    """The topology: regions holding clusters, the hub's spokes, the clusterset, DNS names."""
    lines = ["flowchart LR"]
    by_region: dict[str, list[str]] = {}
    for name, cluster in plan["clusters"].items():
        by_region.setdefault(cluster["region"], []).append(name)
    clusterset = plan["clusterset"]
    broker = clusterset["broker"] if clusterset else None
    for region, names in sorted(by_region.items()):
        lines.append(f'  subgraph {_id(region)}["{region}"]')
        for name in names:
            roles = [
                r for r, on in (("hub", plan["clusters"][name]["role"] == "hub"), ("Submariner broker", name == broker)) if on
            ]
            text = f"{name} ({', '.join(roles)})" if roles else name
            shape = f'{_id(name)}{{{{"{text}"}}}}' if roles else f'{_id(name)}["{text}"]'
            lines.append(f"    {shape}")
        lines.append("  end")
    argocd = plan["argocd"]
    if argocd:
        if argocd["hub"] not in plan["clusters"]:
            lines.append(f'  {_id(argocd["hub"])}{{{{"{argocd["hub"]} (hub stack)"}}}}')
        peered = {f["destination"] for f in plan["flows"] if f["kind"] == "argocd-api" and f.get("route") == "peering"}
        for name in argocd["registeredClusters"]:
            if name != argocd["hub"]:
                label = "Argo CD over VPC peering" if name in peered else "Argo CD"
                lines.append(f"  {_id(argocd['hub'])} -->|{label}| {_id(name)}")
    if clusterset:
        # Gateways tunnel to every other member (a full mesh); only the agents' API calls go to the broker.
        members = sorted(clusterset["members"])
        mode = "Globalnet" if clusterset["globalnet"] else "no Globalnet"
        lines.append(
            f'  {_id("clusterset")}[/"Submariner clusterset: {clusterset["cableDriver"]}, {mode}, tunnels between all members"/]'
        )
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                lines.append(f"  {_id(a)} -.- {_id(b)}")
    for record, spec in plan["dns"].items():
        lines.append(f'  {_id(record)}(["{record} ({spec["routing"]})"])')
        for target in spec["targets"]:
            lines.append(f"  {_id(record)} -->|{_describe_target(target)}| {_id(target['cluster'])}")
    return "\n".join(lines) + "\n"


def _id(text: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in text)


def compare(before: Run, after: Run, accepted: tuple[str, ...] = ()) -> dict[str, Any]:
    """What `pulumi up` would do going from ``before`` to ``after``: changes by action and type, and broken rules."""
    moved = transition.transition(before, after)
    grouped = transition.by_type(moved.changes)
    return {
        "counts": {action: len(changes) for action, changes in moved.by_action().items()},
        "changes": {
            action: {
                type_token: [
                    {"name": c.name, "changed": list(c.changed), "forcedBy": list(c.forced_by), "protected": c.protected}
                    for c in changes
                ]
                for type_token, changes in types.items()
            }
            for action, types in grouped.items()
        },
        "violations": [
            {"rule": v.rule, "step": v.step, "message": v.message, "fix": v.fix}
            for v in moved.violations
            if not transition.accepted(v, accepted)
        ],
        "accepted": [
            {"rule": v.rule, "step": v.step, "message": v.message} for v in moved.violations if transition.accepted(v, accepted)
        ],
    }


def compare_text(against: str, compared: dict[str, Any]) -> str:
    counts = compared["counts"]
    deploy_as = [f"Deploy it as {compared['deployAs']} (fleet:deployer.principal changes)"] if compared.get("deployAs") else []
    if not any(counts.values()) and not compared["violations"]:
        return "\n".join([*deploy_as, f"Compared with {against}: no changes."]) + "\n"
    lines = [*deploy_as, f"Compared with {against}: " + ", ".join(f"{n} to {action}" for action, n in counts.items())]
    for action in ("create", "update", "replace", "delete"):
        for type_token, changes in compared["changes"].get(action, {}).items():
            lines.append(f"  {action} {type_token}")
            for change in changes:
                detail = ""
                if action == "replace":
                    detail = f" (forced by {', '.join(change['forcedBy'])})"
                elif action == "update":
                    detail = f" ({', '.join(change['changed'][:6])}{', ...' if len(change['changed']) > 6 else ''})"
                if change["protected"]:
                    detail += " [protected]"
                lines.append(f"    {change['name']}{detail}")
    if compared["violations"]:
        lines.append(f"{len(compared['violations'])} step(s) AWS or Pulumi would refuse:")
        for violation in compared["violations"]:
            lines += [
                f"  error [{violation['rule']}] at {violation['step']}: {violation['message']}",
                f"    safe way: {violation['fix']}",
            ]
    else:
        lines.append("No step breaks an AWS or Pulumi rule.")
    for accepted in compared.get("accepted", []):
        lines.append(f"  accepted [{accepted['rule']}] at {accepted['step']} (--accept): {accepted['message']}")
    if (change := compared.get("monthlyCostChange")) is not None:
        lines.append(
            f"Monthly cost at list prices: {'+' if change >= 0 else '-'}${abs(change):,.2f} (python -m plan <stack> --cost)"
        )
    return "\n".join(lines) + "\n"


def campaign_text(campaign: dict[str, Any]) -> str:
    """An upgrade campaign (upgrades.Campaign.as_dict()) as an operator reads it."""
    lines = [f"Upgrade to {campaign['target']}"]
    lines += [f"  error: {problem}" for problem in campaign["problems"]]
    for number, wave in enumerate(campaign["waves"], start=1):
        hops = ", ".join(wave["hops"]) or "nothing to move"
        lines.append(f"Wave {number} ({wave['name']}): {', '.join(wave['clusters'])} [{hops}]")
        lines += [f"  {step}" for step in wave["steps"]]
        for gate in wave["gates"]:
            lines.append(f"  gate {gate['gate']}: {'pass' if gate['passed'] else 'FAIL'} - {gate['detail']}")
    failed = sum(not g["passed"] for w in campaign["waves"] for g in w["gates"]) + len(campaign["problems"])
    lines.append("Every gate passes." if not failed else f"{failed} problem(s): the campaign stops before any change.")
    for entry in (campaign.get("extendedSupportInstead") or {}).get("clusters", []):
        per = campaign["extendedSupportInstead"]["perClusterMonthly"]
        if entry["supportType"] == "EXTENDED":
            since = "now" if entry["payingNow"] else f"from {entry['standardSupportEnds']}"
            lines.append(
                f"Staying on {entry['version']} instead: {entry['cluster']} pays +${per:,.2f} a month {since} (extended support)"
            )
        else:
            lines.append(
                f"Staying on {entry['version']} instead: EKS upgrades {entry['cluster']} on {entry['standardSupportEnds']} "
                f"(STANDARD support); to stay, supportType EXTENDED costs +${per:,.2f} a month from then"
            )
    return "\n".join(lines)


def what_if_text(found: dict[str, Any]) -> str:
    """plan --what-if as an operator reads it: per name the answers before and after, then capacity."""
    lines = [f"What if {found['target']}: down {', '.join(found['down']) or 'none'}"]
    for name, phases in found["answers"].items():

        def shown(answers: list[dict[str, Any]]) -> str:
            return ", ".join(f"{a['cluster']} {a['share']:.0%}" for a in answers) or "no answer"

        lost = found["unanswered"].get(name)
        unanswered = (
            f"; the clients of its locations that are down get no answer ({lost:.0%} if clients split evenly by location)"
            if lost
            else ""
        )
        lines.append(f"  {name}: {shown(phases['before'])} -> {shown(phases['after'])}{unanswered}")
    lines += [
        f"  {name}: no measured latency for {', '.join(pairs)} ({region_latency.SOURCE}): "
        "that fallback order is ranked by continent, a guess"
        for name, pairs in found.get("latencyUnmeasured", {}).items()
    ]
    lines += [f"  also down: {s['service']} ({s['cluster']}, {s['region']}): {s['effect']}" for s in found["alsoDown"]]
    verdict = found["capacity"]
    short_answers = [f"{name} (about {lost:.0%} unanswered)" for name, lost in found["unanswered"].items()]
    if verdict is None:
        lines.append("  capacity: no record declares demand (fleet:dns.records[].demand)")
        if short_answers:
            lines.append(f"Not every client gets an answer: {', '.join(short_answers)}.")
        return "\n".join(lines)
    for cluster, entry in verdict["clusters"].items():
        cap, now = entry["capacity"], entry["now"]
        have = "unknown" if cap is None else f"{cap['vcpu']:g} vCPU, {cap['memoryGib']:g} GiB"
        running = "unknown" if now is None else f"{now['vcpu']:g} vCPU, {now['memoryGib']:g} GiB"
        short, short_now = entry.get("shortBy"), entry.get("shortNowBy")
        quota = f" (within the vCPU quota: {entry['quotaShare']:.0%} of maxSize)" if "quotaShare" in entry else ""
        lines.append(
            f"  {cluster}: load {entry['load']['vcpu']:g} vCPU, {entry['load']['memoryGib']:g} GiB; on-demand, "
            f"untainted nodes allocate {running} now, {have} at maxSize{quota}"
            + (
                "; FAILED, yet answered: every set of its names is unhealthy, so Route 53 fails open"
                if entry.get("failedOpenTo")
                else ""
            )
            + (f"; DOES NOT CARRY: short by {short['vcpu']:g} vCPU, {short['memoryGib']:g} GiB" if short else "")
            + (
                f"; carries only once the autoscaler adds {short_now['vcpu']:g} vCPU: it looks every "
                f"{verdict['autoscaler']['scanIntervalSeconds']} s and gives each node up to "
                f"{verdict['autoscaler']['maxNodeProvisionMinutes']} minutes to join before it gives up on it "
                "(cluster-autoscaler's defaults; not a bound: EC2 capacity and quotas decide)"
                if short_now
                else ""
            )
        )
    if short_answers:
        lines.append(
            f"Not every client gets an answer: {', '.join(short_answers)}"
            + ("; the survivors carry the rest of the load." if verdict["carries"] else "; the survivors fall short too.")
        )
    else:
        lines.append("The survivors carry the load." if verdict["carries"] else "The survivors fall short.")
    return "\n".join(lines)
