"""``python -m deploy failover --stack S (--to CLUSTER | --off CLUSTER | --normal)``: set the ARC
routing controls (fleet:dns.arc) in one batch, through the ARC cluster's data-plane endpoints.

- ``--to CLUSTER``: CLUSTER On, every other serving cluster Off (all traffic to one region);
- ``--off CLUSTER``: CLUSTER Off, the others On (evacuate one region);
- ``--normal``: every control On, so every healthy region serves again (and Route 53 fails over by
  the edges' health checks alone).

It needs AWS credentials and the stack file alone: the endpoints, controls and safety rules are in
``fleet:dns.arcRuntime``, written by the deploy that created them (``python -m deploy --up``), not
read from the Pulumi backend or the ARC config API (us-west-2 only), either of which an incident may
take away. The batch is checked atomically against the safety rule (at least
fleet:dns.minServingRegions On); ``--override-safety-rules`` passes the rules to override (ARC's
"break glass"). Endpoints are tried in turn with short timeouts and no SDK retries, and the round is
repeated with backoff, until one accepts, for what ARC says to retry (throttling, a conflict, an
endpoint unavailable or failing, no connection), up to a deadline; a refusal of the request itself
(validation, access, an unknown control) stops at once. Source: Route 53 ARC API reference,
UpdateRoutingControlStates, and Developer Guide, "Working with routing control in ARC".
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pulumi import automation as auto

from components.config.dns import ArcRuntimeSpec
from components.config.errors import ConfigError
from deploy.exit_codes import ExitCode

RETRYABLE = {
    "InternalServerException",
    "ThrottlingException",
    "EndpointTemporarilyUnavailableException",
    "ConflictException",
    "ServiceLimitExceededException",
}
"""Errors of one endpoint or one moment, not of the request: another endpoint, or the next round, may accept it."""

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
DEADLINE_SECONDS = 120
BACKOFF_SECONDS = (1, 2, 4, 8, 10)

ClientFor = Callable[[str, str], Any]
"""(endpoint URL, region) -> a boto3 route53-recovery-cluster client."""


def boto3_client(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # One attempt per call: the round over the endpoints is the retry, so a dead endpoint costs seconds.
    config = Config(connect_timeout=CONNECT_TIMEOUT_SECONDS, read_timeout=READ_TIMEOUT_SECONDS, retries={"max_attempts": 1})
    return boto3.client("route53-recovery-cluster", region_name=region, endpoint_url=endpoint, config=config)


@dataclass
class FailoverResult:
    target: str
    exit_code: ExitCode = ExitCode.OK
    states: dict[str, str] = field(default_factory=dict)
    tried: list[str] = field(default_factory=list)
    """"<region>: <what happened>" per endpoint tried, in order."""
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "result": "succeeded" if self.exit_code == ExitCode.OK else "failed",
            "states": self.states,
            "tried": self.tried,
            "error": self.error,
        }


def wanted_states(controls: Mapping[str, str], to: str | None = None, off: str | None = None) -> dict[str, str]:
    """Every control's state: only ``to`` On, or only ``off`` Off, or (neither) all On."""
    if to is not None:
        return {cluster: "On" if cluster == to else "Off" for cluster in sorted(controls)}
    return {cluster: "Off" if cluster == off else "On" for cluster in sorted(controls)}


@dataclass(frozen=True)
class Switch:
    """One change of routing control states, and how hard to try."""

    runtime: ArcRuntimeSpec
    states: dict[str, str]
    override_safety_rules: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    deadline_seconds: float = DEADLINE_SECONDS


def switch(change: Switch, target: str, client_for: ClientFor = boto3_client) -> FailoverResult:
    """Apply ``change.states`` in one UpdateRoutingControlStates batch through the first endpoint that takes it."""
    result = FailoverResult(target, states=dict(change.states))
    controls = change.runtime.routing_controls
    entries = [{"RoutingControlArn": controls[c], "RoutingControlState": state} for c, state in change.states.items()]
    extra = {"SafetyRulesToOverride": list(change.runtime.safety_rules)} if change.override_safety_rules else {}
    endpoints = sorted(change.runtime.cluster_endpoints.items())
    started = change.clock()
    for round_number in itertools.count():
        for region, endpoint in endpoints:
            try:
                client_for(endpoint, region).update_routing_control_states(UpdateRoutingControlStateEntries=entries, **extra)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                message = exc.response.get("Error", {}).get("Message", "")
                if code in RETRYABLE:
                    result.tried.append(f"{region}: {code}")
                    continue
                result.tried.append(f"{region}: refused ({code})")
                result.exit_code = ExitCode.FAILED
                result.error = f"ARC refused the change: {code}: {message}"
                if code == "ValidationException" and not change.override_safety_rules:
                    result.error += (
                        "; if a safety rule refuses it and the change must happen (break glass), run it again with "
                        "--override-safety-rules"
                    )
                return result
            except BotoCoreError as exc:  # no connection, a timeout: this endpoint, not the request
                result.tried.append(f"{region}: {type(exc).__name__}")
                continue
            result.tried.append(f"{region}: updated")
            return result
        if change.clock() - started >= change.deadline_seconds:
            break
        change.sleep(BACKOFF_SECONDS[min(round_number, len(BACKOFF_SECONDS) - 1)])
    result.exit_code = ExitCode.FAILED
    result.error = (
        f"no ARC cluster endpoint took the change within {change.deadline_seconds:.0f} s; try again, or from another "
        "network (a ConflictException that lasts may be a safety rule: --override-safety-rules)"
    )
    return result


