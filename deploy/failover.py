"""``python -m deploy failover --stack S --to CLUSTER``: turn CLUSTER's ARC routing control On and
every other serving cluster's Off in one batch, through the ARC cluster's data-plane endpoints.

The batch is checked atomically against the control panel's safety rule (at least
fleet:dns.minServingRegions On), so it never passes through a state with nothing serving. Any one
endpoint may be unavailable: the next is tried (components/aws/arc.py); an answer that refuses the
change itself (a safety rule, a validation error) stops at once, since another endpoint would
refuse it too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from deploy.runner import ExitCode

# Errors of one endpoint, not of the request: another endpoint may well answer.
RETRYABLE = {"InternalServerException", "ThrottlingException", "EndpointTemporarilyUnavailableException"}

ClientFor = Callable[[str, str], Any]
"""(endpoint URL, region) -> a boto3 route53-recovery-cluster client."""


def boto3_client(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.client("route53-recovery-cluster", region_name=region, endpoint_url=endpoint)


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


def failover(arc_output: Mapping[str, Any], target: str, client_for: ClientFor = boto3_client) -> FailoverResult:
    result = FailoverResult(target)
    controls: Mapping[str, str] = arc_output.get("routingControls") or {}
    endpoints = arc_output.get("clusterEndpoints") or []
    if target not in controls:
        result.exit_code, result.error = (
            ExitCode.FAILED,
            f"{target} has no routing control (serving clusters: {', '.join(sorted(controls))})",
        )
        return result
    if not endpoints:
        result.exit_code, result.error = (
            ExitCode.FAILED,
            "the stack's arc output lists no cluster endpoints: deploy with fleet:dns.arc first",
        )
        return result
    result.states = {cluster: "On" if cluster == target else "Off" for cluster in sorted(controls)}
    entries = [{"RoutingControlArn": controls[c], "RoutingControlState": state} for c, state in result.states.items()]
    for endpoint in endpoints:
        region = endpoint["region"]
        try:
            client_for(endpoint["endpoint"], region).update_routing_control_states(UpdateRoutingControlStateEntries=entries)
        except EndpointConnectionError as exc:
            result.tried.append(f"{region}: unreachable ({exc})")
            continue
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in RETRYABLE:
                result.tried.append(f"{region}: {code}")
                continue
            result.tried.append(f"{region}: refused ({code})")
            result.exit_code, result.error = (
                ExitCode.FAILED,
                f"ARC refused the change: {code}: {exc.response.get('Error', {}).get('Message', '')}",
            )
            return result
        except BotoCoreError as exc:
            result.tried.append(f"{region}: {type(exc).__name__}")
            continue
        result.tried.append(f"{region}: updated")
        return result
    result.exit_code, result.error = ExitCode.FAILED, "no ARC cluster endpoint answered; try again, or from another network"
    return result


def main(stack: str, target: str, outputs: Callable[[str], Mapping[str, Any]], client_for: ClientFor = boto3_client) -> int:
    arc_output = outputs(stack).get("arc") or {}
    found = failover(arc_output, target, client_for)
    print(json.dumps(found.as_json(), indent=2))
    return int(found.exit_code)
