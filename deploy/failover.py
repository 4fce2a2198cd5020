"""``python -m deploy failover --stack S (--to CLUSTER | --off CLUSTER | --normal)``: set the ARC
routing controls (fleet:dns.arc) in one batch, through the ARC cluster's data-plane endpoints.

- ``--to CLUSTER``: CLUSTER On, every other serving cluster Off (all traffic to one region);
- ``--off CLUSTER``: CLUSTER Off, the others as they are (evacuate one region);
- ``--normal``: every control On, so every healthy region serves again (and Route 53 fails over by
  the edges' health checks alone).

It needs AWS credentials and the stack file alone: the endpoints, controls and safety rules are in
``fleet:dns.arcRuntime``, written by the deploy that created them (``python -m deploy --up``), not
read from the Pulumi backend or the ARC config API (us-west-2 only), either of which an incident may
take away. The batch is checked atomically against the safety rule (at least
fleet:dns.minServingRegions On); ``--override-safety-rules`` passes the rules to override (ARC's
"break glass"). Endpoints are tried in turn with short timeouts and no SDK retries, and the round is
repeated with backoff, until one accepts, for what ARC says to retry (throttling, a conflict, an
endpoint unavailable or failing, no connection or answer in time), up to a deadline checked before
every call; a refusal of the request itself (validation, access, an unknown control, too many
controls at once) stops at once. Source: Route 53 ARC API reference,
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

from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pulumi import automation as auto

from components.config.dns import ArcRuntimeSpec
from components.config.errors import ConfigError
from deploy.exit_codes import ExitCode

RETRYABLE = {"InternalServerException", "ThrottlingException", "EndpointTemporarilyUnavailableException", "ConflictException"}
"""Errors of one endpoint or one moment, not of the request: another endpoint, or the next round, may
accept it (the API reference: ConflictException "Try again"; ServiceLimitExceededException, "can't
update that many routing control states at the same time", is the request's, and final)."""

UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)
"""An endpoint that does not answer in time: the next one may. Any other SDK error (no credentials, a
malformed request) is this machine's and final."""

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
    """The controls to set: ``to`` On and every other Off; or ``off`` alone Off (the others stay as an
    operator left them); or (neither) every control On."""
    if to is not None:
        return {cluster: "On" if cluster == to else "Off" for cluster in sorted(controls)}
    if off is not None:
        return {off: "Off"}
    return {cluster: "On" for cluster in sorted(controls)}


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
            if change.clock() - started >= change.deadline_seconds:
                return _gave_up(result, change)
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
                return result
            except UNREACHABLE as exc:
                result.tried.append(f"{region}: {type(exc).__name__}")
                continue
            result.tried.append(f"{region}: updated")
            return result
        change.sleep(BACKOFF_SECONDS[min(round_number, len(BACKOFF_SECONDS) - 1)])
    return _gave_up(result, change)


def _gave_up(result: FailoverResult, change: Switch) -> FailoverResult:
    result.exit_code = ExitCode.FAILED
    conflicts = any(t.endswith("ConflictException") for t in result.tried)
    result.error = (
        f"no ARC cluster endpoint took the change within {change.deadline_seconds:.0f} s; try again, or from another network"
        + (
            " (a ConflictException that lasts: another change in flight, or a safety rule refusing this one; break glass "
            "with --override-safety-rules)"
            if conflicts and not change.override_safety_rules
            else ""
        )
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
    def set_all_config(self, config: Mapping[str, auto.ConfigValue], *, path: bool = False) -> None: ...

    def remove_config(self, key: str, *, path: bool = False) -> None: ...


def settle_after_up(
    stack: ConfigWriter,
    created: set[str],
    arc_output: Mapping[str, Any],
    client_for: ClientFor = boto3_client,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """After a deploy: the routing controls it created (``created``: their ARNs, from the update's own
    engine events, never from a file that may be stale) On, since ARC creates them Off and with every
    control Off every record is unhealthy, so Route 53 fails open and fails over nothing; every other
    control left as an operator set it. Then fleet:dns.arcRuntime rewritten to what exists. What it
    did; FailoverError when ARC took none of it."""
    runtime = runtime_from_output(arc_output)
    new = {cluster: arn for cluster, arn in runtime.routing_controls.items() if arn in created}
    done = []
    if new:
        result = switch(Switch(runtime, {c: "On" for c in sorted(new)}, sleep=sleep), "new controls", client_for)
        if result.exit_code != ExitCode.OK:
            raise FailoverError(f"the new routing controls of {', '.join(sorted(new))} are Off: {result.error}")
        done.append(f"routing controls On: {', '.join(sorted(new))}")
    written = {f'fleet:dns.arcRuntime.clusterEndpoints["{r}"]': e for r, e in sorted(runtime.cluster_endpoints.items())}
    written |= {f'fleet:dns.arcRuntime.routingControls["{c}"]': a for c, a in sorted(runtime.routing_controls.items())}
    written |= {f"fleet:dns.arcRuntime.safetyRules[{i}]": arn for i, arn in enumerate(runtime.safety_rules)}
    stack.remove_config("fleet:dns.arcRuntime", path=True)
    stack.set_all_config({key: auto.ConfigValue(value) for key, value in written.items()}, path=True)
    done.append("fleet:dns.arcRuntime written (commit the stack file)")
    return done


class FailoverError(Exception):
    """ARC took none of the change."""
