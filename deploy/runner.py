"""Stack deploys through the Automation API, for CI systems that do not run the GitHub workflows.

One run is: select the stack, refresh it (so the diff is against what exists, not what state
remembers), then preview or up, with the policy pack applied. The result is a JSON summary and an
exit code a pipeline can branch on; the engine's own progress goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pulumi import automation as auto

from components.aws import pulumi_engine
from deploy.exit_codes import ExitCode as ExitCode  # re-exported: every command reads its codes here

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POLICY_PACK = ROOT / "policy"

Operation = Literal["preview", "up"]


# What the summary's "result" says for an exit code; every other code is a failure.
RESULTS = {ExitCode.OK: "succeeded", ExitCode.CHANGES_PENDING: "changes-pending"}


class DeployableStack(Protocol):
    """The part of ``pulumi.automation.Stack`` a deploy uses (tests pass a fake)."""

    def refresh(
        self,
        *,
        on_output: Callable[[str], None] | None = ...,
        message: str | None = ...,
        parallel: int | None = ...,
        config_file: str | None = ...,
    ) -> auto.RefreshResult: ...

    def preview(
        self,
        *,
        on_output: Callable[[str], None] | None = ...,
        diff: bool | None = ...,
        policy_packs: list[str] | None = ...,
        message: str | None = ...,
        on_event: Callable[[auto.EngineEvent], None] | None = ...,
        parallel: int | None = ...,
        config_file: str | None = ...,
    ) -> auto.PreviewResult: ...

    def up(
        self,
        *,
        on_output: Callable[[str], None] | None = ...,
        diff: bool | None = ...,
        policy_packs: list[str] | None = ...,
        message: str | None = ...,
        on_event: Callable[[auto.EngineEvent], None] | None = ...,
        parallel: int | None = ...,
        config_file: str | None = ...,
    ) -> auto.UpResult: ...


StackOpener = Callable[[str, Path, Mapping[str, str]], DeployableStack]


class Progress(Protocol):
    """Where a deploy writes the engine's output (a terminal, or one cell's prefixed lines)."""

    def write(self, text: str, /) -> int: ...


def select_stack(stack: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
    """The real workspace: the Pulumi CLI on PATH, run in the project directory."""
    options = auto.LocalWorkspaceOptions(env_vars=dict(env)) if env else None
    return auto.select_stack(stack_name=stack, work_dir=str(work_dir), opts=options)


@dataclass(frozen=True)
class DeployRequest:
    """What to run: the stack, preview or up, and how."""

    stack: str
    operation: Operation = "preview"
    refresh: bool = True
    policy_packs: tuple[Path, ...] = (DEFAULT_POLICY_PACK,)
    message: str | None = None
    backend_url: str | None = None
    expect_no_changes: bool = False
    parallel: int | None = None
    """Steps the engine runs at once (``--parallel``); None leaves the engine's default, 4 x CPUs."""
    config_file: str | None = None
    """The stack file to run with instead of ``Pulumi.<stack>.yaml`` (``--config-file``): a cell's is its
    environment's (planning/cells.py)."""


