"""``python -m deploy --stack STACK [--up] ...``: refresh, then preview or up, and print a JSON summary."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from deploy import cells, parallelism
from deploy.cells import EnvironmentSummary
from deploy.runner import DEFAULT_POLICY_PACK, ROOT, DeployRequest, DeploySummary, ExitCode, StackOpener, deploy, select_stack


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: at least 1 (the engine reads -1 as one step at a time and 0 as its default)")
    return value


def stack_name(stack: str) -> str:
    """``org/project/prod`` or ``prod``: the stack file's name part."""
    return stack.rsplit("/", 1)[-1]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deploy",
        description="Refresh a stack, then preview (default) or update it, with the policy pack; print a JSON summary on stdout.",
        epilog=(
            "Exit codes: 0 done, 1 failed, 2 usage, 3 stack locked by another update, 4 no such stack, "
            "5 changes pending (--expect-no-changes), 6 no Pulumi CLI on PATH, 8 an upgrade wave awaits approval. "
            "`python -m deploy upgrade|rollback|failover|status --help`: upgrade campaigns, rollbacks, ARC failover "
            "and the live status of every cluster (its exit codes: docs/operations.md)."
        ),
    )
    parser.add_argument("--stack", required=True, help="stack name, or org/project/stack")
    operation = parser.add_mutually_exclusive_group()
    operation.add_argument(
        "--preview", dest="operation", action="store_const", const="preview", help="show what would change (default)"
    )
    operation.add_argument("--up", dest="operation", action="store_const", const="up", help="apply the changes")
    parser.add_argument("--no-refresh", dest="refresh", action="store_false", help="skip the refresh before the operation")
    parser.add_argument(
        "--policy-pack", action="append", type=Path, help=f"policy pack directory (default: {DEFAULT_POLICY_PACK.name}/)"
    )
    parser.add_argument("--no-policy", action="store_true", help="run without any policy pack")
    parser.add_argument(
        "--backend-url", help="state backend (e.g. s3://bucket/prefix); default: PULUMI_BACKEND_URL or the logged-in backend"
    )
    parser.add_argument("--message", help="update message recorded in the stack's history")
    parser.add_argument("--expect-no-changes", action="store_true", help="exit 5 when the preview shows changes (drift checks)")
    parser.add_argument("--summary-file", type=Path, help="also write the JSON summary here")
    parser.add_argument(
        "--parallel",
        type=_positive,
        metavar="N",
        help=(
            "steps the engine runs at once for the preview or up (default: the smallest that brings the stack's "
            "simulated first up within 5%% of its critical path, from the engine's own default, at most 128; "
            "PULUMI_PARALLEL, when set, instead)"
        ),
    )
    parser.add_argument(
        "--cells-at-once",
        type=_positive,
        metavar="N",
        default=None,
        help="for an environment of cells (fleet:cells): cells of a round run at once (default: 8; each is a pulumi process)",
    )
    parser.add_argument(
        "--create-cells",
        action="store_true",
        help="for an environment of cells: create every cell's stack the backend lacks, check none is left behind, exit "
        "(the deploy workflow runs it once before the cells' matrix)",
    )
    parser.set_defaults(operation="preview")
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    open_stack: StackOpener = select_stack,
    parallel_for: Callable[[str], int | None] | None = None,
    read_state: cells.StateReader = cells.single_stack_state,
    list_stacks: cells.StackLister = cells.backend_stacks,
) -> int:
    from deploy import upgrade

    if (code := upgrade.dispatch(list(sys.argv[1:] if argv is None else argv))) is not None:
        return code
    args = parse_args(argv)
    packs: tuple[Path, ...] = () if args.no_policy else tuple(args.policy_pack or [DEFAULT_POLICY_PACK])
    sizing = parallel_for or parallelism.for_stack
    request = DeployRequest(
        stack=args.stack,
        operation=args.operation,
        refresh=args.refresh,
        policy_packs=packs,
        message=args.message,
        backend_url=args.backend_url,
        expect_no_changes=args.expect_no_changes,
        parallel=args.parallel,
    )
    summary: DeploySummary | EnvironmentSummary
    if args.create_cells:
        environment = stack_name(args.stack)
        if not cells.is_celled(environment):
            print(
                f"python -m deploy: --create-cells: {environment} is one stack (no fleet:cells): nothing to create",
                file=sys.stderr,
            )
            return 0
        env = {"PULUMI_BACKEND_URL": args.backend_url} if args.backend_url else {}
        opener = cells.create_or_select_stack if open_stack is select_stack else open_stack
        refused = cells.cells_left_behind(environment, ROOT, env, list_stacks) or cells.ensure_cell_stacks(
            environment, opener, ROOT, env
        )
        if refused is not None:
            print(f"error: {refused}", file=sys.stderr)
            return int(ExitCode.FAILED)
        return 0
    if cells.is_celled(stack_name(args.stack)):
        # An up creates a new cell's stack (a cluster just added to the file); a preview never writes the backend.
        up_default = open_stack is select_stack and args.operation == "up"
        opener = cells.create_or_select_stack if up_default else open_stack
        summary = cells.deploy_environment(
            dataclasses.replace(request, stack=stack_name(args.stack)),
            opener,
            sizing,
            cells_at_once=args.cells_at_once or cells.DEFAULT_CELLS_AT_ONCE,
            read_state=read_state,
            list_stacks=list_stacks,
        )
        if summary.error:
            print(f"error: {summary.error}", file=sys.stderr)
        for failed in summary.failed:
            print(f"error: cell {failed} failed (its summary is in the JSON); the other cells went on", file=sys.stderr)
    else:
        if (celled := cells.environment_of_cell(stack_name(args.stack))) is not None:
            # One cell (a CI matrix job): its environment's file is its config.
            request = dataclasses.replace(request, config_file=str(ROOT / f"Pulumi.{celled}.yaml"))
            env = {"PULUMI_BACKEND_URL": args.backend_url} if args.backend_url else {}
            refused = cells.not_moved_yet(celled, args.backend_url, ROOT, read_state) or cells.cells_left_behind(
                celled, ROOT, env, list_stacks
            )
            if refused is not None:
                print(f"error: {refused}", file=sys.stderr)
                return int(ExitCode.FAILED)
            if args.operation == "up" and open_stack is select_stack:
                # Its own stack only: the workflow's cells job created every cell's before the matrix.
                open_stack = cells.create_or_select_stack
        if args.cells_at_once is not None:
            print("python -m deploy: --cells-at-once is for an environment of cells (fleet:cells)", file=sys.stderr)
            return 2
        request = dataclasses.replace(
            request, parallel=args.parallel if args.parallel is not None else sizing(stack_name(args.stack))
        )
        summary = deploy(request, open_stack)
        if summary.error:
            print(f"error: {summary.error}", file=sys.stderr)
    document = json.dumps(summary.as_json(), indent=2, sort_keys=True)
    print(document)
    if args.summary_file is not None:
        try:
            args.summary_file.write_text(document + "\n")
        except OSError as exc:
            print(f"error: cannot write the summary to {args.summary_file}: {exc.strerror}", file=sys.stderr)
            return int(summary.exit_code) or int(ExitCode.FAILED)
    return int(summary.exit_code)


if __name__ == "__main__":
    sys.exit(main())
