"""``python -m deploy --stack <env>`` for an environment of cells: its rounds, cells side by side, a failed
cell stopping only itself. The workspace is faked (tests/test_deploy.py's FakeStack)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from deploy import cells as deploy_cells
from deploy.__main__ import main
from deploy.runner import DeployableStack, DeployRequest, ExitCode
from tests.reference_stacks import cells_project
from tests.test_deploy import FakeStack, opener

CELLS = ["prod.prod-eu", "prod.prod-us"]


def no_single_stack(environment: str, work_dir: Path, env: Mapping[str, str]) -> None:
    return None


def no_other_cells(work_dir: Path, env: Mapping[str, str]) -> list[str]:
    return ["mgmt", "prod.prod-eu", "prod.prod-us", "staging"]


def deploy_prod(
    open_stack: Any,
    operation: str = "up",
    read_state: Any = no_single_stack,
    list_stacks: Any = no_other_cells,
    progress: Any = None,
) -> deploy_cells.EnvironmentSummary:
    """prod's environment deploy with parallelism 8, the cells project, and the backend as given."""
    return deploy_cells.deploy_environment(
        DeployRequest(stack="prod", operation=operation),  # type: ignore[arg-type]
        open_stack,
        lambda s: 8,
        root=cells_project(),
        progress=progress if progress is not None else io.StringIO(),
        read_state=read_state,
        list_stacks=list_stacks,
    )


# `pulumi stack export` of prod after the split into cells (offline/state_split.py): what stays behind.
MOVED_OUT = {
    "resources": [
        {"urn": "urn:pulumi:prod::fleet::pulumi:pulumi:Stack::fleet-prod", "type": "pulumi:pulumi:Stack"},
        {"urn": "urn:pulumi:prod::fleet::pulumi:providers:aws::aws-us-east-1", "type": "pulumi:providers:aws"},
        {"urn": "urn:pulumi:prod::fleet::fleet:index:GlobalTraffic::traffic", "type": "fleet:index:GlobalTraffic"},
        {"urn": "urn:pulumi:prod::fleet::pulumi:pulumi:StackReference::hub", "type": "pulumi:pulumi:StackReference"},
    ]
}
NOT_MOVED = {
    "resources": [
        *MOVED_OUT["resources"],
        {"urn": "urn:pulumi:prod::fleet::fleet:index:ClusterNetwork::prod-us-network", "type": "fleet:index:ClusterNetwork"},
    ]
}


