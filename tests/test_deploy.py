"""``python -m deploy``: the Automation API flow with the workspace faked (no Pulumi CLI here).

Failures are built by the Automation API's own ``create_command_error`` from the CLI's real error
text, so the tests exercise the same classification a real run goes through.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation.errors import create_command_error
from pulumi.automation.events import OpType, ResOutputsEvent, StepEventMetadata, StepEventStateMetadata

from deploy import runner
from deploy.__main__ import main
from deploy.runner import ROOT, DeployableStack, ExitCode

LOCKED_DIY = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
    "or delete the lock file with `pulumi cancel`.\n  s3://fleet-state/.pulumi/locks/organization/fleet/prod/abc.json: "
    "created by ci@runner (pid 4242) at 2026-11-24T10:00:00Z"
)
LOCKED_CLOUD = "error: [409] Conflict: Another update is currently in progress."
NOT_FOUND = "error: no stack named 'organization/fleet/qa' found"
POLICY_FAILED = (
    "Policies:\n    fleet-guardrails@v0.0.1 (local: policy)\n        - [mandatory]  kms-key-rotation\nerror: preview failed"
)


def summary(changes: Mapping[str, int]) -> auto.UpdateSummary:
    return auto.UpdateSummary(
        kind="update",
        start_time=datetime(2026, 11, 24, 10, 0),
        message="",
        environment={},
        config={},
        result="succeeded",
        resource_changes=dict(changes),  # type: ignore[arg-type]
    )


class FakeStack:
    """Records the calls a deploy makes; each operation returns a result or raises the CLI error given."""

    def __init__(
        self,
        fail: dict[str, str] | None = None,
        preview_changes: Mapping[OpType, int] | None = None,
        events: list[auto.EngineEvent] | None = None,
    ) -> None:
        self.events = events or []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail or {}
        self.preview_changes = dict(preview_changes if preview_changes is not None else {OpType.CREATE: 2, OpType.SAME: 180})

    def _record(self, operation: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((operation, kwargs))
        kwargs["on_output"](f"{operation}: engine output line")
        if operation in self.fail:
            raise create_command_error(auto.CommandResult("", self.fail[operation], 255))

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        self._record("refresh", kwargs)
        return auto.RefreshResult("", "", summary({"same": 182, "update": 1}))

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        self._record("preview", kwargs)
        for event in self.events:
            kwargs["on_event"](event)
        return auto.PreviewResult("", "", self.preview_changes)

    def up(self, **kwargs: Any) -> auto.UpResult:
        self._record("up", kwargs)
        outputs = {"kubeconfig": auto.OutputValue("apiVersion: v1 # token-material", True), "dns": auto.OutputValue({}, False)}
        return auto.UpResult("", "", summary({"create": 2, "same": 180}), outputs)


Opened = list[tuple[str, Path, Mapping[str, str]]]
PARALLEL = 40


def opener(stack: FakeStack, opened: Opened | None = None) -> Callable[[str, Path, Mapping[str, str]], DeployableStack]:
    def open_stack(name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        if opened is not None:
            opened.append((name, work_dir, env))
        return stack

    return open_stack


def run(
    argv: list[str], stack: FakeStack, capsys: pytest.CaptureFixture[str], opened: Opened | None = None
) -> tuple[int, dict[str, Any], str]:
    code = main(argv, opener(stack, opened), parallel_for=lambda name: PARALLEL)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_preview_refreshes_first_and_applies_the_policy_pack(capsys: pytest.CaptureFixture[str]) -> None:
    stack = FakeStack()
    opened: Opened = []
    code, document, stderr = run(["--stack", "prod"], stack, capsys, opened)
    assert code == ExitCode.OK
    assert opened == [("prod", ROOT, {})]
    assert [name for name, _ in stack.calls] == ["refresh", "preview"]
    preview_kwargs = stack.calls[1][1]
    assert preview_kwargs["policy_packs"] == [str(ROOT / "policy")]
    assert preview_kwargs["diff"] is True
    assert document == {
        "stack": "prod",
        "operation": "preview",
        "result": "succeeded",
        "exitCode": 0,
        "refreshChanges": {"same": 182, "update": 1},
        "changes": {"create": 2, "same": 180},
        "changed": 2,
        "outputs": [],
        "after": [],
        "parallel": PARALLEL,
        "error": None,
    }
    # Issue 37: the preview runs the stack's own parallelism, not the engine's 4 x CPUs; refresh keeps the default.
    assert {name: kwargs.get("parallel") for name, kwargs in stack.calls} == {"refresh": None, "preview": PARALLEL}
    # Engine progress goes to stderr so stdout stays one JSON document.
    assert "refresh: engine output line" in stderr
    assert "preview: engine output line" in stderr


def test_up_reports_changes_and_output_names_but_never_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    stack = FakeStack()
    summary_file = tmp_path / "summary.json"
    code, document, _ = run(
        ["--stack", "org/fleet/prod", "--up", "--message", "deploy abc123", "--summary-file", str(summary_file)], stack, capsys
    )
    assert code == ExitCode.OK
    assert [name for name, _ in stack.calls] == ["refresh", "up"]
    assert stack.calls[1][1]["message"] == "deploy abc123"
    assert document["operation"] == "up"
    assert document["changes"] == {"create": 2, "same": 180}
    assert document["outputs"] == ["dns", "kubeconfig"]
    assert "token-material" not in json.dumps(document)
    assert json.loads(summary_file.read_text()) == document


def test_no_refresh_and_no_policy(capsys: pytest.CaptureFixture[str]) -> None:
    stack = FakeStack()
    code, document, _ = run(["--stack", "prod", "--no-refresh", "--no-policy"], stack, capsys)
    assert code == ExitCode.OK
    assert [name for name, _ in stack.calls] == ["preview"]
    assert stack.calls[0][1]["policy_packs"] == []
    assert document["refreshChanges"] is None


def test_backend_url_reaches_the_workspace(capsys: pytest.CaptureFixture[str]) -> None:
    opened: Opened = []
    run(["--stack", "prod", "--backend-url", "s3://fleet-state"], FakeStack(), capsys, opened)
    assert opened[0][2] == {"PULUMI_BACKEND_URL": "s3://fleet-state"}


@pytest.mark.parametrize("stderr", [LOCKED_DIY, LOCKED_CLOUD], ids=["self-managed-backend", "pulumi-cloud"])
@pytest.mark.parametrize("operation", ["refresh", "preview"])
def test_lock_conflict_says_the_stack_is_locked(stderr: str, operation: str, capsys: pytest.CaptureFixture[str]) -> None:
    stack = FakeStack(fail={operation: stderr})
    code, document, err = run(["--stack", "prod"], stack, capsys)
    assert code == ExitCode.LOCKED
    assert int(ExitCode.LOCKED) == 3
    assert document["result"] == "failed"
    assert document["error"].startswith("stack prod is locked: another update is in progress")
    assert "pulumi cancel" in document["error"]
    assert document["error"] in err
    # Nothing runs after the lock is found.
    assert stack.calls[-1][0] == operation


def test_missing_stack_has_its_own_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = run(["--stack", "qa"], FakeStack(fail={"refresh": NOT_FOUND}), capsys)
    assert code == ExitCode.STACK_NOT_FOUND
    assert int(ExitCode.STACK_NOT_FOUND) == 4
    assert "stack qa does not exist" in document["error"]
    assert "pulumi stack init" in document["error"]


def test_a_failed_preview_exits_1_with_the_cli_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = run(["--stack", "prod"], FakeStack(fail={"preview": POLICY_FAILED}), capsys)
    assert code == ExitCode.FAILED
    assert int(ExitCode.FAILED) == 1
    assert document["error"] == "preview of prod failed: error: preview failed"
    assert document["changes"] == {}


def test_expect_no_changes_flags_drift(capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _ = run(["--stack", "prod", "--expect-no-changes"], FakeStack(), capsys)
    assert code == ExitCode.CHANGES_PENDING
    assert int(ExitCode.CHANGES_PENDING) == 5
    assert document["result"] == "changes-pending"
    clean = FakeStack(preview_changes={OpType.SAME: 182})
    code, document, _ = run(["--stack", "prod", "--expect-no-changes"], clean, capsys)
    assert code == ExitCode.OK
    assert document["changed"] == 0


@pytest.mark.parametrize("argv", [[], ["--stack", "prod", "--up", "--preview"], ["--stack", "prod", "--apply"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(argv, opener(FakeStack()))
    assert raised.value.code == 2


def test_the_real_workspace_runs_the_cli_in_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    selected: list[dict[str, Any]] = []
    sentinel = FakeStack()

    def select_stack(**kwargs: Any) -> FakeStack:
        selected.append(kwargs)
        return sentinel

    monkeypatch.setattr(auto, "select_stack", select_stack)
    assert runner.select_stack("prod", ROOT, {"PULUMI_BACKEND_URL": "s3://b"}) is sentinel
    (call,) = selected
    assert call["stack_name"] == "prod"
    assert call["work_dir"] == str(ROOT)
    assert call["opts"].env_vars == {"PULUMI_BACKEND_URL": "s3://b"}
    assert (ROOT / "Pulumi.yaml").exists()


def test_without_the_pulumi_cli_the_summary_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The real workspace with no `pulumi` on PATH: what a newcomer without the CLI gets.
    monkeypatch.setenv("PATH", str(tmp_path))
    summary_file = tmp_path / "summary.json"
    assert main(["--stack", "prod", "--summary-file", str(summary_file)]) == int(ExitCode.NO_CLI) == 6
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["result"] == "failed"
    assert summary["error"].startswith("the Pulumi CLI (pulumi) is not on PATH")
    assert json.loads(summary_file.read_text()) == summary
    assert "Traceback" not in err
    assert err.count("\n") == 1, "one line of reason"


def test_any_other_failure_still_gives_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    def broken_backend(stack: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        raise RuntimeError("could not read s3://state/fleet: AccessDenied")

    assert main(["--stack", "prod"], open_stack=broken_backend) == ExitCode.FAILED
    summary = json.loads(capsys.readouterr().out)
    assert summary["error"] == "preview of prod failed: RuntimeError: could not read s3://state/fleet: AccessDenied"


def test_an_unwritable_summary_file_is_a_reason_not_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def broken_backend(stack: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        raise RuntimeError("boom")

    code = main(["--stack", "prod", "--summary-file", str(tmp_path / "missing" / "s.json")], open_stack=broken_backend)
    assert code == ExitCode.FAILED
    assert "cannot write the summary to" in capsys.readouterr().err


def provider_update(type_token: str, diffs: list[str], op: OpType = OpType.UPDATE) -> auto.EngineEvent:
    """A ResourcePreEvent as the engine streams it (pulumi.automation.events)."""
    metadata = auto.events.StepEventMetadata(
        op=op, urn=f"urn:pulumi:prod::fleet::{type_token}::x", type=type_token, provider="", diffs=diffs
    )
    return auto.EngineEvent(sequence=1, timestamp=0, resource_pre_event=auto.events.ResourcePreEvent(metadata))


def test_a_preview_as_the_preview_role_is_not_drift_with_fleet_account(capsys: pytest.CaptureFixture[str]) -> None:
    # With fleet:account, the explicit providers assume the preview role in a preview and the deploy role in
    # `up`: those provider updates are the only "changes", and they change no resource.
    events = [
        provider_update("pulumi:providers:aws", ["assumeRoles"]),
        provider_update("pulumi:providers:kubernetes", ["kubeconfig"]),
    ]
    stack = FakeStack(preview_changes={OpType.UPDATE: 2, OpType.SAME: 180}, events=events)
    code, document, _ = run(["--stack", "prod", "--expect-no-changes"], stack, capsys)
    assert code == ExitCode.OK
    assert document["changes"] == {"same": 182}
    # Any other update still counts: a provider whose region changed, or a resource.
    events = [
        provider_update("pulumi:providers:aws", ["assumeRoles", "region"]),
        provider_update("aws:eks/cluster:Cluster", ["version"]),
    ]
    stack = FakeStack(preview_changes={OpType.UPDATE: 2, OpType.SAME: 180}, events=events)
    code, document, _ = run(["--stack", "prod", "--expect-no-changes"], stack, capsys)
    assert code == ExitCode.CHANGES_PENDING
    assert document["changes"] == {"same": 180, "update": 2}


ROUTING_CONTROL = "aws:route53recoverycontrol/routingControl:RoutingControl"


def control_event(op: auto.OpType, arn: str) -> auto.EngineEvent:
    """The engine's event for a routing control the update created (or updated)."""
    new = StepEventStateMetadata(ROUTING_CONTROL, f"urn:x::{arn}", arn, "", "", outputs={"arn": arn})
    metadata = StepEventMetadata(op, f"urn:x::{arn}", ROUTING_CONTROL, "", new=new)
    return auto.EngineEvent(0, 0, res_outputs_event=ResOutputsEvent(metadata))