@dataclass
class DeploySummary:
    """The JSON a pipeline reads: what changed, how it ended, and why."""

    stack: str
    operation: Operation
    exit_code: ExitCode = ExitCode.OK
    refresh_changes: dict[str, int] | None = None
    changes: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    parallel: int | None = None
    after: list[str] = field(default_factory=list)
    """What ran after a successful up (the new ARC routing controls On, fleet:dns.arcRuntime written)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "operation": self.operation,
            "result": RESULTS.get(self.exit_code, "failed"),
            "exitCode": int(self.exit_code),
            "refreshChanges": self.refresh_changes,
            "changes": self.changes,
            "changed": sum(count for op, count in self.changes.items() if op != "same"),
            # Names only: values may be secrets, and a CI log is not the place for them.
            "outputs": self.outputs,
            "after": self.after,
            "parallel": self.parallel,
            "error": self.error,
        }


def _counts(op_map: Mapping[Any, int] | None) -> dict[str, int]:
    # Preview summaries key by OpType, history summaries by plain strings.
    return {str(getattr(op, "value", op)): int(count) for op, count in sorted((op_map or {}).items(), key=lambda kv: str(kv[0]))}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _stderr_tail(error: auto.CommandError) -> str:
    # CommandError keeps only str(CommandResult): "code: ... stdout: ... stderr: ...".
    text = str(error)
    marker = "\n stderr: "
    return _last_line(text[text.rfind(marker) + len(marker) :] if marker in text else text)


def lock_message(stack: str, error: auto.CommandError) -> str:
    detail = _stderr_tail(error)
    return (
        f"stack {stack} is locked: another update is in progress ({detail}). "
        "Wait for it to finish; if it died, clear the lock with `pulumi cancel` (Pulumi Cloud) "
        "or by deleting the stack's file under .pulumi/locks/ in a self-managed backend, then run again."
    )


def _cli_too_old(stack: DeployableStack) -> str | None:
    """Why the workspace's Pulumi CLI cannot run this program's deploys, if it cannot."""
    try:
        version = getattr(getattr(stack, "workspace", None), "pulumi_version", None)
    except Exception:  # InvalidVersionError when the version check is skipped and unreadable: the engine decides
        return None
    parsed = pulumi_engine.cli_version(str(version)) if version else None
    if parsed is None or parsed >= pulumi_engine.MIN_CLI_VERSION:
        return None
    needed = ".".join(map(str, pulumi_engine.MIN_CLI_VERSION))
    return f"the Pulumi CLI on PATH is {version}; these deploys need {needed} or newer (docs/deploy.md): upgrade it and run again"


def deploy(
    request: DeployRequest,
    open_stack: StackOpener = select_stack,
    progress: Progress | None = None,
) -> DeploySummary:
    """Run one deploy and say how it went; never raises for an engine failure."""
    stream: Progress = progress if progress is not None else sys.stderr
    summary = DeploySummary(request.stack, request.operation)
    env = {"PULUMI_BACKEND_URL": request.backend_url} if request.backend_url else {}

    def echo(line: str) -> None:
        stream.write(line if line.endswith("\n") else line + "\n")

    packs = [str(path) for path in request.policy_packs]
    arc_output: Mapping[str, Any] | None = None
    summary.parallel = request.parallel
    steps: dict[str, Any] = {"parallel": request.parallel} if request.parallel else {}
    config: dict[str, Any] = {"config_file": request.config_file} if request.config_file else {}
    try:
        stack = open_stack(request.stack, ROOT, env)
        if (too_old := _cli_too_old(stack)) is not None:
            return _failed(summary, ExitCode.FAILED, too_old)
        if request.refresh:
            refreshed = stack.refresh(on_output=echo, message=request.message, **config)
            summary.refresh_changes = _counts(refreshed.summary.resource_changes)
        if request.operation == "up":
            created = CreatedControls()
            result = stack.up(
                on_output=echo, diff=True, policy_packs=packs, message=request.message, on_event=created, **steps, **config
            )
            summary.changes = _counts(result.summary.resource_changes)
            summary.outputs = sorted(result.outputs)
            arc_output = result.outputs["arc"].value if "arc" in result.outputs else None
        else:
            acting = ActingRoleUpdates()
            preview = stack.preview(
                on_output=echo, diff=True, policy_packs=packs, message=request.message, on_event=acting, **steps, **config
            )
            summary.changes = acting.discount(_counts(preview.change_summary))
    except auto.ConcurrentUpdateError as error:
        return _failed(summary, ExitCode.LOCKED, lock_message(request.stack, error))
    except auto.StackNotFoundError as error:
        hint = (
            f"stack {request.stack} does not exist in this backend ({_stderr_tail(error)}); create it with `pulumi stack init`."
        )
        return _failed(summary, ExitCode.STACK_NOT_FOUND, hint)
    except auto.CommandError as error:
        return _failed(summary, ExitCode.FAILED, f"{request.operation} of {request.stack} failed: {_stderr_tail(error)}")
    except FileNotFoundError as error:
        # The Automation API runs the `pulumi` CLI; without it nothing can be selected or deployed.
        missing = error.filename or "pulumi"
        return _failed(
            summary,
            ExitCode.NO_CLI,
            f"the Pulumi CLI ({missing}) is not on PATH: install it (https://www.pulumi.com/docs/install/) and run again",
        )
    except Exception as error:
        return _failed(
            summary, ExitCode.FAILED, f"{request.operation} of {request.stack} failed: {type(error).__name__}: {error}"
        )
    if arc_output:
        try:
            summary.after = _settle_arc(stack, created.arns, arc_output)
        except Exception as error:  # ARC or the config write: the up itself went through
            return _failed(
                summary,
                ExitCode.FAILED,
                f"up of {request.stack} succeeded, then {type(error).__name__}: {error}; set the controls with "
                f"`python -m deploy failover --stack {request.stack} --normal` once fleet:dns.arcRuntime is in the stack file",
            )
    if request.expect_no_changes and any(op != "same" and count for op, count in summary.changes.items()):
        summary.exit_code = ExitCode.CHANGES_PENDING
        summary.error = f"{request.stack} has changes pending: the stack differs from its program (drift or an unapplied change)."
    return summary


# With fleet:account a preview acts as the read-only preview role and `up` as the deploy role
# (FleetSpec.acting_role): the explicit providers' role inputs differ between the two by design, and
# Pulumi counts each as an update of the provider (default providers' steps are internal; explicit
# ones are not: pulumi/pulumi pkg/engine/update.go isInternalStep). Such an update changes no
# resource, so drift checks (--expect-no-changes) leave it out; any other change still counts.
ACTING_ROLE_KEYS = {"assumeRoles", "kubeconfig"}


class ActingRoleUpdates:
    """Collects the preview's provider updates that only swap the role the program acts as."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None or pre.metadata.op != auto.OpType.UPDATE or not pre.metadata.type.startswith("pulumi:providers:"):
            return
        diffs = set(pre.metadata.diffs or [])
        if diffs and diffs <= ACTING_ROLE_KEYS:
            self.count += 1

    def discount(self, changes: dict[str, int]) -> dict[str, int]:
        if not self.count or "update" not in changes:
            return changes
        changes = dict(changes)
        moved = min(self.count, changes["update"])
        changes["update"] -= moved
        changes["same"] = changes.get("same", 0) + moved
        if not changes["update"]:
            del changes["update"]
        return changes


ROUTING_CONTROL = "aws:route53recoverycontrol/routingControl:RoutingControl"


class CreatedControls:
    """The ARNs of the ARC routing controls an update created, from its engine events."""

    def __init__(self) -> None:
        self.arns: set[str] = set()

    def __call__(self, event: auto.EngineEvent) -> None:
        done = event.res_outputs_event
        if done is None or done.metadata.type != ROUTING_CONTROL:
            return
        if done.metadata.op in (auto.OpType.CREATE, auto.OpType.CREATE_REPLACEMENT) and done.metadata.new is not None:
            arn = (done.metadata.new.outputs or {}).get("arn")
            if arn:
                self.arns.add(str(arn))


def _settle_arc(stack: Any, created: set[str], arc_output: Mapping[str, Any]) -> list[str]:
    """The ARC routing controls the up created, On, and fleet:dns.arcRuntime as it now is
    (``stack``: the Automation API stack, which writes config)."""
    from deploy import failover  # only for stacks with fleet:dns.arc

    return failover.settle_after_up(stack, created, arc_output)


def _failed(summary: DeploySummary, code: ExitCode, message: str) -> DeploySummary:
    summary.exit_code, summary.error = code, message
    return summary
