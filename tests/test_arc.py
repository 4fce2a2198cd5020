"""Route 53 ARC (fleet:dns.arc): the resources, the records' health, and python -m deploy failover
against botocore Stubber answers shaped like route53-recovery-cluster's, endpoint failures included."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from components.config.dns import ArcRuntimeSpec
from components.config.errors import ConfigError
from deploy import failover
from deploy.runner import ExitCode
from offline import stacks
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
RULE = "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/safetyrule/atleast"
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


def runtime() -> ArcRuntimeSpec:
    return failover.runtime_from_output({**ARC, "safetyRules": [RULE]})


def change(states: dict[str, str], **options: Any) -> failover.Switch:
    ticks = iter(range(0, 10_000, 5))
    return failover.Switch(runtime(), states, sleep=lambda _: None, clock=lambda: float(next(ticks)), **options)


def test_failover_flips_every_control_in_one_batch_and_tries_the_next_endpoint() -> None:
    east, east_stub = stubbed("us-east-1")
    west, west_stub = stubbed("us-west-2")
    east_stub.add_client_error("update_routing_control_states", "EndpointTemporarilyUnavailableException", http_status_code=503)
    west_stub.add_response("update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": TO_EU})
    clients = {"us-east-1": east, "us-west-2": west}
    with east_stub, west_stub:
        result = failover.switch(change(failover.wanted_states(CONTROLS, to="prod-eu")), "prod-eu", lambda e, r: clients[r])
    assert result.exit_code == ExitCode.OK
    assert result.states == {"prod-eu": "On", "prod-us": "Off"}
    assert result.tried == ["us-east-1: EndpointTemporarilyUnavailableException", "us-west-2: updated"]


def client_in(clients: dict[str, Any], endpoint: str, region: str) -> Any:
    return clients[region]


class Unreachable:
    def update_routing_control_states(self, **kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url=ENDPOINTS[0]["endpoint"])


def test_a_conflict_is_retried_and_a_refusal_of_the_request_stops() -> None:
    # Issue 36, defect 5: ConflictException was final; ARC says to retry it.
    west, west_stub = stubbed("us-west-2")
    west_stub.add_client_error("update_routing_control_states", "ConflictException", "try again", 409)
    west_stub.add_response("update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": TO_EU})
    with west_stub:
        result = failover.switch(
            change(failover.wanted_states(CONTROLS, to="prod-eu")),
            "prod-eu",
            lambda e, r: Unreachable() if r == "us-east-1" else west,
        )
    assert result.exit_code == ExitCode.OK, result.as_json()
    assert result.tried == [
        "us-east-1: EndpointConnectionError",
        "us-west-2: ConflictException",
        "us-east-1: EndpointConnectionError",
        "us-west-2: updated",
    ]
    # The request's own refusals stop at once (the API reference: too many controls is the request's).
    for code in ("AccessDeniedException", "ServiceLimitExceededException", "ValidationException"):
        west, west_stub = stubbed("us-west-2")
        west_stub.add_client_error("update_routing_control_states", code, "refused", 400)
        with west_stub:
            refused = failover.switch(
                change({"prod-eu": "Off"}), "x", partial(client_in, {"us-east-1": Unreachable(), "us-west-2": west})
            )
        assert refused.exit_code == ExitCode.FAILED
        assert refused.tried[-1] == f"us-west-2: refused ({code})"


def test_the_override_names_the_panels_safety_rules() -> None:
    east, east_stub = stubbed("us-east-1")
    east_stub.add_response(
        "update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": TO_EU, "SafetyRulesToOverride": [RULE]}
    )
    with east_stub:
        result = failover.switch(
            change(failover.wanted_states(CONTROLS, to="prod-eu"), override_safety_rules=True), "prod-eu", lambda e, r: east
        )
    assert result.exit_code == ExitCode.OK


def test_every_endpoint_down_until_the_deadline_fails_with_the_reason() -> None:
    east, east_stub = stubbed("us-east-1")
    west, west_stub = stubbed("us-west-2")
    for _ in range(6):
        east_stub.add_client_error("update_routing_control_states", "InternalServerException", http_status_code=500)
        west_stub.add_client_error("update_routing_control_states", "ConflictException", http_status_code=409)
    clients = {"us-east-1": east, "us-west-2": west}
    slept: list[float] = []
    ticks = iter(range(0, 10_000, 10))  # every call takes 10 s: the deadline is checked before each
    down = failover.Switch(runtime(), failover.wanted_states(CONTROLS), sleep=slept.append, clock=lambda: float(next(ticks)))
    with east_stub, west_stub:
        result = failover.switch(down, "normal", lambda e, r: clients[r])
    assert result.exit_code == ExitCode.FAILED
    assert result.error is not None
    assert result.error.startswith("no ARC cluster endpoint took the change within 120 s")
    assert "--override-safety-rules" in result.error  # a conflict that lasts may be a safety rule
    assert len(result.tried) == 11  # clock 10, 20, ... 110 s: the call at 120 s is not made
    assert slept == [1, 2, 4, 8, 10]


def test_off_sets_only_that_control() -> None:
    # Review of #36: --off turned On every other control, undoing an operator's deliberate Off.
    assert failover.wanted_states(CONTROLS, off="prod-us") == {"prod-us": "Off"}
    assert failover.wanted_states(CONTROLS) == {"prod-eu": "On", "prod-us": "On"}


def arc_stack_file(tmp_path: Path, runtime_config: dict[str, Any] | None) -> Path:
    document = yaml.safe_load(stacks.stack_path("prod").read_text())
    document["config"]["fleet:dns"]["arc"] = True
    if runtime_config is not None:
        document["config"]["fleet:dns"]["arcRuntime"] = runtime_config
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    return stack_file


def test_failover_works_from_the_stack_file_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Defect 5: the command read the stack's outputs, which needs the Pulumi backend and secrets provider.
    written = {
        "clusterEndpoints": {e["region"]: e["endpoint"] for e in ENDPOINTS},
        "routingControls": CONTROLS,
        "safetyRules": [RULE],
    }
    stack_file = arc_stack_file(tmp_path, written)
    east, east_stub = stubbed("us-east-1")
    normal = [{"RoutingControlArn": CONTROLS[c], "RoutingControlState": "On"} for c in sorted(CONTROLS)]
    east_stub.add_response("update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": normal})
    with east_stub:
        assert failover.main(stack_file, None, None, False, lambda e, r: east) == 0
    assert json.loads(capsys.readouterr().out)["states"] == {"prod-eu": "On", "prod-us": "On"}
    assert failover.main(stack_file, "staging-us", None, False, lambda e, r: east) == 1
    assert "staging-us has no routing control (serving clusters: prod-eu, prod-us)" in capsys.readouterr().out
    assert failover.main(arc_stack_file(tmp_path, None), "prod-eu", None, False, lambda e, r: east) == 1
    assert "`python -m deploy --stack <stack> --up` writes it" in capsys.readouterr().out


class FakeConfig:
    """Records config writes as the Automation API receives them."""

    def __init__(self) -> None:
        self.removed: list[str] = []
        self.written: dict[str, str] = {}
        self.paths: list[bool] = []

    def set_all_config(self, config: Any, *, path: bool = False) -> None:
        self.paths.append(path)
        self.written.update({key: value.value for key, value in config.items()})

    def remove_config(self, key: str, *, path: bool = False) -> None:
        self.removed.append(key)


def test_a_deploy_turns_the_controls_it_created_on_and_writes_them_down() -> None:
    # Defect 4: controls are created Off, so every record was unhealthy and Route 53 failed open.
    east, east_stub = stubbed("us-east-1")
    only_new = [{"RoutingControlArn": CONTROLS["prod-us"], "RoutingControlState": "On"}]
    east_stub.add_response("update_routing_control_states", {}, {"UpdateRoutingControlStateEntries": only_new})
    written = FakeConfig()
    with east_stub:
        done = failover.settle_after_up(written, {CONTROLS["prod-us"]}, {**ARC, "safetyRules": [RULE]}, lambda e, r: east)
    # prod-eu's control was not created by this update: an operator's failover state is left alone.
    assert done == ["routing controls On: prod-us", "fleet:dns.arcRuntime written (commit the stack file)"]
    assert written.removed == ["fleet:dns.arcRuntime"]
    assert written.paths == [True]  # one call, every key a config path
    assert written.written == {
        'fleet:dns.arcRuntime.clusterEndpoints["us-east-1"]': ENDPOINTS[0]["endpoint"],
        'fleet:dns.arcRuntime.clusterEndpoints["us-west-2"]': ENDPOINTS[1]["endpoint"],
        'fleet:dns.arcRuntime.routingControls["prod-eu"]': CONTROLS["prod-eu"],
        'fleet:dns.arcRuntime.routingControls["prod-us"]': CONTROLS["prod-us"],
        "fleet:dns.arcRuntime.safetyRules[0]": RULE,
    }


def test_min_serving_regions_that_forbids_every_failover_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        run_stack("fleet", mutate=lambda c: c["fleet:dns"].update(arc=True, minServingRegions=2))
    assert "ARC's safety rule keeps at least that many routing controls On, so it refuses every failover" in str(raised.value)