class ArcStack(FakeStack):
    """An up whose stack has fleet:dns.arc: its outputs carry the arc section; it writes config."""

    def __init__(self) -> None:
        super().__init__()

    def up(self, **kwargs: Any) -> auto.UpResult:
        result = super().up(**kwargs)
        kwargs["on_event"](control_event(auto.OpType.CREATE, "arn:new"))
        kwargs["on_event"](control_event(auto.OpType.UPDATE, "arn:old"))
        arc = {"routingControls": {"prod-us": "arn:new", "prod-eu": "arn:old"}, "clusterEndpoints": [], "safetyRules": []}
        return auto.UpResult("", "", result.summary, {**result.outputs, "arc": auto.OutputValue(arc, False)})


def test_an_up_with_arc_settles_the_routing_controls_it_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 36, defect 4: the controls stayed Off after the deploy that created them. Review: which are
    # new comes from the update's own events, never from a stack file a human may not have committed
    # (that turned every control On on the next deploy, undoing an evacuation).
    from deploy import failover

    settled: list[Any] = []

    def settle(stack: Any, created: set[str], arc_output: Any, *args: Any) -> list[str]:
        settled.append((stack, created, arc_output))
        return ["routing controls On: prod-us"]

    monkeypatch.setattr(failover, "settle_after_up", settle)
    stack = ArcStack()
    code, document, _ = run(["--stack", "prod", "--up"], stack, capsys)
    assert code == ExitCode.OK
    assert document["after"] == ["routing controls On: prod-us"]
    ((written_to, created, arc_output),) = settled
    assert written_to is stack
    assert created == {"arn:new"}
    assert arc_output["routingControls"]["prod-us"] == "arn:new"

    def refused(*args: Any) -> list[str]:
        raise failover.FailoverError("the new routing controls of prod-us are Off: no endpoint")

    monkeypatch.setattr(failover, "settle_after_up", refused)
    code, document, _ = run(["--stack", "prod", "--up"], ArcStack(), capsys)
    assert code == ExitCode.FAILED
    assert document["error"].startswith("up of prod succeeded, then FailoverError: the new routing controls of prod-us are Off")
    assert "python -m deploy failover --stack prod --normal" in document["error"]