class Opened:
    """Per cell its own fake stack; records what opened which, and how many ran at once."""

    def __init__(self, failing: Mapping[str, dict[str, str]] | None = None) -> None:
        self.failing = dict(failing or {})
        self.stacks: dict[str, list[FakeStack]] = {}
        self.lock = threading.Lock()

    def __call__(self, name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        stack = FakeStack(fail=self.failing.get(name))
        with self.lock:
            self.stacks.setdefault(name, []).append(stack)
        return stack


def run_environment(operation: str, opened: Opened, sizes: dict[str, int] | None = None) -> deploy_cells.EnvironmentSummary:
    sized: list[str] = []

    def parallel_for(stack: str) -> int:
        sized.append(stack)
        return (sizes or {}).get(stack, 16)

    summary = deploy_cells.deploy_environment(
        DeployRequest(stack="prod", operation=operation),  # type: ignore[arg-type]
        opened,
        parallel_for,
        root=cells_project(),
        progress=io.StringIO(),
        read_state=no_single_stack,
        list_stacks=no_other_cells,
    )
    assert sorted(set(sized)) == sorted({s.stack for r in summary.rounds for s in r})
    return summary


def test_an_up_runs_every_cell_then_the_clusterset_join_each_with_the_environments_file_and_its_own_parallelism() -> None:
    opened = Opened()
    summary = run_environment("up", opened, {"prod.prod-us": 32})
    assert [[s.stack for s in r] for r in summary.rounds] == [CELLS, CELLS]
    assert summary.exit_code is ExitCode.OK
    for name, stacks in opened.stacks.items():
        assert len(stacks) == 3  # created first, then its own round and the join
        for stack in stacks[1:]:
            ups = [kwargs for op, kwargs in stack.calls if op == "up"]
            assert [u["config_file"] for u in ups] == [str(cells_project() / "Pulumi.prod.yaml")]
            assert [u["parallel"] for u in ups] == [32 if name == "prod.prod-us" else 16]
            refreshes = [kwargs for op, kwargs in stack.calls if op == "refresh"]
            assert refreshes[0]["config_file"].endswith("Pulumi.prod.yaml")


def test_a_failed_cell_stops_only_itself_and_the_summary_names_it() -> None:
    opened = Opened({"prod.prod-us": {"up": "error: creating EKS cluster: AccessDenied"}})
    summary = run_environment("up", opened)
    assert summary.failed == ["prod.prod-us"]
    # The join round runs every clusterset cell: one more attempt of the failed cell's own stack.
    assert [[s.stack for s in r] for r in summary.rounds] == [CELLS, CELLS]
    assert summary.exit_code is ExitCode.FAILED
    document = summary.as_json()
    assert document["failed"] == ["prod.prod-us"]
    eu = next(s for s in document["rounds"][0] if s["stack"] == "prod.prod-eu")
    assert eu["result"] == "succeeded"


def test_a_member_that_waited_for_its_broker_in_the_first_round_joins_in_the_second() -> None:
    """After a move into cells a running member stops in the first round (its broker had no outputs yet)
    and goes through in the join round: the environment's deploy succeeds."""

    class OnceRefused(Opened):
        def __call__(self, name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
            first_time = name == "prod.prod-eu" and len(self.stacks.get(name, [])) == 1
            stack = FakeStack(fail={"up": "error: stack prod.prod-us exports no clustersetBroker"} if first_time else None)
            with self.lock:
                self.stacks.setdefault(name, []).append(stack)
            return stack

    summary = run_environment("up", OnceRefused())
    assert summary.failed == []
    assert summary.exit_code is ExitCode.OK


def test_an_up_creates_every_cells_stack_before_any_cell_runs() -> None:
    opened = Opened()
    run_environment("up", opened)
    # One open per cell to create it, then one per round.
    assert {name: len(stacks) for name, stacks in opened.stacks.items()} == {"prod.prod-eu": 3, "prod.prod-us": 3}
    assert all(not stacks[0].calls for stacks in opened.stacks.values())


def test_a_cell_whose_cluster_left_the_file_stops_the_environment_until_it_is_destroyed() -> None:
    opened = Opened()
    summary = deploy_prod(opened, list_stacks=lambda *_: ["prod.prod-eu", "prod.prod-us", "prod.prod-ap"])
    assert summary.error is not None
    assert summary.error.startswith("prod.prod-ap: a cell whose cluster has left Pulumi.prod.yaml")
    assert not opened.stacks


def test_a_preview_runs_the_first_round_only() -> None:
    opened = Opened()
    summary = run_environment("preview", opened)
    assert [[s.stack for s in r] for r in summary.rounds] == [CELLS]
    assert all(op != "up" for stacks in opened.stacks.values() for s in stacks for op, _ in s.calls)


def test_cells_of_a_round_run_side_by_side() -> None:
    barrier = threading.Barrier(len(CELLS), timeout=10)

    class Meeting(FakeStack):
        def up(self, **kwargs: Any) -> Any:
            barrier.wait()  # each cell's up waits for the other's: sequential runs would time out
            return super().up(**kwargs)

    def open_stack(name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        return Meeting()

    summary = deploy_prod(open_stack)
    assert summary.exit_code is ExitCode.OK


def test_each_cells_engine_output_is_prefixed_with_its_stack() -> None:
    out = io.StringIO()
    deploy_prod(Opened(), operation="preview", progress=out)
    lines = out.getvalue().splitlines()
    assert lines
    assert all(line.startswith(("[prod.prod-eu] ", "[prod.prod-us] ")) for line in lines)


def test_cells_at_once_is_refused_for_a_single_stack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "prod", "--cells-at-once", "4"], opener(FakeStack()), parallel_for=lambda s: 8) == 2
    assert "--cells-at-once is for an environment of cells" in capsys.readouterr().err


def test_the_environment_summary_is_json() -> None:
    summary = run_environment("up", Opened())
    document = json.loads(json.dumps(summary.as_json()))
    assert document["environment"] == "prod"
    assert document["result"] == "succeeded"
    assert [len(r) for r in document["rounds"]] == [2, 2]


@pytest.mark.parametrize("state", [None, MOVED_OUT])
def test_cells_deploy_once_the_single_stack_is_gone_or_holds_no_cloud_object(state: Any) -> None:
    summary = deploy_prod(Opened(), read_state=lambda *_: state)
    assert summary.exit_code is ExitCode.OK


def test_no_cell_deploys_while_the_single_stack_still_holds_what_the_cells_would_create_again() -> None:
    opened = Opened()
    summary = deploy_prod(opened, read_state=lambda *_: NOT_MOVED)
    assert summary.exit_code is ExitCode.FAILED
    assert summary.error is not None
    assert "still holds 1 resources" in summary.error
    assert "python -m deploy.move_into_cells --stack prod" in summary.error
    assert not opened.stacks


def test_an_unreadable_single_stack_stops_the_cells_too() -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("AccessDenied: s3:GetObject")

    opened = Opened()
    summary = deploy_prod(opened, read_state=broken)
    assert summary.error is not None
    assert "AccessDenied" in summary.error
    assert not opened.stacks


def test_the_workflows_cells_job_creates_each_missing_cell_once_and_refuses_one_left_behind() -> None:
    created: list[str] = []

    def open_stack(name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        created.append(name)
        return FakeStack()

    root = cells_project()
    assert deploy_cells.cells_left_behind("prod", root, {}, no_other_cells) is None
    assert deploy_cells.ensure_cell_stacks("prod", open_stack, root, {}) is None
    assert created == CELLS
    left = deploy_cells.cells_left_behind("prod", root, {}, lambda *_: [*CELLS, "prod.prod-ap", "staging"])
    assert left is not None
    assert left.startswith("prod.prod-ap: a cell whose cluster has left Pulumi.prod.yaml")
    assert "retiring: true" in left


def test_a_matrix_job_that_loses_the_race_to_create_a_cell_selects_it() -> None:
    from pulumi import automation as auto
    from pulumi.automation.errors import create_command_error

    attempts: list[str] = []

    def racing(name: str, work_dir: Path, env: Mapping[str, str]) -> DeployableStack:
        attempts.append(name)
        if attempts.count(name) == 1:
            error = create_command_error(auto.CommandResult("", f"error: stack '{name}' already exists", 255))
            assert isinstance(error, auto.StackAlreadyExistsError)
            raise error
        return FakeStack()

    assert deploy_cells.ensure_cell_stacks("prod", racing, cells_project(), {}) is None
    assert attempts == [CELLS[0], CELLS[0], CELLS[1], CELLS[1]]


def test_cells_of_a_single_stack_environment_need_nothing_created(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "prod", "--create-cells"], opener(FakeStack()), parallel_for=lambda s: 8) == 0
    assert "is one stack (no fleet:cells)" in capsys.readouterr().err
