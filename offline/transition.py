"""What `pulumi up` does going from one config's registrations to another's, step by step, and
which AWS or Pulumi rule a step breaks.

Mocks accept every second deploy; AWS does not. This model classifies every resource (create,
update, replace, delete) with the force-new table, orders the steps as the Pulumi engine does
(creates, updates and replacement-creates in registration order, which is dependency order;
delete-before-replace deletes just before their create; every other delete last, in reverse),
and replays them over the set of live objects, checking at each step the rules AWS enforces on
that set. A broken rule names the step, the resources and the safe way to make the change.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from components.aws import eks_releases
from components.aws.force_new import FORCE_NEW, forced_by
from components.config.dns import FRONT_PREFIX
from components.planning.iam_policies import GATEWAY_DRAINING_TAG, GATEWAY_POOL_TAG
from offline.harness import Registration, Run

Action = Literal["create", "update", "replace", "delete"]


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: Action
    changed: tuple[str, ...] = ()
    """Input paths that differ."""
    forced_by: tuple[str, ...] = ()
    """For a replace: the changed paths that force it (force-new table or replaceOnChanges)."""
    delete_first: bool = False
    protected: bool = False
    """The resource as deployed is protected (Pulumi refuses to delete or replace it)."""


@dataclass(frozen=True)
class Step:
    kind: Literal["create", "update", "delete"]
    urn: str
    registration: Registration
    """The object this step creates, updates to, or deletes."""


@dataclass(frozen=True)
class Violation:
    rule: str
    step: str
    """The step that breaks it, as ``<kind> <name>``."""
    message: str
    fix: str


@dataclass
class Transition:
    changes: list[Change]
    steps: list[Step]
    violations: list[Violation] = field(default_factory=list)

    def by_action(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {a: [] for a in ("create", "update", "replace", "delete")}
        for change in self.changes:
            grouped[change.action].append(change)
        return grouped


def changed_paths(before: Any, after: Any, path: str = "") -> set[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        found: set[str] = set()
        for key in sorted(set(before) | set(after)):
            found |= changed_paths(before.get(key), after.get(key), f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = set()
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            found |= changed_paths(a, b, f"{path}[{index}]")
        return found
    return set() if before == after else {path}


def _ignored(path: str, ignore_changes: Iterable[str]) -> bool:
    """Whether the engine keeps the old value at ``path`` (the resource's ignoreChanges paths)."""
    return any(path == p or path.startswith((f"{p}.", f"{p}[")) for p in ignore_changes)


def provider_replaces(before: Run, old: Registration, after: Run, new: Registration) -> bool:
    """Whether a resource's change of provider reference replaces it. The engine asks the new provider's
    DiffConfig (pulumi/pulumi pkg/resource/deploy/step_generator.go, providerChanged, since v3.151.0),
    which in the bridge replaces only on config keys marked ForcesProviderReplace: pulumi-aws v7 marks
    none (its region lost the mark, pulumi/pulumi-aws commit d273034), so a change between aws providers
    replaces nothing; the resource's own effective region still does (``effective_region``), and a move
    to another account is refused as its own rule (``_account_moves``). Another package's provider is a
    replacement (pulumi-kubernetes' DiffConfig replaces on another cluster)."""
    was, now = before.registrations.get(old.provider_urn), after.registrations.get(new.provider_urn)
    return was is None or now is None or was.type != now.type or was.type != "pulumi:providers:aws"


def provider_account(provider: Registration | None) -> str | None:
    """The account an aws provider acts in, when its config says: allowedAccountIds, else its assumed role's ARN."""
    if provider is None:
        return None
    allowed = provider.inputs.get("allowedAccountIds") or []
    if len(allowed) == 1:
        return str(allowed[0])
    roles = provider.inputs.get("assumeRoles") or ([provider.inputs["assumeRole"]] if provider.inputs.get("assumeRole") else [])
    arns = [str(r.get("roleArn", "")) for r in roles if isinstance(r, dict)]
    return arns[0].split(":")[4] if arns and arns[0].count(":") >= 5 else None


@cache
def _has_region_input(type_token: str) -> bool:
    """Whether a pulumi-aws resource takes a ``region`` (v7's per-resource region); global ones (IAM, Route 53
    records and checks) do not, and live in no region."""
    import importlib
    import inspect

    try:
        module_path, name = type_token.split(":")[1].split("/")[0], type_token.split(":")[2]
        module = importlib.import_module(f"pulumi_aws.{module_path}")
        args = getattr(module, f"{name}Args")
    except (IndexError, ImportError, AttributeError):
        return True
    return "region" in inspect.signature(args.__init__).parameters


def effective_region(run: Run, r: Registration) -> str | None:
    """Where an aws resource lives: its own ``region`` (pulumi-aws v7), else its provider's; None for a
    global resource."""
    if not r.type.startswith("aws:") or not r.custom or not _has_region_input(r.type):
        return None
    provider = run.registrations.get(r.provider_urn)
    return str(r.inputs.get("region") or (provider.inputs.get("region") if provider is not None else "") or "")


def classify(
    old: Registration, new: Registration, provider_replaces: bool = True, regions: tuple[str | None, str | None] = (None, None)
) -> Change | None:
    """The change from ``old`` to ``new`` (one URN), or None when nothing differs. Paths the resource
    ignores (ignoreChanges) are not changes: the engine sends the old value. ``provider_replaces``: what a
    change of provider reference does; ``regions``: an aws resource's effective region before and after,
    which terraform-provider-aws v6 treats as ForceNew (an object lives in one region). An explicit
    region equal to the provider's is no change: the state holds it (computed) once refreshed under v7."""
    changed = {path for path in changed_paths(old.inputs, new.inputs) if not _ignored(path, new.ignore_changes)}
    if old.provider_urn != new.provider_urn and provider_replaces:
        changed.add("(provider)")
    if regions != (None, None):
        changed.discard("region")
        if regions[0] != regions[1]:
            changed.add("region")
    if not changed and old.protect == new.protect:
        return None
    forcing = set(forced_by(new.type, changed)) if new.custom or new.type in FORCE_NEW else set()
    forcing |= {c for c in changed for p in new.replace_on_changes if p == "*" or c == p or c.startswith(f"{p}.")}
    if "region" in changed and regions != (None, None):
        forcing.add("region")
    if new.custom and "(provider)" in changed:
        # The new provider's DiffConfig asks for replacement (provider_replaces): created through the new
        # provider, then deleted through the old one.
        forcing.add("(provider)")
    return Change(
        new.urn,
        new.type,
        new.name,
        "replace" if forcing else "update",
        tuple(sorted(changed)),
        tuple(sorted(forcing)),
        new.delete_before_replace,
        old.protect,
    )


# Launch template inputs that are not part of a version (the template's own tags and settings).
UNVERSIONED = ("tags", "tagsAll", "description", "updateDefaultVersion", "defaultVersion", "name", "namePrefix")


def new_template_versions(before: Run, after: Run) -> set[str]:
    """Ids of the launch templates whose update writes a new version (mocks keep latestVersion at 1)."""
    versioned = set()
    for urn, new in after.registrations.items():
        old = before.registrations.get(urn)
        if new.type == "aws:ec2/launchTemplate:LaunchTemplate" and old is not None:
            changed = changed_paths(old.inputs, new.inputs)
            if any(c.split(".")[0].split("[")[0] not in UNVERSIONED for c in changed):
                versioned.add(new.id)
    return versioned


def _with_new_version(old: Registration, new: Registration, versions: set[str]) -> Registration:
    """A node group reading a template that gets a new version: its launchTemplate.version changes (a node roll)."""
    template = new.inputs.get("launchTemplate") or {}
    if new.type != "eks:index:ManagedNodeGroup" or template.get("id") not in versions:
        return new
    bumped = {**template, "version": f"{template.get('version')}+1"}
    return dataclasses.replace(new, inputs={**new.inputs, "launchTemplate": bumped})


def transition(before: Run, after: Run) -> Transition:
    """Every change from ``before`` to ``after``, the engine's steps, and the rules they break."""
    changes: list[Change] = []
    steps: list[Step] = []
    deferred: list[Step] = []
    versions = new_template_versions(before, after)
    # State under an alias's URN is the aliased resource's: the engine moves it, never replaces it.
    moved = {
        alias: urn
        for urn, new in after.registrations.items()
        if urn not in before.registrations
        for alias in new.aliases
        if alias in before.registrations and alias not in after.registrations
    }
    if moved:
        before = dataclasses.replace(before, registrations={moved.get(urn, urn): r for urn, r in before.registrations.items()})
    for urn, new in after.registrations.items():
        old = before.registrations.get(urn)
        if old is None:
            changes.append(Change(urn, new.type, new.name, "create"))
            steps.append(Step("create", urn, new))
            continue
        replaces = old.provider_urn != new.provider_urn and provider_replaces(before, old, after, new)
        regions = (effective_region(before, old), effective_region(after, new))
        change = classify(old, _with_new_version(old, new, versions), replaces, regions)
        if change is None:
            continue
        changes.append(change)
        if change.action == "update":
            steps.append(Step("update", urn, new))
        elif change.delete_first:
            steps += [Step("delete", urn, old), Step("create", urn, new)]
        else:
            steps.append(Step("create", urn, new))
            deferred.append(Step("delete", urn, old))
    for urn, old in before.registrations.items():
        if urn not in after.registrations:
            changes.append(Change(urn, old.type, old.name, "delete", protected=old.protect))
            deferred.append(Step("delete", urn, old))
    # Deletes run last, dependents first: the reverse of the order the resources were registered.
    position = {urn: index for index, urn in enumerate(before.registrations)}
    steps += sorted(deferred, key=lambda s: -position.get(s.urn, -1))
    result = Transition(changes, steps)
    result.violations = (
        _account_moves(before, after)
        + check(before, result)
        + api_access_gaps(before, result)
        + unordered_pool_releases(before, result)
        + node_image_drift(result, after)
        + dns_gaps(before, result)
    )
    return result


def _account_moves(before: Run, after: Run) -> list[Violation]:
    """A resource whose provider now acts in another account: the engine reads it there, finds nothing,
    and creates it again while the old one stays, unmanaged, in the first account."""
    found = []
    for urn, new in after.registrations.items():
        old = before.registrations.get(urn)
        if old is None or old.provider_urn == new.provider_urn or not new.type.startswith("aws:") or not new.custom:
            continue
        was = provider_account(before.registrations.get(old.provider_urn))
        now = provider_account(after.registrations.get(new.provider_urn))
        if was is not None and now is not None and was != now:
            found.append(
                Violation(
                    "account-move",
                    f"move {new.name}",
                    f"{new.name} moves from account {was} to {now}: the provider reads it in {now}, finds nothing "
                    f"and creates it again, and the one in {was} stays, unmanaged",
                    "move the object between accounts outside Pulumi (or recreate it on purpose: remove it in one "
                    "deploy, add it in the other account in the next)",
                )
            )
    return found


ACCEPTABLE_RULES = ("node-image-drift", "dns-gap")
"""Rules an operator may accept, one step at a time, after checking what the rule cannot see offline
(``plan --compare --accept RULE:NAME``); every other rule is a step AWS or Pulumi refuses outright."""


def accepted(violation: Violation, acceptances: Iterable[str]) -> bool:
    """Whether ``RULE:NAME`` among ``acceptances`` names this violation (an acceptable rule, at its step)."""
    name = violation.step.split(" ", 1)[-1]
    return violation.rule in ACCEPTABLE_RULES and f"{violation.rule}:{name}" in set(acceptances)


def _region(run: Run, registration: Registration) -> str:
    """The region of the aws provider a registration (or, for a component, its providers map) names."""
    reference = registration.providers.get("aws") or registration.provider
    provider = run.registrations.get(reference.rsplit("::", 1)[0]) if reference else None
    return str(provider.inputs.get("region", "")) if provider is not None else ""


def node_image_drift(plan: Transition, after: Run) -> list[Violation]:
    """A node group whose launch template gets a new version while its pinned releaseVersion stays: the
    provider sends UpdateNodegroupVersion without releaseVersion (terraform-provider-aws node_group.go
    sends it only when it changed), EKS then takes the newest AMI for the minor ("By default, the latest
    available AMI version for the node group's Kubernetes version is used"), and the next ``pulumi up``
    asks for the older pinned image back, which EKS will not roll a group to. Unless the pin already is
    the newest release, which only EKS's SSM parameter says: acceptable once checked."""
    found = []
    for step in plan.steps:
        registration = step.registration
        change = next((c for c in plan.changes if c.urn == step.urn), None)
        if (
            step.kind != "update"
            or registration.type != "eks:index:ManagedNodeGroup"
            or change is None
            or "launchTemplate.version" not in change.changed
            or "releaseVersion" in change.changed
        ):
            continue
        minor, pin = str(registration.inputs.get("version")), str(registration.inputs.get("releaseVersion"))
        parameter = eks_releases.recommended_release_parameter(minor, str(registration.inputs.get("amiType")))
        region = _region(after, registration)
        found.append(
            Violation(
                "node-image-drift",
                f"update {change.name}",
                f"{change.name}'s launch template changes without its releaseVersion: unless {pin} is the newest node "
                "image of the minor, EKS moves its nodes to the newest, and every later deploy asks for the older pinned "
                "one back, which EKS refuses",
                "raise NODE_IMAGE_RELEASE and the minor's kubelet patch (components/aws/eks_releases.py) to the newest "
                f"release in the same deploy, so the update names the image it rolls to; or, when `aws ssm get-parameter "
                f"--name {parameter} --region {region} --query Parameter.Value` prints {pin} already, nothing drifts: "
                f"--accept node-image-drift:{change.name}",
            )
        )
    return found


RECORD = "aws:route53/record:Record"


def _record_key(r: Registration) -> tuple[Any, Any, Any]:
    return r.inputs.get("zoneId"), r.inputs.get("name"), r.inputs.get("type")


def _is_front(r: Registration) -> bool:
    """A front (fleet:dns.records[].front): a record without set identifier aliasing its routing's own
    name (``_fleet-<routing>.<name>``) in its own zone; an edge aliasing something else is not one."""
    zone = r.inputs.get("zoneId")
    return not r.inputs.get("setIdentifier") and any(
        a.get("zoneId") == zone and str(a.get("name", "")).startswith(FRONT_PREFIX) for a in r.inputs.get("aliases") or []
    )


def _is_geo_default(r: Registration) -> bool:
    return any(p.get("country") == "*" for p in r.inputs.get("geolocationRoutingPolicies") or [])


def dns_gaps(before: Run, plan: Transition) -> list[Violation]:
    """Names a deploy leaves unanswered: a name that goes (every set of it deleted), and one answered
    after the deploy that has no set, or a geolocation name no default set, between a delete and a
    create. Resolvers cache "no such name" (or "no answer") for up to the zone's negative TTL (the SOA
    record's minimum), so seconds in Route 53 can be minutes to clients."""
    start = {urn: r for urn, r in before.registrations.items() if r.type == RECORD}
    final = dict(start)
    for step in plan.steps:
        _apply(final, step)
    answered = {_record_key(r) for r in final.values()}
    # The routed names (fleet:dns.records, whose sets have identifiers), not a retired edge's own name,
    # nor a front's old target (fleet:dns.records[].front): resolvers never ask for it, they ask the
    # front, which Route 53 answers from whatever name it aliases at the time.
    fronted = {(_record_key(r)[0], a.get("name")) for r in start.values() for a in r.inputs.get("aliases") or []}
    still = {(_record_key(r)[0], a.get("name")) for r in final.values() for a in r.inputs.get("aliases") or []}
    routed = {
        _record_key(r)[1]
        for r in start.values()
        if (r.inputs.get("setIdentifier") or _is_front(r))
        and not ((place := (_record_key(r)[0], _record_key(r)[1])) in fronted and place not in still)
    }
    found = [
        Violation(
            "dns-gap",
            f"delete {name}",
            f"{name} stops being answered: clients get NXDOMAIN, cached for up to the zone's negative TTL; adding the "
            "record back in a later deploy does not reach them before that",
            "if the name must keep answering (a change of routing), keep the record and change it in place (a record with "
            "`front: true` changes any routing in one clean run, docs/traffic.md); if it is meant to go, "
            f"--accept dns-gap:{name}",
        )
        for name in sorted(routed - {key[1] for key in answered})
    ]
    records = dict(start)
    for step in plan.steps:
        _apply(records, step)
        deleted = step.registration
        if step.kind != "delete" or deleted.type != RECORD or _record_key(deleted) not in answered:
            continue
        key = _record_key(deleted)
        left = [r for r in records.values() if _record_key(r) == key]
        if left and not _default_lost(deleted, left):
            continue
        who = "every client" if not left else "clients no location of it matches"
        found.append(
            Violation(
                "dns-gap",
                f"delete {deleted.name}",
                f"{key[1]} goes unanswered for {who} between this delete and the create that follows: resolvers cache "
                "that for up to the zone's negative TTL",
                "lower the zone's negative TTL (the SOA record's last field) to 60 s a day before, deploy, restore it; "
                f"then --accept dns-gap:{deleted.name}",
            )
        )
    return found


def _default_lost(deleted: Registration, left: list[Registration]) -> bool:
    """Whether deleting ``deleted`` leaves a geolocation name's located sets without a default: clients
    no location matches get no answer. Sets of another routing (a step of a change of routing) answer
    everyone."""
    geolocated = all(r.inputs.get("geolocationRoutingPolicies") for r in left)
    return _is_geo_default(deleted) and geolocated and not any(map(_is_geo_default, left))


def _apply(records: dict[str, Registration], step: Step) -> None:
    """One step on the record sets that exist (a create-before-delete pair keeps the old one as ``#old``)."""
    if step.registration.type != RECORD:
        return
    if step.kind == "delete":
        records.pop(f"{step.urn}#old" if f"{step.urn}#old" in records else step.urn, None)
        return
    if step.kind == "create" and step.urn in records:
        records[f"{step.urn}#old"] = records[step.urn]
    records[step.urn] = step.registration


# ---------------------------------------------------------------- rules, replayed step by step


def check(before: Run, plan: Transition) -> list[Violation]:
    found: dict[tuple[str, str], Violation] = {}
    for change in plan.changes:
        for violation in _protection(before, change):
            found.setdefault((violation.rule, change.urn), violation)
    for step in plan.steps:
        if step.kind == "update":
            old = before.registrations[step.urn]
            for violation in (*_minimum_above_desired(old, step.registration), *_one_minor_up(old, step.registration)):
                found.setdefault((violation.rule, step.urn), violation)
    # The live set: a create-before-delete replacement keeps the old object beside the new one.
    live: dict[str, Registration] = {urn: r for urn, r in before.registrations.items() if r.custom or r.remote}
    ids: dict[str, Registration] = {}
    for step in plan.steps:
        key = step.urn
        if step.kind == "delete":
            # The older object of a create-before-delete pair is the one left under the ``#old`` key.
            live.pop(f"{key}#old" if f"{key}#old" in live else key, None)
        elif step.registration.custom or step.registration.remote:
            if step.kind == "create" and key in live:
                live[f"{key}#old"] = live[key]
            live[key] = step.registration
        ids = {r.id: r for r in live.values()}
        for rule in RULES:
            for violation in rule(step, live, ids):
                found.setdefault((violation.rule, violation.message), violation)
    return list(found.values())


def _where(step: Step) -> str:
    return f"{step.kind} {step.registration.name}"


PRIVATE_PATH = (
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
    "aws:route53/resolverEndpoint:ResolverEndpoint",
)


def api_access_gaps(before: Run, plan: Transition) -> list[Violation]:
    """Allow lists that shrink while the private path that replaces them is still being created:
    nothing orders the cluster's update after the peering, routes and Resolver endpoints."""
    if not any(c.action == "create" and c.type in PRIVATE_PATH for c in plan.changes):
        return []
    gaps = []
    for change in plan.changes:
        if change.action != "update" or change.type != "eks:index:Cluster":
            continue
        old = set(before.registrations[change.urn].inputs.get("publicAccessCidrs") or [])
        new = set(next(s.registration for s in plan.steps if s.urn == change.urn).inputs.get("publicAccessCidrs") or [])
        if old - new:
            gaps.append(
                Violation(
                    "api-access-gap",
                    f"update {change.name}",
                    f"{change.name}: its API allow list drops {len(old - new)} address(es) in the same run that creates "
                    "the private path; callers from them (Argo CD, Submariner agents) lose the API until the peering "
                    "or attachment, routes and Resolver endpoints are up (minutes)",
                    "set `fleet:interconnect.keepInternetPath: true` in the deploy that adds the private path, "
                    "then remove it in the next `pulumi up`",
                )
            )
    return gaps


def _protection(before: Run, change: Change) -> Iterable[Violation]:
    if change.action not in ("delete", "replace"):
        return
    old = before.registrations[change.urn]
    if old.protect:
        yield Violation(
            "protected",
            f"{change.action} {change.name}",
            f"{change.name} ({change.type}) is protected: Pulumi refuses to {change.action} it",
            "unprotect it first in its own `pulumi up` (for a cluster: set `retiring: true`), then make the change",
        )
    if old.type == "aws:lb/loadBalancer:LoadBalancer" and old.inputs.get("enableDeletionProtection"):
        yield Violation(
            "deletion-protection",
            f"{change.action} {change.name}",
            f"{change.name} has deletion protection: AWS refuses to delete it (OperationNotPermitted)",
            "turn deletion protection off in one `pulumi up` (`retiring: true` does), then remove or replace it",
        )


def _one_minor_up(old: Registration, new: Registration) -> Iterable[Violation]:
    """EKS moves a control plane one minor version up per update, never down (UpdateClusterVersion:
    "you can update only to the next minor version"; EKS user guide, "Update existing cluster")."""
    if new.type != "eks:index:Cluster":
        return
    before, after = old.inputs.get("version"), new.inputs.get("version")
    if not before or not after or before == after:
        return
    (major_a, minor_a), (major_b, minor_b) = (tuple(int(p) for p in str(v).split(".")[:2]) for v in (before, after))
    if (major_b, minor_b) == (major_a, minor_a + 1):
        return
    direction = "down" if (major_b, minor_b) < (major_a, minor_a) else f"{minor_b - minor_a} minors up"
    yield Violation(
        "one-minor-up",
        f"update {new.name}",
        f"{new.name} goes from Kubernetes {before} to {after} ({direction}): EKS updates a control plane one minor "
        "version at a time and never back (InvalidParameterException)",
        f"set kubernetesVersion {major_a}.{minor_a + 1}, `pulumi up`, and repeat one minor at a time"
        if (major_b, minor_b) > (major_a, minor_a)
        else "a downgrade is a new cluster: add one at the old version, move the workloads, retire this one",
    )


def _minimum_above_desired(old: Registration, new: Registration) -> Iterable[Violation]:
    """EKS refuses a minimum above the group's desired size, and the autoscaler owns that size:
    with ignoreScalingChanges the program never sends one, so a raised minimum may land above it."""
    if new.type != "eks:index:ManagedNodeGroup" or not new.inputs.get("ignoreScalingChanges"):
        return
    before, after = (r.inputs.get("scalingConfig") or {} for r in (old, new))
    running = (
        "read the running size first (aws eks describe-nodegroup --cluster-name <cluster> --nodegroup-name <group> "
        "--query nodegroup.scalingConfig.desiredSize)"
    )
    if int(after.get("minSize", 0)) > int(before.get("minSize", 0)):
        minimum, maximum = after["minSize"], after.get("maxSize")
        yield Violation(
            "minimum-above-desired",
            f"update {new.name}",
            f"{new.name}: minSize {before.get('minSize')} -> {minimum} is refused by EKS (InvalidParameterException: "
            "Minimum capacity can't be greater than desired size) while the group runs fewer nodes",
            f"{running}; if it is below {minimum}, raise it: aws eks update-nodegroup-config --cluster-name <cluster> "
            f"--nodegroup-name <group> --scaling-config minSize={before.get('minSize')},maxSize={maximum},desiredSize="
            f"{minimum}; never lower it this way (a scale-in through desiredSize ignores PodDisruptionBudgets); then "
            "`pulumi up` (docs: node groups)",
        )
    if "maxSize" in after and int(after["maxSize"]) < int(before.get("maxSize", after["maxSize"])):
        maximum = after["maxSize"]
        yield Violation(
            "maximum-below-desired",
            f"update {new.name}",
            f"{new.name}: maxSize {before.get('maxSize')} -> {maximum} is refused by EKS (InvalidParameterException: "
            "desired size can't be greater than maximum) while the group runs more nodes, and the autoscaler owns that size",
            f"{running}; if it is above {maximum}, let the autoscaler scale the group in first (it drains nodes within "
            "PodDisruptionBudgets: lower the workloads' requests or replicas), or cordon and drain nodes with kubectl; "
            "never by setting desiredSize (EKS's scale-in ignores PodDisruptionBudgets); then `pulumi up`",
        )


Rule = Callable[[Step, dict[str, Registration], dict[str, Registration]], Iterable[Violation]]


def _unique(rule: str, type_token: str, identity: Callable[[Registration], tuple[Any, ...] | None], what: str, fix: str) -> Rule:
    """AWS holds at most one live object of ``type_token`` per ``identity``."""

    def check(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
        if step.kind == "delete" or step.registration.type != type_token:
            return
        key = identity(step.registration)
        if key is None:
            return
        clashes = [r for u, r in live.items() if u != step.urn and r.type == type_token and identity(r) == key]
        for other in clashes:
            yield Violation(
                rule,
                _where(step),
                f"{step.registration.name} and {other.name} are both {what} {key}: AWS refuses the second",
                fix,
            )

    return check


def _inputs(*keys: str) -> Callable[[Registration], tuple[Any, ...] | None]:
    def identity(r: Registration) -> tuple[Any, ...] | None:
        values = tuple(_freeze(r.inputs.get(k)) for k in keys)
        return None if values[0] is None else values

    return identity


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


SAME_NAMES = (
    "name the resource after the AWS object it is (the route table and destination, not the mode), so the "
    "change is an in-place update; or make it in two `pulumi up` runs: remove the old object, then add the new one"
)


def _routing_type(r: Registration) -> str:
    for policy in ("weighted", "failover", "latency", "geolocation", "geoproximity", "cidr"):
        if r.inputs.get(f"{policy}RoutingPolicies"):
            return policy
    return "simple"


ROUTING_PATHS = {
    "one-set": (
        "between weighted and latency, in three `pulumi up` runs, each clean and the name answered throughout: "
        "(1) keep one cluster in the record (the others out of its weights or clusters), (2) give that one cluster "
        "the new routing (its set, named by the cluster in both, is UPSERTed with the new policy: what the aws "
        "provider sends; that Route 53 accepts a policy change under one identifier is not in its API reference, so "
        "rehearse it in a sandbox zone), (3) add the others back. For the two runs between, one cluster serves the "
        "name alone, without failover: check the step-1 file with plan --what-if first. A record with `front: true` "
        "changes routing in one clean run"
    ),
    "remove": (
        "To or from failover or geolocation, a record with `front: true` changes routing in one clean run (its public "
        "name is one alias, updated in place). A live name without it takes `front: true` by removing the record and "
        "adding it back with the front, which leaves the name unanswered between the two runs once (dns-gap); a new "
        "name should start with the front"
    ),
    "front": (
        "`front: true` on a live name puts one alias where its sets are: remove the record in one run and add it back "
        "with the front in the next (the name is unanswered between them, once: lower the zone's negative TTL first); "
        "every later change of routing is then one clean run"
    ),
    "unfront": (
        "turning `front` off puts the sets where the alias is: remove the record in one run and add it back without "
        "the front in the next (the name is unanswered between them: lower the zone's negative TTL first); a record "
        "keeps the front for every later change of routing"
    ),
}
"""The way through a change of routing, per kind of change."""


def _one_routing_type(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    new = step.registration
    if step.kind == "delete" or new.type != "aws:route53/record:Record":
        return
    name = (new.inputs.get("zoneId"), new.inputs.get("name"), new.inputs.get("type"))
    mine = _routing_type(new)
    for urn, other in live.items():
        if urn == step.urn or other.type != new.type:
            continue
        if (other.inputs.get("zoneId"), other.inputs.get("name"), other.inputs.get("type")) == name:
            theirs = _routing_type(other)
            if theirs != mine:
                yield Violation(
                    "one-routing-type",
                    _where(step),
                    f"{new.name} makes {name[1]} {mine} while {other.name} keeps it {theirs}: Route 53 "
                    "refuses record sets of one name and type with different routing policies",
                    ROUTING_PATHS[
                        ("front" if mine == "simple" else "unfront")
                        if "simple" in {mine, theirs}
                        else "one-set"
                        if {mine, theirs} <= {"weighted", "latency"}
                        else "remove"
                    ],
                )


def _alias_target_exists(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    """An alias to a name in its own zone needs records at that name when it is written: Route 53 refuses
    it otherwise ("Tried to create an alias that targets ..., but it does not exist", InvalidChangeBatch)."""
    new = step.registration
    if step.kind == "delete" or new.type != RECORD:
        return
    zone = new.inputs.get("zoneId")
    for alias in new.inputs.get("aliases") or []:
        target = alias.get("name")
        # Only the program's own targets: an external edge may alias a record of the zone it does not manage.
        if (
            alias.get("zoneId") != zone
            or not str(target or "").startswith(FRONT_PREFIX)
            or any(r.type == RECORD and _record_key(r)[:2] == (zone, target) for r in live.values() if r.urn != step.urn)
        ):
            continue
        yield Violation(
            "alias-target",
            _where(step),
            f"{new.name} aliases {target} in its own zone before any record of that name exists: Route 53 refuses it",
            "make the alias depend on the records it targets (created first), or add them in an earlier deploy",
        )


def _pool_address_held(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    old = step.registration
    if step.kind != "delete" or old.type != "aws:ec2/eip:Eip":
        return
    # A draining address was unclaimable for the gateways the previous deploy created, and that
    # deploy deleted the ones that held it: nothing holds it now.
    cluster = (old.inputs.get("tags") or {}).get(GATEWAY_POOL_TAG)
    if cluster is None:
        return
    for gateway in _gateway_groups(live.values(), cluster):
        yield Violation(
            "pool-address-held",
            _where(step),
            f"{old.name} is released while {gateway.name} runs: a gateway may hold any pool address "
            "(InvalidIPAddress.InUse, or with refresh the live gateway loses it and its tunnels drop)",
            "lower gatewaysPerCluster in two `pulumi up` runs: first with fleet:submariner.keepGatewayAddresses "
            "set to the current pool size (3 x the current gatewaysPerCluster), which drains the addresses past "
            "the new pool while the gateway group is replaced; then remove keepGatewayAddresses",
        )


def _gateway_groups(registrations: Iterable[Registration], cluster: str) -> list[Registration]:
    return [
        r
        for r in registrations
        if r.type == "eks:index:ManagedNodeGroup"
        and (r.inputs.get("labels") or {}).get("submariner.io/gateway") == "true"
        and (r.inputs.get("tags") or {}).get("fleet-cluster") == cluster
    ]


def unordered_pool_releases(before: Run, plan: Transition) -> list[Violation]:
    """Pool addresses released in the run that deletes their gateways, with nothing ordering the two:
    Pulumi deletes a resource after its dependents only, and runs unrelated deletes in parallel."""
    deleted = {s.urn for s in plan.steps if s.kind == "delete"}
    found = []
    for step in plan.steps:
        old = step.registration
        tags = old.inputs.get("tags") or {}
        if step.kind != "delete" or old.type != "aws:ec2/eip:Eip":
            continue
        cluster = tags.get(GATEWAY_POOL_TAG) or tags.get(GATEWAY_DRAINING_TAG)
        if cluster is None:
            continue
        gone = [r for r in _gateway_groups(before.registrations.values(), cluster) if r.urn in deleted]
        for gateway in gone:
            if step.urn not in gateway.dependencies:
                found.append(
                    Violation(
                        "pool-address-held",
                        _where(step),
                        f"{old.name} may be released while {gateway.name} is still being deleted: the group does not "
                        "depend on the address, so Pulumi deletes both at once",
                        "make the gateway node group depend on its member's pool addresses (SubmarinerMemberArgs.gateway_pool)",
                    )
                )
    return found


def _resolver_domain(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    """A VPC takes one forwarding rule per domain name."""
    new = step.registration
    if step.kind == "delete" or new.type != "aws:route53/resolverRuleAssociation:ResolverRuleAssociation":
        return

    def domain(r: Registration) -> Any:
        rule = ids.get(str(r.inputs.get("resolverRuleId")))
        return rule.inputs.get("domainName") if rule is not None else r.inputs.get("resolverRuleId")

    for urn, other in live.items():
        same_vpc = other.type == new.type and other.inputs.get("vpcId") == new.inputs.get("vpcId")
        if urn != step.urn and same_vpc and domain(other) == domain(new):
            yield Violation(
                "resolver-domain",
                _where(step),
                f"{new.name} and {other.name} both forward {domain(new)} from {new.inputs.get('vpcId')}: "
                "Route 53 Resolver takes one rule per domain per VPC",
                SAME_NAMES,
            )


ONE_ROUTE = (
    "a route table holds one route per destination, and a new route beside the old one is refused "
    "(RouteAlreadyExists): keep the route's resource name so its target changes in place (ReplaceRoute), "
    "or remove the old route in one deploy and add the new one in the next"
)


def _one_tgw_association(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    """An attachment has one route table association on each gateway it joins (a peering: one per side)."""
    new = step.registration
    if step.kind == "delete" or new.type != "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation":
        return

    def side(r: Registration) -> tuple[Any, Any]:
        provider = live.get(r.provider_urn)
        region = r.inputs.get("region") or (provider.inputs.get("region") if provider is not None else None)
        return r.inputs.get("transitGatewayAttachmentId"), region

    for urn, other in live.items():
        if urn != step.urn and other.type == new.type and side(other) == side(new):
            yield Violation(
                "one-association",
                _where(step),
                f"{new.name} and {other.name} both associate {side(new)[0]} in {side(new)[1]}: an attachment "
                "has one route table association per gateway",
                SAME_NAMES,
            )


RULES: list[Rule] = [
    _unique("one-route", "aws:ec2/route:Route", _inputs("routeTableId", "destinationCidrBlock"), "routes at", ONE_ROUTE),
    _unique(
        "one-route",
        "aws:ec2transitgateway/route:Route",
        _inputs("transitGatewayRouteTableId", "destinationCidrBlock"),
        "transit gateway routes at",
        SAME_NAMES,
    ),
    _one_routing_type,
    _unique(
        "one-failover-role",
        "aws:route53/record:Record",
        lambda r: (
            (r.inputs.get("zoneId"), r.inputs.get("name"), r.inputs.get("type"), policies[0].get("type"))
            if (policies := r.inputs.get("failoverRoutingPolicies"))
            else None
        ),
        "failover sets of",
        "a failover name holds one PRIMARY and one SECONDARY record set (Route 53 API reference, "
        "ResourceRecordSet.Failover); sets still named by cluster (deployed before issue 36) take their role names "
        "first: deploy this program with the record unchanged, then make the edit; with fleet:dns.arc, python -m "
        "deploy failover moves traffic without a deploy",
    ),
    _unique(
        "one-location",
        "aws:route53/record:Record",
        lambda r: (
            (r.inputs.get("zoneId"), r.inputs.get("name"), r.inputs.get("type"), _freeze(policies[0]))
            if (policies := r.inputs.get("geolocationRoutingPolicies"))
            else None
        ),
        "geolocation sets of",
        "a geolocation name holds one set per location (Route 53 API reference, ResourceRecordSet.GeoLocation); sets "
        "still named by cluster (deployed before issue 36) take their location names first: deploy this program "
        "with the record unchanged, then make the edit",
    ),
    _unique(
        "one-rule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        _inputs("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId", "prefixListId"),
        "ingress rules",
        "a security group takes each rule once (InvalidPermission.Duplicate): keep one resource per rule",
    ),
    _unique(
        "one-rule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        _inputs("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId", "prefixListId"),
        "egress rules",
        "a security group takes each rule once (InvalidPermission.Duplicate): keep one resource per rule",
    ),
    _unique(
        "one-peering",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        _inputs("vpcId", "peerVpcId"),
        "peerings of",
        "two VPCs have one active peering: " + SAME_NAMES,
    ),
    _unique(
        "one-attachment",
        "aws:ec2transitgateway/vpcAttachment:VpcAttachment",
        _inputs("transitGatewayId", "vpcId"),
        "attachments of",
        "a VPC attaches once to a transit gateway: " + SAME_NAMES,
    ),
    _unique(
        "one-association",
        "aws:route53/resolverRuleAssociation:ResolverRuleAssociation",
        _inputs("resolverRuleId", "vpcId"),
        "associations of",
        SAME_NAMES,
    ),
    _resolver_domain,
    _one_tgw_association,
    _unique(
        "one-access-entry",
        "aws:eks/accessEntry:AccessEntry",
        _inputs("clusterName", "principalArn"),
        "access entries for",
        "a principal has one access entry per cluster (ResourceInUseException): keep one entry per principal",
    ),
    _pool_address_held,
    _alias_target_exists,
]

# Physical names AWS keeps unique (per account, region or parent): a create-before-delete
# replacement that keeps the name fails on its create.
NAMED = {
    "aws:iam/role:Role": ("name",),
    "aws:lb/loadBalancer:LoadBalancer": ("name",),
    "aws:lb/targetGroup:TargetGroup": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "aws:ec2/securityGroup:SecurityGroup": ("vpcId", "name"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name",),
    "aws:route53/resolverEndpoint:ResolverEndpoint": ("name",),
    "aws:route53/resolverRule:ResolverRule": ("name",),
    "aws:iam/rolePolicy:RolePolicy": ("role", "name"),
    "eks:index:Cluster": ("name",),
}


def _name_clash(step: Step, live: dict[str, Registration], ids: dict[str, Registration]) -> Iterable[Violation]:
    new = step.registration
    keys = NAMED.get(new.type)
    if step.kind != "create" or keys is None or f"{step.urn}#old" not in live:
        return
    old = live[f"{step.urn}#old"]
    mine = tuple(new.inputs.get(k) for k in keys)
    if mine[-1] is not None and mine == tuple(old.inputs.get(k) for k in keys):
        yield Violation(
            "name-clash",
            _where(step),
            f"{new.name} is replaced create-before-delete under the same physical name {mine[-1]!r}: AWS refuses the create",
            "replace it delete-before-replace (deleteBeforeReplace) or let the name change (namePrefix)",
        )


RULES.append(_name_clash)


def by_type(changes: list[Change]) -> dict[str, dict[str, list[Change]]]:
    """Changes grouped by action, then by resource type."""
    grouped: dict[str, dict[str, list[Change]]] = defaultdict(lambda: defaultdict(list))
    for change in changes:
        grouped[change.action][change.type].append(change)
    return {a: {t: sorted(cs, key=lambda c: c.name) for t, cs in sorted(ts.items())} for a, ts in grouped.items()}
