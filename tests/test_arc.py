"""Route 53 ARC (fleet:dns.arc): the resources, the records' health, and python -m deploy failover
against botocore Stubber answers shaped like route53-recovery-cluster's, endpoint failures included."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from deploy.failover import failover
from deploy.runner import ExitCode
from offline.harness import Run, run_stack
from offline.transition import transition

CONTROLS = {
    "prod-eu": "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/eu",
    "prod-us": "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/us",
}
ENDPOINTS = [
    {"endpoint": "https://aaaa.route53-recovery-cluster.us-east-1.amazonaws.com/v1", "region": "us-east-1"},
    {"endpoint": "https://bbbb.route53-recovery-cluster.us-west-2.amazonaws.com/v1", "region": "us-west-2"},
]
ARC = {"routingControls": CONTROLS, "clusterEndpoints": ENDPOINTS}
TO_EU = [
    {"RoutingControlArn": CONTROLS["prod-eu"], "RoutingControlState": "On"},
    {"RoutingControlArn": CONTROLS["prod-us"], "RoutingControlState": "Off"},
]


@pytest.fixture(scope="module")
def with_arc() -> Run:
    return run_stack("fleet", mutate=lambda c: c["fleet:dns"].update(arc=True))


def test_arc_adds_a_control_per_serving_cluster_kept_by_a_safety_rule_in_us_west_2(with_arc: Run) -> None:
    controls = with_arc.of_type("aws:route53recoverycontrol/routingControl:RoutingControl")
    assert sorted(c.inputs["name"] for c in controls) == ["prod-eu", "prod-us"]
    (rule,) = with_arc.of_type("aws:route53recoverycontrol/safetyRule:SafetyRule")
    assert rule.inputs["ruleConfig"] == {"type": "ATLEAST", "threshold": 1, "inverted": False}
    assert sorted(rule.inputs["assertedControls"]) == sorted(c.outputs["arn"] for c in controls)
    regions = {with_arc.registrations[r.provider_urn].inputs["region"] for r in [*controls, rule]}
    assert regions == {"us-west-2"}


def test_records_answer_only_while_the_edge_is_up_and_the_control_is_on(with_arc: Run) -> None:
    checks = {c.name: c for c in with_arc.of_type("aws:route53/healthCheck:HealthCheck")}
    serving = checks["traffic-prod-eu-serving"]
    assert serving.inputs["type"] == "CALCULATED"
    assert serving.inputs["childHealthThreshold"] == 2
    assert sorted(serving.inputs["childHealthchecks"]) == sorted(
        [checks["traffic-prod-eu"].id, checks["traffic-prod-eu-control"].id]
    )
    assert checks["traffic-prod-eu-control"].inputs["type"] == "RECOVERY_CONTROL"
    records = [
        r for r in with_arc.of_type("aws:route53/record:Record") if r.name.endswith("-prod-eu") and r.inputs.get("setIdentifier")
    ]
    assert records
    assert {r.inputs["healthCheckId"] for r in records} == {serving.id}
    assert set(with_arc.exports["arc"]["routingControls"]) == {"prod-eu", "prod-us"}


def test_turning_arc_on_and_off_are_clean_transitions(fleet: Run, with_arc: Run) -> None:
    on, off = transition(fleet, with_arc), transition(with_arc, fleet)
    assert on.violations == []
    assert off.violations == []
    assert {c.action for c in on.changes if c.type == "aws:route53/record:Record"} == {"update"}


def stubbed(region: str) -> tuple[Any, Stubber]:
    client = boto3.client("route53-recovery-cluster", region_name=region, aws_access_key_id="t", aws_secret_access_key="t")
    return client, Stubber(client)


def test_failover_flips_every_control_in_one_batch_and_tries_the_next_endpoint() -> None:
    east, east_stub = stubbed("us-east-1")
    west, west_stub = stubbed("us-west-2")
    east_stub.add_client_error("update_routing_control_states", "EndpointTemporarilyUnavailableException", http_status_code=503)
    west_stub.add_response("update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": TO_EU})
    clients = {"us-east-1": east, "us-west-2": west}
    with east_stub, west_stub:
        result = failover(ARC, "prod-eu", lambda endpoint, region: clients[region])
    assert result.exit_code == ExitCode.OK
    assert result.states == {"prod-eu": "On", "prod-us": "Off"}
    assert result.tried == ["us-east-1: EndpointTemporarilyUnavailableException", "us-west-2: updated"]


def test_an_unreachable_endpoint_is_skipped_and_a_safety_rule_refusal_stops() -> None:
    class Unreachable:
        def update_routing_control_states(self, **kwargs: Any) -> None:
            raise EndpointConnectionError(endpoint_url=ENDPOINTS[0]["endpoint"])

    west, west_stub = stubbed("us-west-2")
    west_stub.add_client_error(
        "update_routing_control_states", "ConflictException", "Safety rule at-least-1-on would be violated", 409
    )
    with west_stub:
        result = failover(ARC, "prod-eu", lambda endpoint, region: Unreachable() if region == "us-east-1" else west)
    assert result.exit_code == ExitCode.FAILED
    assert result.tried[0].startswith("us-east-1: unreachable")
    assert result.tried[1] == "us-west-2: refused (ConflictException)"
    assert result.error is not None
    assert "Safety rule" in result.error


def test_every_endpoint_down_or_an_unknown_cluster_fails_with_the_reason() -> None:
    east, east_stub = stubbed("us-east-1")
    west, west_stub = stubbed("us-west-2")
    east_stub.add_client_error("update_routing_control_states", "InternalServerException", http_status_code=500)
    west_stub.add_client_error("update_routing_control_states", "ThrottlingException", http_status_code=429)
    clients = {"us-east-1": east, "us-west-2": west}
    with east_stub, west_stub:
        down = failover(ARC, "prod-us", lambda endpoint, region: clients[region])
    assert down.exit_code == ExitCode.FAILED
    assert down.error == "no ARC cluster endpoint answered; try again, or from another network"
    unknown = failover(ARC, "staging-us", lambda endpoint, region: clients[region])
    assert unknown.error == "staging-us has no routing control (serving clusters: prod-eu, prod-us)"
