"""The deploy's critical path: the longest chain of creates, from registrations and their dependencies.

Durations are typical AWS create times. A resource waits for what it depends on (explicit
dependsOn, the resources its inputs come from, its provider); depending on a component means
waiting for everything inside it. The chain's length is a lower bound on a first `pulumi up`,
whatever the parallelism.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from offline.harness import Registration, Run

# Minutes, typical for a create in a quiet account (docs/benchmarks.md documents this table).
CREATE_MINUTES: Mapping[str, float] = {
    "eks:index:Cluster": 10.0,
    "aws:eks/cluster:Cluster": 10.0,
    "eks:index:ManagedNodeGroup": 4.0,
    "aws:eks/nodeGroup:NodeGroup": 4.0,
    "aws:lb/loadBalancer:LoadBalancer": 3.0,
    "kubernetes:helm.sh/v3:Release": 2.0,
    "aws:route53/record:Record": 1.0,
    "aws:route53/healthCheck:HealthCheck": 1.0,
    "aws:ec2/natGateway:NatGateway": 2.0,
    # An EKS add-on is ACTIVE once its pods run (EBS CSI, metrics-server).
    "aws:eks/addon:Addon": 2.0,
}
# Everything else (VPC pieces, IAM, security-group rules, Kubernetes objects) takes seconds.
OTHER_MINUTES = 0.1


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    minutes: float
    finishes_at: float


@dataclass(frozen=True)
class CriticalPath:
    minutes: float
    steps: tuple[Step, ...]

    def count(self, type_token: str) -> int:
        return sum(1 for step in self.steps if step.type == type_token)


def minutes(registration: Registration) -> float:
    if registration.type in CREATE_MINUTES:
        return CREATE_MINUTES[registration.type]
    return OTHER_MINUTES if registration.custom else 0.0


def _schedule(run: Run) -> tuple[dict[str, float], Callable[[str], frozenset[str]]]:
    """When each create ends if every create starts as soon as what it waits for is done, and what each waits for."""
    registrations = run.registrations
    children: dict[str, list[str]] = {}
    for urn, registration in registrations.items():
        children.setdefault(registration.parent, []).append(urn)

    @cache
    def waits_for(urn: str) -> frozenset[str]:
        """The resources (not components) that must finish before ``urn`` is created."""
        direct = run.depends_on(registrations[urn])
        return frozenset(leaf for dependency in direct if dependency in registrations for leaf in _leaves(dependency))

    @cache
    def _leaves(urn: str) -> frozenset[str]:
        registration = registrations[urn]
        if registration.custom or registration.type in CREATE_MINUTES:
            return frozenset({urn})
        # A component is done when everything inside it is.
        return frozenset(leaf for child in children.get(urn, []) for leaf in _leaves(child))

    @cache
    def finish(urn: str) -> float:
        start = max((finish(dependency) for dependency in waits_for(urn)), default=0.0)
        return start + minutes(registrations[urn])

    return {urn: finish(urn) for urn in registrations}, waits_for


def critical_path(run: Run) -> CriticalPath:
    registrations = run.registrations
    ends, waits_for = _schedule(run)
    if not ends:
        return CriticalPath(0.0, ())
    last = max(sorted(ends), key=lambda u: ends[u])
    urn = last
    steps: list[Step] = []
    while True:
        registration = registrations[urn]
        steps.append(Step(registration.name, registration.type, minutes(registration), round(ends[urn], 2)))
        previous = sorted(waits_for(urn))
        if not previous:
            break
        urn = max(previous, key=lambda u: ends[u])
    return CriticalPath(round(ends[last], 2), tuple(reversed(steps)))


def simulated_minutes(run: Run, parallel: int) -> float:
    """A first ``pulumi up`` at ``parallel`` steps: each create waits for what it waits for, then for a free
    slot, held for its whole create; ready creates take slots in registration order (the engine's). A
    model, not a measurement: the create times are typical ones."""
    registrations = run.registrations
    _, waits_for = _schedule(run)
    order = {urn: index for index, urn in enumerate(registrations)}
    steps = [urn for urn in registrations if minutes(registrations[urn]) > 0]
    pending = {urn: set(waits_for(urn)) & set(steps) for urn in steps}
    waiting_on: dict[str, list[str]] = {}
    for urn, deps in pending.items():
        for dep in deps:
            waiting_on.setdefault(dep, []).append(urn)
    ready = [(order[urn], urn) for urn, deps in pending.items() if not deps]
    heapq.heapify(ready)
    running: list[tuple[float, str]] = []
    now = 0.0
    while ready or running:
        while ready and len(running) < parallel:
            _, urn = heapq.heappop(ready)
            heapq.heappush(running, (now + minutes(registrations[urn]), urn))
        now, done = heapq.heappop(running)
        for dependent in waiting_on.get(done, []):
            pending[dependent].discard(done)
            if not pending[dependent]:
                heapq.heappush(ready, (order[dependent], dependent))
    return round(now, 1)


def enough_parallel(run: Run, floor: int, cap: int = 128, slack: float = 1.05) -> int:
    """The smallest parallelism from ``floor`` up to ``cap`` at which the simulated ``up`` takes within
    ``slack`` of the critical path: more steps at once would only add API calls in flight."""
    target = critical_path(run).minutes * slack
    parallel = floor
    while parallel < cap and simulated_minutes(run, parallel) > target:
        parallel *= 2
    return min(parallel, cap)


DEFAULT_PARALLEL_PER_CPU = 4
"""pulumi up runs at most 4 x GOMAXPROCS steps at once unless --parallel says otherwise (pulumi/pulumi
defaultParallel(), since v3.100.0): 8 on a 2-vCPU runner."""
SNAPSHOT_WRITES_PER_STEP = 2
"""A DIY backend (local, S3) writes the whole snapshot when a step begins and when it ends, one write at a time."""


def total_create_minutes(run: Run) -> float:
    """Every create's typical duration added up: what the steps hold slots for."""
    return round(sum(minutes(r) for r in run.registrations.values()), 1)


def bound_minutes(run: Run, parallel: int) -> float:
    """A first ``pulumi up`` takes at least its critical path, and at least the total create time spread
    over ``parallel`` slots (each step holds its slot for the whole create)."""
    return round(max(critical_path(run).minutes, total_create_minutes(run) / parallel), 1)


def snapshot_writes(run: Run) -> int:
    """Snapshot writes a first ``pulumi up`` makes on a DIY backend: two per step (custom resources and
    components alike are steps)."""
    return SNAPSHOT_WRITES_PER_STEP * len(run.registrations)