def runtime_of(stack_file: Path) -> ArcRuntimeSpec:
    """``fleet:dns.arcRuntime`` of a stack file, or ConfigError saying how it gets there."""
    from components.config.stack_files import read_stack_file

    dns = read_stack_file(stack_file).config.get("fleet:dns") or {}
    if not dns.get("arc"):
        raise ConfigError([f"{stack_file}: fleet:dns.arc is not on: this stack has no routing controls"])
    runtime = dns.get("arcRuntime")
    if runtime is None:
        raise ConfigError(
            [
                f"{stack_file}: no fleet:dns.arcRuntime: `python -m deploy --stack <stack> --up` writes it after it "
                "creates the controls; commit the stack file it changed"
            ]
        )
    try:
        return ArcRuntimeSpec.model_validate(runtime)
    except ValueError as error:
        raise ConfigError([f"{stack_file}: fleet:dns.arcRuntime: {error}"]) from None


def main(
    stack_file: Path,
    to: str | None,
    off: str | None,
    override_safety_rules: bool,
    client_for: ClientFor = boto3_client,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    try:
        runtime = runtime_of(stack_file)
    except ConfigError as error:
        print(f"python -m deploy failover: {error}")
        return int(ExitCode.FAILED)
    named = to or off
    if named is not None and named not in runtime.routing_controls:
        print(
            f"python -m deploy failover: {named} has no routing control "
            f"(serving clusters: {', '.join(sorted(runtime.routing_controls))})"
        )
        return int(ExitCode.FAILED)
    states = wanted_states(runtime.routing_controls, to=to, off=off)
    target = to or (f"all but {off}" if off else "normal")
    result = switch(Switch(runtime, states, override_safety_rules, sleep=sleep), target, client_for)
    print(json.dumps(result.as_json(), indent=2))
    return int(result.exit_code)


def runtime_from_output(arc_output: Mapping[str, Any]) -> ArcRuntimeSpec:
    """The ``arc`` stack output as the stack file keeps it."""
    return ArcRuntimeSpec(
        cluster_endpoints={e["region"]: e["endpoint"] for e in arc_output.get("clusterEndpoints") or []},
        routing_controls=dict(arc_output.get("routingControls") or {}),
        safety_rules=list(arc_output.get("safetyRules") or []),
    )


class ConfigWriter(Protocol):
    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None: ...

    def remove_config(self, key: str, *, path: bool = False) -> None: ...


def settle_after_up(
    stack: ConfigWriter,
    before: ArcRuntimeSpec | None,
    arc_output: Mapping[str, Any],
    client_for: ClientFor = boto3_client,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """After a deploy: the routing controls it created On (ARC creates them Off, and with every control
    Off every record is unhealthy, so Route 53 fails open and fails over nothing), the others left as an
    operator set them; then fleet:dns.arcRuntime rewritten to what exists. What it did, or raises
    FailoverError when ARC took no change."""
    runtime = runtime_from_output(arc_output)
    known = set((before.routing_controls if before else {}).values())
    created = {cluster: arn for cluster, arn in runtime.routing_controls.items() if arn not in known}
    done = []
    if created:
        result = switch(Switch(runtime, {c: "On" for c in sorted(created)}, sleep=sleep), "new controls", client_for)
        if result.exit_code != ExitCode.OK:
            raise FailoverError(f"the new routing controls of {', '.join(sorted(created))} are Off: {result.error}")
        done.append(f"routing controls On: {', '.join(sorted(created))}")
    stack.remove_config("fleet:dns.arcRuntime", path=True)
    for region, endpoint in sorted(runtime.cluster_endpoints.items()):
        stack.set_config(f'fleet:dns.arcRuntime.clusterEndpoints["{region}"]', auto.ConfigValue(endpoint), path=True)
    for cluster, arn in sorted(runtime.routing_controls.items()):
        stack.set_config(f'fleet:dns.arcRuntime.routingControls["{cluster}"]', auto.ConfigValue(arn), path=True)
    for i, arn in enumerate(runtime.safety_rules):
        stack.set_config(f"fleet:dns.arcRuntime.safetyRules[{i}]", auto.ConfigValue(arn), path=True)
    done.append("fleet:dns.arcRuntime written (commit the stack file)")
    return done


class FailoverError(Exception):
    """ARC took none of the change."""