def test_the_parallelism_brings_the_simulated_up_near_its_critical_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 37: at the engine's default of 8 steps prod's first up queues (its simulated time is longer
    # than its critical path); the deploy doubles until it is within 5%, and leaves refresh alone.
    from deploy import parallelism
    from offline.critical_path import critical_path, simulated_minutes
    from offline.harness import run_stack

    prod = run_stack("prod")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    chosen = parallelism.for_stack("prod")
    assert chosen is not None
    assert simulated_minutes(prod, 8) > critical_path(prod).minutes * 1.05
    assert chosen > 8
    assert simulated_minutes(prod, chosen) <= critical_path(prod).minutes * 1.05
    assert simulated_minutes(prod, chosen // 2) > critical_path(prod).minutes * 1.05
    # The operator's PULUMI_PARALLEL is theirs.
    monkeypatch.setenv("PULUMI_PARALLEL", "4")
    assert parallelism.for_stack("prod") is None
    stack = FakeStack()
    assert main(["--stack", "prod", "--parallel", "12"], opener(stack)) == ExitCode.OK
    assert {name: kwargs.get("parallel") for name, kwargs in stack.calls} == {"refresh": None, "preview": 12}


def test_a_pulumi_cli_older_than_the_documented_one_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    # Second review of #36: an engine before v3.151 replaces a resource whose explicit provider changes,
    # which the interconnect's route moves and the transition model rely on it not doing.
    from types import SimpleNamespace

    from components.aws.pulumi_engine import cli_version

    assert cli_version("v3.272.0") == (3, 272, 0)
    assert cli_version("3.150.1-alpha.x") == (3, 150, 1)
    assert cli_version("3.150.0+abc") == (3, 150, 0)
    old = FakeStack()
    old.workspace = SimpleNamespace(pulumi_version="3.150.0")  # type: ignore[attr-defined]
    code, document, _ = run(["--stack", "prod", "--up"], old, capsys)
    assert code == ExitCode.FAILED
    assert old.calls == []
    assert document["error"].startswith("the Pulumi CLI on PATH is 3.150.0; these deploys need 3.200.0 or newer")
    current = FakeStack()
    current.workspace = SimpleNamespace(pulumi_version="3.272.0")  # type: ignore[attr-defined]
    assert run(["--stack", "prod"], current, capsys)[0] == ExitCode.OK
